import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { testRuntime } from './helpers/gl.js';
import { expectTensorClose } from './helpers/compare.js';
import { Rng } from '../src/util/random.js';
import { ShapeError } from '../src/runtime/errors.js';
import { decodeBodyModel } from '../src/smpl/format.js';
import { GpuBodyModel } from '../src/smpl/gpu/model.js';
import { smplForward } from '../src/smpl/gpu/layer.js';
import { NBF_PARTS, type BodyModel } from '../src/smpl/types.js';
import { atlasLayout, facesForFlatLabels, MeshRenderer } from '../src/render/renderer.js';
import { depthMap, partColourMap, partLabelMap } from '../src/render/maps.js';
import { classOfCode, encodeVertexLabel, GRANULARITIES, partPalette } from '../src/render/parts.js';
import { partColourMapRef, partLabelMapRef, rasteriseLayersRef, rasteriseRef, type RefCamera } from '../src/render/render.ref.js';
import type { Runtime } from '../src/runtime/runtime.js';

const rng = new Rng(606);
const openModel: BodyModel = decodeBodyModel(new Uint8Array(readFileSync('weights/nbf-open-body.nbfm')), 'weights/nbf-open-body.nbfm');

type MeshLike = Pick<BodyModel, 'name' | 'vertexCount' | 'faces' | 'parts24' | 'parts12'>;

/** Random triangles in front of the camera, random labels. */
function randomMesh(faces: number): { mesh: MeshLike; positions: (n: number) => Float64Array } {
  const V = faces * 3;
  const parts24 = Uint8Array.from({ length: V }, () => rng.int(0, 23));
  const parts12 = Uint8Array.from({ length: V }, () => rng.int(1, 12));
  const mesh = { name: 'random triangles', vertexCount: V, faces: Uint32Array.from({ length: V }, (_, i) => i), parts24, parts12 };
  const positions = (n: number) => {
    const p = new Float64Array(n * V * 3);
    for (let b = 0; b < n; b++) {
      for (let f = 0; f < faces; f++) {
        const c = [rng.uniform(-0.8, 0.8), rng.uniform(-0.8, 0.8), rng.uniform(4, 8)];
        for (let k = 0; k < 3; k++) {
          const at = ((b * V) + 3 * f + k) * 3;
          p[at] = c[0] + rng.uniform(-0.5, 0.5);
          p[at + 1] = c[1] + rng.uniform(-0.5, 0.5);
          p[at + 2] = c[2] + rng.uniform(-0.6, 0.6);
        }
      }
    }
    return p;
  };
  return { mesh, positions };
}

/** GPU G-buffer vs the CPU rasteriser: label codes agree on all but edge pixels, depth to 1e-5. */
function compareWithReference(rt: Runtime, renderer: MeshRenderer, vertices: Float32Array, cams: RefCamera[], W: number, H: number, minAgreement: number): void {
  const N = cams.length;
  const V = renderer.vertexCount;
  rt.scope(() => {
    const camera = rt.tensor(cams.flatMap((c) => [c.fx, c.fy, c.cx, c.cy]), [N, 4]);
    const gbuffer = renderer.render(rt.tensor(vertices, [N, V, 3]), camera, { width: W, height: H });
    expect([...gbuffer.shape]).toEqual([N, H, W, 4]);
    const got = gbuffer.readSync();
    for (let n = 0; n < N; n++) {
      const want = rasteriseRef(vertices.subarray(n * V * 3, (n + 1) * V * 3), renderer.faces, renderer.vertexLabels, cams[n], W, H);
      let agree = 0;
      let covered = 0;
      let bodyAgree = 0;
      let depthOk = 0;
      let normalOk = 0;
      for (let p = 0; p < W * H; p++) {
        const g = 4 * (n * W * H + p);
        if (want[4 * p] !== 0) covered++;
        if (got[g] !== want[4 * p]) continue;
        agree++;
        if (want[4 * p] === 0) {
          expect(got[g + 1]).toBe(0);
          continue;
        }
        bodyAgree++;
        if (Math.abs(got[g + 1] - want[4 * p + 1]) <= 1e-5 * want[4 * p + 1]) depthOk++;
        if (Math.abs(got[g + 2] - want[4 * p + 2]) < 1e-2 && Math.abs(got[g + 3] - want[4 * p + 3]) < 1e-2) normalOk++;
      }
      expect(covered).toBeGreaterThan(0.02 * W * H);
      expect(agree / (W * H)).toBeGreaterThanOrEqual(minAgreement);
      // Where the labels agree, depth agrees to float32 precision (the exceptions: a neighbouring face
      // of the same label winning a tie on a shared edge); normals come from screen-space derivatives.
      expect(depthOk / bodyAgree).toBeGreaterThan(0.995);
      expect(normalOk / bodyAgree).toBeGreaterThan(0.98);
    }
  });
}

