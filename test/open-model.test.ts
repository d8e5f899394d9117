/**
 * The committed open body model (weights/nbf-open-body.nbfm) and the generator that makes it.
 * CPU only: no WebGL context is needed.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { smplForward } from '../src/smpl/cpu-forward.js';
import { BodyModelError } from '../src/smpl/errors.js';
import { decodeBodyModel, validateBodyModel } from '../src/smpl/format.js';
import { buildBody } from '../src/smpl/open-model/body.js';
import { buildTemplateStage, DEFAULT_BUILD_OPTIONS, elbowsAndKneesBentPose, OPEN_MODEL_NAME, type TemplateStage } from '../src/smpl/open-model/build.js';
import { checkManifold, countSelfIntersections, labelComponents, signedVolume, signedVolumeAbout, vertexNeighbours } from '../src/smpl/open-model/mesh-check.js';
import { meanParams, sampleParams } from '../src/smpl/open-model/params.js';
import { rasterise } from '../src/smpl/open-model/raster.js';
import { applyRegressor } from '../src/smpl/open-model/regressor.js';
import { bindVertices, deformToParams } from '../src/smpl/open-model/shape-space.js';
import { diffuseWeights } from '../src/smpl/open-model/skinning.js';
import { SMPL_JOINT_NAMES, SMPL_PARENTS, type BodyModel } from '../src/smpl/types.js';
import { Rng } from '../src/util/random.js';

const MODEL_PATH = 'weights/nbf-open-body.nbfm';
const model: BodyModel = decodeBodyModel(new Uint8Array(readFileSync(MODEL_PATH)), MODEL_PATH);
const V = model.vertexCount;
const neighbours = vertexNeighbours(V, model.faces);

function jointOf(joints: ArrayLike<number>, name: (typeof SMPL_JOINT_NAMES)[number]): number[] {
  const j = SMPL_JOINT_NAMES.indexOf(name);
  return [joints[3 * j], joints[3 * j + 1], joints[3 * j + 2]];
}

function heightOf(positions: ArrayLike<number>): number {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 1; i < positions.length; i += 3) {
    lo = Math.min(lo, positions[i]);
    hi = Math.max(hi, positions[i]);
  }
  return hi - lo;
}

describe('committed open body model', () => {
  it('decodes, validates and has SMPL’s parameterisation', () => {
    expect(validateBodyModel(model, MODEL_PATH)).toBe(model);
    expect(model.name).toBe(OPEN_MODEL_NAME);
    expect(model.licence).toMatch(/MIT/);
    expect(V).toBeGreaterThanOrEqual(4000);
    expect(V).toBeLessThanOrEqual(10000);
    expect(model.jointCount).toBe(24);
    expect(model.shapeCount).toBe(10);
    expect(model.poseFeatureCount).toBe(207);
    expect(model.jointNames).toEqual([...SMPL_JOINT_NAMES]);
    expect([...model.parents]).toEqual([...SMPL_PARENTS]);
    expect(readFileSync(MODEL_PATH).length).toBeLessThanOrEqual(3 * 1024 * 1024);
  });

  it('holds no NaN or infinity anywhere', () => {
    for (const [key, array] of [['vTemplate', model.vTemplate], ['shapedirs', model.shapedirs], ['jRegressor.values', model.jRegressor.values], ['skin.weights', model.skin.weights]] as const) {
      const bad = array.findIndex((x) => !Number.isFinite(x));
      expect(bad, key).toBe(-1);
    }
  });

  it('is one closed, consistently oriented genus-0 manifold facing outwards', () => {
    const report = checkManifold(V, model.faces);
    expect(report).toEqual({ nonManifoldEdges: 0, misorientedEdges: 0, degenerateFaces: 0, euler: 2, components: 1, unusedVertices: 0 });
    // Counter-clockwise seen from outside ⇔ positive enclosed volume; an adult body is 40–120 litres.
    const litres = 1000 * signedVolume(model.vTemplate, model.faces);
    expect(litres).toBeGreaterThan(40);
    expect(litres).toBeLessThan(120);
  });

  it('does not intersect itself in the rest pose', () => {
    expect(countSelfIntersections(model.vTemplate, model.faces)).toBe(0);
  });

  it('stands upright, faces +Z, with the body’s left at +X, a plausible adult at β = 0', () => {
    const rest = smplForward(model);
    const stature = heightOf(rest.vertices);
    expect(stature).toBeGreaterThan(1.6);
    expect(stature).toBeLessThan(1.8);
    const J = rest.restJoints;
    expect(jointOf(J, 'head')[1]).toBeGreaterThan(jointOf(J, 'neck')[1]);
    expect(jointOf(J, 'neck')[1]).toBeGreaterThan(jointOf(J, 'spine3')[1]);
    expect(jointOf(J, 'spine3')[1]).toBeGreaterThan(jointOf(J, 'pelvis')[1]);
    expect(jointOf(J, 'pelvis')[1]).toBeGreaterThan(jointOf(J, 'left_knee')[1]);
    expect(jointOf(J, 'left_knee')[1]).toBeGreaterThan(jointOf(J, 'left_ankle')[1]);
    for (const side of ['shoulder', 'elbow', 'wrist', 'hip', 'knee', 'ankle'] as const) {
      expect(jointOf(J, `left_${side}`)[0], side).toBeGreaterThan(0.03);
      expect(jointOf(J, `right_${side}`)[0], side).toBeLessThan(-0.03);
      // Mirror symmetry of the skeleton (the generator is symmetric): within a millimetre.
      const l = jointOf(J, `left_${side}`);
      const r = jointOf(J, `right_${side}`);
      expect(Math.abs(l[0] + r[0]) + Math.abs(l[1] - r[1]) + Math.abs(l[2] - r[2])).toBeLessThan(1e-3);
    }
    // T-pose: arms horizontal; toes in front of the ankles (+Z).
    expect(Math.abs(jointOf(J, 'left_wrist')[1] - jointOf(J, 'left_shoulder')[1])).toBeLessThan(0.05);
    expect(jointOf(J, 'left_foot')[2]).toBeGreaterThan(jointOf(J, 'left_ankle')[2] + 0.05);
    // The nose is the front-most point of the head.
    let front = -Infinity;
    let frontY = 0;
    for (let v = 0; v < V; v++) {
      if (model.parts12[v] === 1 && model.vTemplate[3 * v + 2] > front) {
        front = model.vTemplate[3 * v + 2];
        frontY = model.vTemplate[3 * v + 1];
      }
    }
    expect(front).toBeGreaterThan(jointOf(J, 'head')[2] + 0.05);
    expect(frontY).toBeGreaterThan(jointOf(J, 'head')[1]);
  });

  it('has a shape space whose ±2σ bodies stay plausible', () => {
    for (let b = 0; b < 3; b++) {
      for (const s of [-2, 2]) {
        const betas = new Array(10).fill(0);
        betas[b] = s;
        const { vertices } = smplForward(model, { betas });
        const stature = heightOf(vertices);
        expect(stature, `β${b + 1} = ${s}`).toBeGreaterThan(1.4);
        expect(stature, `β${b + 1} = ${s}`).toBeLessThan(2.05);
        const litres = 1000 * signedVolume(vertices, model.faces);
        expect(litres, `β${b + 1} = ${s}`).toBeGreaterThan(30);
        expect(litres, `β${b + 1} = ${s}`).toBeLessThan(160);
      }
    }
    // The first component carries stature (the generator orients signs so).
    const tall = heightOf(smplForward(model, { betas: [2] }).vertices);
    const short = heightOf(smplForward(model, { betas: [-2] }).vertices);
    expect(tall - short).toBeGreaterThan(0.15);
  });

  it('has a sparse, affine, non-negative joint regressor', () => {
    const reg = model.jRegressor;
    for (let j = 0; j < 24; j++) {
      const count = reg.rowStart[j + 1] - reg.rowStart[j];
      expect(count, SMPL_JOINT_NAMES[j]).toBeGreaterThan(0);
      expect(count, SMPL_JOINT_NAMES[j]).toBeLessThanOrEqual(120);
      let sum = 0;
      for (let k = reg.rowStart[j]; k < reg.rowStart[j + 1]; k++) {
        expect(reg.values[k]).toBeGreaterThan(0);
        sum += reg.values[k];
      }
      expect(Math.abs(sum - 1), SMPL_JOINT_NAMES[j]).toBeLessThan(1e-5);
    }
  });

  it('has at most 4 smooth skinning influences per vertex, summing to 1', () => {
    const K = model.skin.influences;
    expect(K).toBeLessThanOrEqual(4);
    const dense = (v: number): Float64Array => {
      const w = new Float64Array(24);
      for (let k = 0; k < K; k++) w[model.skin.joints[v * K + k]] += model.skin.weights[v * K + k];
      return w;
    };
    let worstSum = 0;
    let worstJump = 0;
    for (let v = 0; v < V; v++) {
      const w = dense(v);
      worstSum = Math.max(worstSum, Math.abs(w.reduce((a, b) => a + b, 0) - 1));
      for (const u of neighbours[v]) {
        const x = dense(u);
        let jump = 0;
        for (let j = 0; j < 24; j++) jump += Math.abs(w[j] - x[j]);
        worstJump = Math.max(worstJump, jump);
      }
    }
    expect(worstSum).toBeLessThan(1e-5);
    // A hard seam (one-hot weights changing across an edge) would jump by 2.
    expect(worstJump).toBeLessThan(0.8);
  });

  it('labels every vertex, each NBF part one connected region on its own side', () => {
    expect(model.parts24.every((p) => p < 24)).toBe(true);
    expect(model.parts12.every((p) => p >= 1 && p <= 12)).toBe(true);
    const components = labelComponents(model.parts12, neighbours);
    expect([...components.keys()].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    for (const [part, sizes] of components) expect(sizes, `part ${part}`).toHaveLength(1);
    const meanX = (part: number): number => {
      let sum = 0;
      let n = 0;
      for (let v = 0; v < V; v++) if (model.parts12[v] === part) {
        sum += model.vTemplate[3 * v];
        n++;
      }
      return sum / n;
    };
    // Left = the subject's left = +X: (left, right) pairs of NBF classes.
    for (const [left, right] of [[3, 10], [9, 4], [5, 6], [11, 12]]) {
      expect(meanX(left), `part ${left}`).toBeGreaterThan(0.05);
      expect(meanX(right), `part ${right}`).toBeLessThan(-0.05);
    }
    // Skinning part and argmax weight agree for most vertices (labels come from the same segmentation).
    let agree = 0;
    const K = model.skin.influences;
    for (let v = 0; v < V; v++) {
      let best = 0;
      for (let k = 1; k < K; k++) if (model.skin.weights[v * K + k] > model.skin.weights[v * K + best]) best = k;
      if (model.skin.joints[v * K + best] === model.parts24[v]) agree++;
    }
    expect(agree / V).toBeGreaterThan(0.9);
  });

  it('keeps most of the limb volume when elbows and knees bend 90°', () => {
    const rest = smplForward(model);
    const bent = smplForward(model, { pose: elbowsAndKneesBentPose() });
    expect(signedVolume(bent.vertices, model.faces) / signedVolume(rest.vertices, model.faces)).toBeGreaterThan(0.95);
    for (const [name, radius] of [['left_elbow', 0.09], ['right_elbow', 0.09], ['left_knee', 0.12], ['right_knee', 0.12]] as const) {
      const j = SMPL_JOINT_NAMES.indexOf(name);
      const centre = rest.joints.subarray(3 * j, 3 * j + 3);
      const mask = new Uint8Array(model.faces.length / 3);
      for (let f = 0; f < mask.length; f++) {
        mask[f] = [0, 1, 2].every((c) => {
          const v = model.faces[3 * f + c];
          return Math.hypot(rest.vertices[3 * v] - centre[0], rest.vertices[3 * v + 1] - centre[1], rest.vertices[3 * v + 2] - centre[2]) <= radius;
        }) ? 1 : 0;
      }
      const ratio = signedVolumeAbout(bent.vertices, model.faces, bent.joints.subarray(3 * j, 3 * j + 3), mask) /
        signedVolumeAbout(rest.vertices, model.faces, centre, mask);
      expect(ratio, name).toBeGreaterThan(0.65);
      expect(ratio, name).toBeLessThan(1.1);
    }
  });
});

describe('open body generator', () => {
  let stage: TemplateStage;
  beforeAll(() => {
    stage = buildTemplateStage(DEFAULT_BUILD_OPTIONS);
  });

  it('regenerates the committed topology, labels and skinning bit for bit', () => {
    expect(stage.mesh.faces.length).toBe(model.faces.length);
    expect(Buffer.from(stage.mesh.faces.buffer).equals(Buffer.from(model.faces.buffer, model.faces.byteOffset, model.faces.byteLength))).toBe(true);
    expect([...stage.parts24]).toEqual([...model.parts24]);
    expect([...stage.parts12]).toEqual([...model.parts12]);
    const skin = diffuseWeights(stage.parts24, stage.neighbours, DEFAULT_BUILD_OPTIONS.weightDiffusion);
    expect([...skin.joints]).toEqual([...model.skin.joints]);
    // The file stores float32.
    expect([...skin.weights].map(Math.fround)).toEqual([...model.skin.weights].map(Math.fround));
  });

  it('produces a template without self-intersections, every vertex on the implicit surface', () => {
    expect(countSelfIntersections(stage.mesh.positions, stage.mesh.faces)).toBe(0);
    expect(checkManifold(stage.mesh.positions.length / 3, stage.mesh.faces).nonManifoldEdges).toBe(0);
  });

  it('regresses the skeleton of new, unseen bodies within a few millimetres', () => {
    const body = buildBody(stage.params);
    const binding = bindVertices(body, stage.mesh.positions);
    const rng = new Rng(987654321); // not the build's seed: these bodies were never used for fitting
    let sum = 0;
    let n = 0;
    let worst = 0;
    for (let s = 0; s < 12; s++) {
      const { positions, body: sample } = deformToParams(binding, sampleParams(rng));
      const predicted = applyRegressor(model.jRegressor, positions);
      sample.joints.forEach((joint, j) => {
        const e = Math.hypot(predicted[3 * j] - joint[0], predicted[3 * j + 1] - joint[1], predicted[3 * j + 2] - joint[2]);
        sum += e;
        n++;
        worst = Math.max(worst, e);
      });
    }
    expect(sum / n).toBeLessThan(0.005);
    expect(worst).toBeLessThan(0.02);
  });

  it('rejects out-of-range parameters, naming the parameter', () => {
    expect(() => buildBody({ ...meanParams(), stature: Number.NaN })).toThrow(BodyModelError);
    expect(() => buildBody({ ...meanParams(), armLength: 3 })).toThrow(/"armLength" is 3/);
  });
});

describe('mesh checks', () => {
  it('detect a hole, a flipped triangle and crossing triangles', () => {
    const faces = Array.from(model.faces);
    const holed = faces.slice(3);
    expect(checkManifold(V, holed).nonManifoldEdges).toBe(3);
    const flipped = faces.slice();
    [flipped[1], flipped[2]] = [flipped[2], flipped[1]];
    const report = checkManifold(V, flipped);
    expect(report.misorientedEdges).toBe(3);
    expect(report.nonManifoldEdges).toBe(0);
    // Two triangles piercing each other, sharing no vertex.
    const crossing = [0, 0, 0, 1, 0, 0, 0, 1, 0, 0.2, 0.2, -0.5, 0.2, 0.2, 0.5, 0.6, -0.4, 0];
    expect(countSelfIntersections(crossing, [0, 1, 2, 3, 4, 5])).toBe(1);
    const apart = crossing.map((x, i) => (i >= 9 && i % 3 === 0 ? x + 2 : x));
    expect(countSelfIntersections(apart, [0, 1, 2, 3, 4, 5])).toBe(0);
  });
});

describe('preview rasteriser', () => {
  it('fills a front-facing triangle, culls a back-facing one, and keeps the nearer surface', () => {
    const positions = [-0.5, -0.5, 0, 0.5, -0.5, 0, 0, 0.5, 0, /* behind, bigger: */ -1, -1, -0.5, 1, -1, -0.5, 0, 1, -0.5];
    const view = { width: 40, height: 40, yaw: 0, centre: [0, 0, 0] as [number, number, number], metresPerPixel: 0.05 };
    const rgb = [255, 0, 0, 0, 0, 255];
    const img = rasterise(positions, [0, 1, 2, 3, 4, 5], rgb, view);
    const at = (x: number, y: number): number[] => [...img.subarray(4 * (y * 40 + x), 4 * (y * 40 + x) + 3)];
    expect(at(20, 22)[0]).toBeGreaterThan(0); // the front triangle, red
    expect(at(20, 22)[2]).toBe(0);
    expect(at(4, 36)[2]).toBeGreaterThan(0); // only the back, bigger triangle covers this corner
    expect(at(0, 0)).toEqual([255, 255, 255]);
    const culled = rasterise(positions, [0, 2, 1], rgb, view); // clockwise on screen: seen from behind
    expect(culled.every((x) => x === 255)).toBe(true);
  });
});