describe('atlas layout', () => {
  it('fits every tile inside the texture for many batch sizes and image sizes', () => {
    for (const [n, w, h] of [[1, 224, 224], [16, 224, 224], [16, 512, 512], [5, 37, 29], [33, 64, 64], [7, 3, 250]]) {
      const a = atlasLayout(n, w, h, 16384);
      expect(a.tilesX * w).toBeLessThanOrEqual(a.textureWidth);
      expect(a.tilesY * h).toBeLessThanOrEqual(a.textureHeight);
      expect(a.tilesX * a.tilesY).toBeGreaterThanOrEqual(n);
      expect(a.textureWidth * a.textureHeight).toBeGreaterThanOrEqual(a.texels);
    }
  });
  it('names the problem when the bodies do not fit one texture', () => {
    expect(() => atlasLayout(64, 4096, 4096, 16384)).toThrow(/64 images of 4096×4096 do not fit/);
  });
});

describe('flat labels', () => {
  it('rotates each face so its last (provoking) vertex carries the majority label, keeping the winding', () => {
    const labels = [1, 1, 2, 3, 3, 3];
    const faces = Uint32Array.from([0, 2, 1, 2, 0, 3, 3, 4, 5]);
    const out = facesForFlatLabels(faces, labels);
    expect(Array.from(out.subarray(0, 3))).toEqual([2, 1, 0]);
    expect(Array.from(out.subarray(3, 6))).toEqual([2, 0, 3]); // three labels: left as it is
    expect(Array.from(out.subarray(6, 9))).toEqual([4, 5, 3]);
    // Cyclic rotations only: the winding (orientation) is unchanged.
    for (let f = 0; f < 9; f += 3) {
      const a = Array.from(faces.subarray(f, f + 3)).join(',');
      const rotations = [0, 1, 2].map((r) => [0, 1, 2].map((k) => out[f + ((k + r) % 3)]).join(','));
      expect(rotations).toContain(a);
    }
  });
});

describe('mesh renderer against the CPU rasteriser', () => {
  it('random triangles, batch 5, odd non-square size 37×29, depth test by nearest surface', () => {
    const rt = testRuntime();
    const { mesh, positions } = randomMesh(40);
    const renderer = new MeshRenderer(rt, mesh);
    const cams = Array.from({ length: 5 }, () => ({ fx: rng.uniform(30, 60), fy: rng.uniform(30, 60), cx: rng.uniform(15, 22), cy: rng.uniform(12, 17) }));
    compareWithReference(rt, renderer, Float32Array.from(positions(5)), cams, 37, 29, 0.995);
    renderer.dispose();
  });

  it('the open body model posed by the GPU SMPL layer, batch 3 at 224 and 1 at 64', () => {
    const rt = testRuntime();
    const gpu = GpuBodyModel.upload(rt, openModel);
    const renderer = new MeshRenderer(rt, openModel);
    for (const [N, S] of [[3, 224], [1, 64]]) {
      const pose = new Float32Array(N * 72);
      for (let n = 0; n < N; n++) {
        pose[n * 72] = Math.PI;
        for (let i = 3; i < 72; i++) pose[n * 72 + i] = rng.normal(0, 0.25);
      }
      const trans = Float32Array.from({ length: N * 3 }, (_, i) => (i % 3 === 2 ? 22 : rng.uniform(-0.1, 0.1)));
      const vertices = rt.scope(() =>
        smplForward(gpu, { betas: rt.tensor(rng.uniformArray(N * 10, -1, 1), [N, 10]), pose: rt.tensor(pose, [N, 72]), trans: rt.tensor(trans, [N, 3]) }).vertices.readSync());
      const f = (5000 * S) / 512;
      compareWithReference(rt, renderer, vertices, Array.from({ length: N }, () => ({ fx: f, fy: f, cx: S / 2, cy: S / 2 })), S, S, 0.999);
    }
    renderer.dispose();
    gpu.dispose();
  });

  it('the nearer of two overlapping triangles wins whatever the draw order', () => {
    const rt = testRuntime();
    const mesh: MeshLike = {
      name: 'two triangles', vertexCount: 6, faces: Uint32Array.from([0, 1, 2, 3, 4, 5]),
      parts24: Uint8Array.from([3, 3, 3, 7, 7, 7]), parts12: Uint8Array.from([2, 2, 2, 5, 5, 5]),
    };
    const renderer = new MeshRenderer(rt, mesh);
    const tri = (z: number) => [-1, -1, z, 1, -1, z, 0, 1, z];
    for (const [first, second] of [[5, 3], [3, 5]]) {
      rt.scope(() => {
        const v = rt.tensor([...tri(first), ...tri(second)], [1, 6, 3]);
        const gbuffer = renderer.render(v, rt.tensor([10, 10, 8, 8], [1, 4]), { width: 16, height: 16 });
        const g = gbuffer.readSync();
        const centre = 4 * (8 * 16 + 8);
        const nearLabel = first < second ? encodeVertexLabel(3, 2) : encodeVertexLabel(7, 5);
        expect(g[centre]).toBe(nearLabel);
        expect(g[centre + 1]).toBeCloseTo(3, 5);
        // The face is parallel to the image: its normal points straight at the camera.
        expect(g[centre + 2]).toBeCloseTo(0, 5);
        expect(g[centre + 3]).toBeCloseTo(0, 5);
      });
    }
    renderer.dispose();
  });
});

/**
 * renderLayers vs render() and the CPU rasteriser: the G-buffer is render()'s exactly; the surface
 * buffer covers exactly the G-buffer's pixels (1 in .w, all 0 elsewhere) and, where the labels agree
 * with the reference, holds its perspective-correct rest positions. Returns the worst errors seen.
 */
function compareSurface(rt: Runtime, renderer: MeshRenderer, rest: ArrayLike<number>, vertices: Float32Array, cams: RefCamera[], W: number, H: number): number[] {
  const N = cams.length;
  const V = renderer.vertexCount;
  const errors: number[] = [];
  rt.scope(() => {
    const camera = rt.tensor(cams.flatMap((c) => [c.fx, c.fy, c.cx, c.cy]), [N, 4]);
    const v = rt.tensor(vertices, [N, V, 3]);
    const { gbuffer, surface } = renderer.renderLayers(v, camera, { width: W, height: H });
    expect([...surface.shape]).toEqual([N, H, W, 4]);
    const g = gbuffer.readSync();
    const plain = renderer.render(v, camera, { width: W, height: H }).readSync();
    expect(Buffer.from(g.buffer).equals(Buffer.from(plain.buffer))).toBe(true);
    const s = surface.readSync();
    for (let n = 0; n < N; n++) {
      const want = rasteriseLayersRef(vertices.subarray(n * V * 3, (n + 1) * V * 3), renderer.faces, renderer.vertexLabels, rest, cams[n], W, H);
      let agree = 0;
      let close = 0;
      let covered = 0;
      for (let p = 0; p < W * H; p++) {
        const at = 4 * (n * W * H + p);
        if (g[at] === 0) {
          expect([s[at], s[at + 1], s[at + 2], s[at + 3]]).toEqual([0, 0, 0, 0]);
          continue;
        }
        covered++;
        expect(s[at + 3]).toBe(1);
        if (g[at] !== want.gbuffer[4 * p] || Math.abs(g[at + 1] - want.gbuffer[4 * p + 1]) > 1e-5 * want.gbuffer[4 * p + 1]) continue;
        agree++;
        const err = Math.max(...[0, 1, 2].map((k) => Math.abs(s[at + k] - want.surface[4 * p + k])));
        errors.push(err);
        if (err <= 1e-4) close++;
      }
      expect(covered).toBeGreaterThan(0.02 * W * H);
      expect(agree / covered).toBeGreaterThan(0.98);
      expect(close / agree).toBeGreaterThan(0.99);
    }
  });
  return errors.sort((a, b) => a - b);
}

describe('surface buffer (rest-pose positions) against the CPU rasteriser', () => {
  it('random triangles with random rest positions, batch 5, odd non-square size 37×29', () => {
    const rt = testRuntime();
    const { mesh, positions } = randomMesh(40);
    const rest = rng.uniformArray(mesh.vertexCount * 3, -1, 1);
    const renderer = new MeshRenderer(rt, { ...mesh, vTemplate: rest });
    const cams = Array.from({ length: 5 }, () => ({ fx: rng.uniform(30, 60), fy: rng.uniform(30, 60), cx: rng.uniform(15, 22), cy: rng.uniform(12, 17) }));
    const errors = compareSurface(rt, renderer, rest, Float32Array.from(positions(5)), cams, 37, 29);
    // Rest positions span [−1, 1]: float32 interpolation (measured: median 7e-7, worst 1.1e-5).
    expect(errors[Math.floor(errors.length / 2)]).toBeLessThan(1e-5);
    renderer.dispose();
  });

  it('the open body model posed by the GPU SMPL layer, batch 2 at 61×77; texture coordinates follow the body', () => {
    const rt = testRuntime();
    const gpu = GpuBodyModel.upload(rt, openModel);
    const renderer = new MeshRenderer(rt, openModel);
    const N = 2;
    const [W, H] = [61, 77];
    const pose = new Float32Array(N * 72);
    for (let n = 0; n < N; n++) {
      // Rx(π): upright, facing the camera; Rz(π) = Rx(π)·Ry(π): upright, its back to the camera.
      pose[n * 72 + (n === 0 ? 0 : 2)] = Math.PI;
      for (let i = 3; i < 72; i++) pose[n * 72 + i] = rng.normal(0, 0.2);
    }
    const trans = Float32Array.from([0, 0.1, 20, 0.05, 0.1, 21]);
    const vertices = rt.scope(() =>
      smplForward(gpu, { betas: rt.tensor(rng.uniformArray(N * 10, -1, 1), [N, 10]), pose: rt.tensor(pose, [N, 72]), trans: rt.tensor(trans, [N, 3]) }).vertices.readSync());
    const f = (5000 * H) / 512;
    const cams = Array.from({ length: N }, () => ({ fx: f, fy: f, cx: W / 2, cy: H / 2 }));
    const errors = compareSurface(rt, renderer, openModel.vTemplate, vertices, cams, W, H);
    expect(errors[Math.floor(0.99 * errors.length)]).toBeLessThan(2e-5); // measured 9e-7 (worst 1.3e-4)
    // The rest position tells front from back: z > 0 (the front) on most of the first body's pixels,
    // z < 0 on most of the turned one's; head pixels have rest heights of the template's head.
    rt.scope(() => {
      const { gbuffer, surface } = renderer.renderLayers(rt.tensor(vertices, [N, renderer.vertexCount, 3]), rt.tensor(cams.flatMap((c) => [c.fx, c.fy, c.cx, c.cy]), [N, 4]), { width: W, height: H });
      const g = gbuffer.readSync();
      const s = surface.readSync();
      for (let n = 0; n < N; n++) {
        let front = 0;
        let back = 0;
        for (let p = n * W * H; p < (n + 1) * W * H; p++) {
          if (g[4 * p] === 0) continue;
          if (s[4 * p + 2] > 0) front++;
          else back++;
          if (classOfCode(g[4 * p], 24) === 16) expect(s[4 * p + 1]).toBeGreaterThan(0.5); // head: rest y 0.54–0.8
        }
        if (n === 0) expect(front).toBeGreaterThan(2 * back);
        else expect(back).toBeGreaterThan(2 * front);
      }
    });
    renderer.dispose();
    gpu.dispose();
  });

  it('needs template positions of the right size', () => {
    const rt = testRuntime();
    const { mesh } = randomMesh(3);
    const renderer = new MeshRenderer(rt, mesh);
    expect(renderer.restPositions).toBe(null);
    expect(() => renderer.renderLayers(rt.zeros([1, 9, 3]), rt.fill([1, 4], 10), { width: 8, height: 8 })).toThrow(/no template positions/);
    renderer.dispose();
    expect(() => new MeshRenderer(rt, { ...mesh, vTemplate: new Float64Array(5) })).toThrow(/5 template coordinates for 9 vertices/);
  });
});

describe('label and colour maps', () => {
  it('class maps at every granularity and colour maps match the references exactly', () => {
    const rt = testRuntime();
    const gpu = GpuBodyModel.upload(rt, openModel);
    const renderer = new MeshRenderer(rt, openModel);
    rt.scope(() => {
      const N = 2;
      const S = 45;
      const pose = new Float32Array(N * 72);
      pose[0] = Math.PI;
      pose[72] = Math.PI;
      pose[73] = 1.2;
      const f = (5000 * S) / 512;
      const body = smplForward(gpu, { betas: rt.zeros([N, 10]), pose: rt.tensor(pose, [N, 72]), trans: rt.tensor([0, 0, 22, 0.05, 0, 21], [N, 3]) });
      const gbuffer = renderer.render(body.vertices, rt.tensor([f, f, S / 2, S / 2, f, f, S / 2, S / 2], [N, 4]), { width: S, height: S });
      const g = gbuffer.readSync();
      for (const gran of GRANULARITIES) {
        const labels = partLabelMap(gbuffer, gran);
        const wantLabels = partLabelMapRef(g, gran);
        expectTensorClose(labels, wantLabels, [N, S, S, 1], 0);
        const colours = partColourMap(labels, gran);
        expectTensorClose(colours, partColourMapRef(wantLabels, gran), [N, S, S, 3], 0);
        expectTensorClose(partColourMap(labels, gran, { scale: 2 / 255, offset: -1 }), partColourMapRef(wantLabels, gran, 2 / 255, -1), [N, S, S, 3], 1e-6);
        // Every body pixel has a class of this granularity; the background is class 0.
        const l = labels.readSync();
        const classes = new Set(Array.from(l));
        for (const c of classes) expect(c >= 0 && c <= gran).toBe(true);
        expect(classes.size).toBeGreaterThan(Math.min(gran, 3));
      }
      expectTensorClose(depthMap(gbuffer), Array.from({ length: N * S * S }, (_, p) => g[4 * p + 1]), [N, S, S, 1], 0);
    });
    renderer.dispose();
    gpu.dispose();
  });

  it('the 12-part palette is NBF\'s exactly, and colours and labels agree pixel by pixel', () => {
    const rt = testRuntime();
    expect(partPalette(12).map((c) => [...c])).toEqual(NBF_PARTS.map((p) => [...p.rgb]));
    expect(partPalette(12)[4]).toEqual([0, 134, 167]);
    rt.scope(() => {
      const classes = Array.from({ length: 39 }, (_, i) => i % 13);
      const labels = rt.tensor(classes, [3, 13, 1]);
      const rgb = partColourMap(labels, 12).readSync();
      classes.forEach((c, i) => expect([rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]]).toEqual([...NBF_PARTS[c].rgb]));
    });
  });

  it('granularity tables: 12 uses the model\'s labels; 6 and 3 group parts as documented; 1 is the silhouette', () => {
    expect(classOfCode(encodeVertexLabel(17, 4), 12)).toBe(4);
    expect(classOfCode(encodeVertexLabel(17, 4), 24)).toBe(18);
    expect(classOfCode(encodeVertexLabel(17, 4), 6)).toBe(3); // right shoulder → right arm
    expect(classOfCode(encodeVertexLabel(13, 9), 6)).toBe(2); // left collar → torso
    expect(classOfCode(encodeVertexLabel(15, 1), 3)).toBe(1); // head
    expect(classOfCode(encodeVertexLabel(4, 11), 3)).toBe(3); // knee → legs
    expect(classOfCode(encodeVertexLabel(22, 3), 1)).toBe(1);
    expect(classOfCode(0, 6)).toBe(0);
    expect(() => partLabelMap(testRuntime().zeros([1, 2, 2, 4]), 5 as never)).toThrow(/granularity 5/);
  });
});

/** Camera of a body: NBF focal length at size S, principal point at the centre. */
function nbfCamera(S: number): number[] {
  const f = (5000 * S) / 512;
  return [f, f, S / 2, S / 2];
}

describe('camera agrees with the SMPL layer projection', () => {
  it('limb midpoints projected with the SMPL layer camera land on pixels of that limb (A-pose, facing the camera)', () => {
    const rt = testRuntime();
    const gpu = GpuBodyModel.upload(rt, openModel);
    const renderer = new MeshRenderer(rt, openModel);
    const S = 256;
    const pose = new Float32Array(72);
    pose[0] = Math.PI; // facing the camera, upright in the image
    pose[16 * 3 + 2] = -0.9; // left arm down 50°
    pose[17 * 3 + 2] = 0.9; // right arm down
    pose[1 * 3 + 2] = 0.15; // legs apart
    pose[2 * 3 + 2] = -0.15;
    const limbs: [number, number, number][] = [
      [16, 18, 9], [18, 20, 3], [17, 19, 4], [19, 21, 10], [1, 4, 5], [2, 5, 6], [4, 7, 11], [5, 8, 12], [12, 15, 1],
    ];
    rt.scope(() => {
      const camera = rt.tensor(nbfCamera(S), [1, 4]);
      const body = smplForward(gpu, { betas: rt.zeros([1, 10]), pose: rt.tensor(pose, [1, 72]), trans: rt.tensor([0, 0.1, 24], [1, 3]), camera: { type: 'perspective', params: camera } });
      const labels = partLabelMap(renderer.render(body.vertices, camera, { width: S, height: S }), 12).readSync();
      const j2 = body.joints2d!.readSync();
      const j3 = body.joints.readSync();
      const [f, , c] = nbfCamera(S);
      for (const [a, b, want] of limbs) {
        const mid = [0, 1, 2].map((k) => (j3[3 * a + k] + j3[3 * b + k]) / 2);
        const u = (f * mid[0]) / mid[2] + c;
        const v = (f * mid[1]) / mid[2] + c;
        expect(labels[Math.floor(v) * S + Math.floor(u)], `midpoint of joints ${a}-${b}`).toBe(want);
      }
      // Joints themselves: the head joint is drawn as head, each 2D joint equals the projection of the 3D one.
      expect(labels[Math.floor(j2[31]) * S + Math.floor(j2[30])]).toBe(1);
      for (let j = 0; j < 24; j++) {
        expect(j2[2 * j]).toBeCloseTo((f * j3[3 * j]) / j3[3 * j + 2] + c, 2);
        expect(j2[2 * j + 1]).toBeCloseTo((f * j3[3 * j + 1]) / j3[3 * j + 2] + c, 2);
      }
    });
    renderer.dispose();
    gpu.dispose();
  });

  it('right arm raised: right-arm pixels reach above the right shoulder, the left arm stays below', () => {
    const rt = testRuntime();
    const gpu = GpuBodyModel.upload(rt, openModel);
    const renderer = new MeshRenderer(rt, openModel);
    const S = 128;
    const pose = new Float32Array(72);
    pose[0] = Math.PI;
    pose[17 * 3 + 2] = -1.4; // right shoulder: the arm (along −X) turns up
    pose[16 * 3 + 2] = -1.2; // left arm down
    rt.scope(() => {
      const camera = rt.tensor(nbfCamera(S), [1, 4]);
      const body = smplForward(gpu, { betas: rt.zeros([1, 10]), pose: rt.tensor(pose, [1, 72]), trans: rt.tensor([0, 0, 22], [1, 3]), camera: { type: 'perspective', params: camera } });
      const labels = partLabelMap(renderer.render(body.vertices, camera, { width: S, height: S }), 12).readSync();
      const j2 = body.joints2d!.readSync();
      const shoulderRow = j2[17 * 2 + 1];
      let rightArmAbove = 0;
      let leftArmAbove = 0;
      let rightHandTop = S;
      for (let y = 0; y < S; y++) {
        for (let x = 0; x < S; x++) {
          const l = labels[y * S + x];
          if ((l === 4 || l === 10) && y + 0.5 < shoulderRow - 5) rightArmAbove++;
          if ((l === 9 || l === 3) && y + 0.5 < shoulderRow - 5) leftArmAbove++;
          if (l === 10) rightHandTop = Math.min(rightHandTop, y);
        }
      }
      expect(rightArmAbove).toBeGreaterThan(30);
      expect(leftArmAbove).toBe(0);
      expect(rightHandTop).toBeLessThan(j2[15 * 2 + 1]); // the hand is above the head joint
      // The subject's right arm is on the image's left when facing the camera.
      expect(j2[21 * 2]).toBeLessThan(S / 2);
    });
    renderer.dispose();
    gpu.dispose();
  });
});

describe('renderer hygiene', () => {
  it('puts back the GL state it changes', () => {
    const rt = testRuntime();
    const gl = rt.gl;
    const renderer = new MeshRenderer(rt, openModel);
    const gpu = GpuBodyModel.upload(rt, openModel);
    rt.scope(() => {
      const vertices = smplForward(gpu, { betas: rt.zeros([2, 10]), pose: rt.tensor(new Float32Array(144).fill(0).map((_, i) => (i % 72 === 0 ? Math.PI : 0)), [2, 72]), trans: rt.tensor([0, 0, 20, 0, 0, 20], [2, 3]) }).vertices;
      const programBefore = gl.getParameter(gl.CURRENT_PROGRAM);
      gl.enable(gl.SCISSOR_TEST);
      gl.scissor(1, 2, 3, 4);
      gl.depthFunc(gl.GREATER);
      gl.clearColor(0.25, 0.5, 0.75, 1);
      const camera = rt.tensor([...nbfCamera(32), ...nbfCamera(32)], [2, 4]);
      gl.viewport(3, 4, 5, 6);
      const { atlas, layout } = renderer.renderAtlas(vertices, camera, { width: 32, height: 32 });
      expect(layout.tilesX * layout.tilesY).toBeGreaterThanOrEqual(2);
      expect(Array.from(gl.getParameter(gl.VIEWPORT) as Int32Array)).toEqual([3, 4, 5, 6]);
      expect(Array.from(gl.getParameter(gl.SCISSOR_BOX) as Int32Array)).toEqual([1, 2, 3, 4]);
      expect(gl.isEnabled(gl.SCISSOR_TEST)).toBe(true);
      expect(gl.isEnabled(gl.DEPTH_TEST)).toBe(false);
      expect(gl.getParameter(gl.DEPTH_FUNC)).toBe(gl.GREATER);
      expect(Array.from(gl.getParameter(gl.COLOR_CLEAR_VALUE) as Float32Array)).toEqual([0.25, 0.5, 0.75, 1]);
      expect(gl.getParameter(gl.FRAMEBUFFER_BINDING)).toBe(null);
      expect(gl.getParameter(gl.CURRENT_PROGRAM)).toBe(programBefore);
      gl.disable(gl.SCISSOR_TEST);
      // The atlas holds the two bodies in their tiles: render() gathers the same pixels.
      const gathered = renderer.render(vertices, camera, { width: 32, height: 32 }).readSync();
      const texels = rt.readTexels(atlas);
      const tex = atlas.texture;
      for (let n = 0; n < 2; n++) {
        const [tx, ty] = [n % layout.tilesX, Math.floor(n / layout.tilesX)];
        for (const [x, y] of [[16, 16], [16, 8], [3, 30]]) {
          const at = (ty * 32 + y) * tex.width + tx * 32 + x;
          expect(texels[4 * at]).toBe(gathered[4 * ((n * 32 + y) * 32 + x)]);
        }
      }
      // The two-pass draw (G-buffer, then surface with depth writes off) puts the depth state back too.
      gl.depthFunc(gl.GREATER);
      renderer.renderLayers(vertices, camera, { width: 32, height: 32 });
      expect(gl.getParameter(gl.DEPTH_WRITEMASK)).toBe(true);
      expect(gl.getParameter(gl.DEPTH_FUNC)).toBe(gl.GREATER);
      gl.depthFunc(gl.LESS);
      // The runtime still computes correctly after a render.
      expectTensorClose(rt.tensor([1, 2, 3], [3]), [1, 2, 3], [3]);
    });
    gpu.dispose();
    renderer.dispose();
  });

  it('leaks no tensors and rejects bad input with clear errors', () => {
    const rt = testRuntime();
    const renderer = new MeshRenderer(rt, openModel);
    const before = rt.memory();
    rt.scope(() => {
      const v = rt.zeros([2, openModel.vertexCount, 3]);
      expect(() => renderer.render(v, rt.zeros([3, 4]), { width: 8, height: 8 })).toThrow(ShapeError);
      expect(() => renderer.render(v, rt.zeros([2, 3]), { width: 8, height: 8 })).toThrow(/camera should be \[2, 4\]/);
      expect(() => renderer.render(rt.zeros([2, 5, 3]), rt.zeros([2, 4]), { width: 8, height: 8 })).toThrow(`vertices should be [N, ${openModel.vertexCount}, 3]`);
      expect(() => renderer.render(v, rt.zeros([2, 4]), { width: 0, height: 8 })).toThrow(/width 0/);
      renderer.render(v, rt.fill([2, 4], 10), { width: 8, height: 8 });
    });
    expect(rt.memory().tensors).toBe(before.tensors);
    expect(() => new MeshRenderer(rt, { ...openModel, faces: Uint32Array.from([0, 1, 99999]) })).toThrow(/faces\[2\] = 99999/);
    renderer.dispose();
    expect(() => renderer.render(rt.zeros([1, 1, 3]), rt.zeros([1, 4]), { width: 8, height: 8 })).toThrow(/after dispose/);
  });
});
