import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { encodeGlb } from '../src/io/glb.js';
import { partColors, vertexNormals } from '../src/io/mesh.js';
import { encodeObj } from '../src/io/obj.js';
import { ShapeError } from '../src/runtime/errors.js';
import { smplForward } from '../src/smpl/cpu-forward.js';
import { makeRandomBodyModel } from '../src/smpl/random-model.js';
import { NBF_PARTS } from '../src/smpl/types.js';

// gltf-validator ships no type declarations; require() keeps the test free of an ambient module file.
const validator = createRequire(import.meta.url)('gltf-validator') as {
  validateBytes(data: Uint8Array, options?: object): Promise<{ issues: { numErrors: number; numWarnings: number; messages: Array<{ code: string; message: string; severity: number; pointer?: string }> }; info: Record<string, unknown> }>;
};

/** A closed unit cube (8 vertices, 12 outward-facing triangles). */
function cube() {
  const positions = [0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 1, 0, 0, 0, 1, 1, 0, 1, 1, 1, 1, 0, 1, 1];
  const faces = [0, 2, 1, 0, 3, 2, 4, 5, 6, 4, 6, 7, 0, 1, 5, 0, 5, 4, 3, 6, 2, 3, 7, 6, 0, 4, 7, 0, 7, 3, 1, 2, 6, 1, 6, 5];
  return { positions, faces };
}

describe('vertex normals and part colours', () => {
  it('points octahedron normals along the vertex directions and gives isolated vertices +Y', () => {
    // Vertices ±X, ±Y, ±Z; one triangle per octant, ordered counter-clockwise seen from outside.
    const positions = [1, 0, 0, -1, 0, 0, 0, 1, 0, 0, -1, 0, 0, 0, 1, 0, 0, -1];
    const faces: number[] = [];
    for (const sx of [1, -1]) for (const sy of [1, -1]) for (const sz of [1, -1]) {
      const [a, b, c] = [sx > 0 ? 0 : 1, sy > 0 ? 2 : 3, sz > 0 ? 4 : 5];
      faces.push(...(sx * sy * sz > 0 ? [a, b, c] : [a, c, b]));
    }
    const n = vertexNormals([...positions, 5, 5, 5], faces);
    for (let i = 0; i < positions.length; i++) expect(n[i]).toBeCloseTo(positions[i], 12);
    expect(Array.from(n.subarray(18))).toEqual([0, 1, 0]);
    // A cube corner's normal points outwards (into the corner's octant).
    const c = cube();
    const cn = vertexNormals(c.positions, c.faces);
    for (let i = 0; i < 24; i++) expect(Math.sign(cn[i])).toBe(c.positions[i] > 0.5 ? 1 : -1);
  });

  it('colours vertices with NBF palette', () => {
    expect(Array.from(partColors([1, 12]))).toEqual([...NBF_PARTS[1].rgb, ...NBF_PARTS[12].rgb]);
    expect(() => partColors([13])).toThrow(/vertex 0 has part 13/);
  });
});

describe('OBJ export', () => {
  it('writes vertices, normals and 1-based faces in metres', () => {
    const { positions, faces } = cube();
    const text = encodeObj({ positions, faces, colors: new Array(24).fill(255) }, { comments: ['made by a test'] });
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toBe('# made by a test');
    expect(lines.filter((l) => l.startsWith('v ')).length).toBe(8);
    expect(lines.filter((l) => l.startsWith('vn ')).length).toBe(8);
    expect(lines.filter((l) => l.startsWith('f ')).length).toBe(12);
    expect(lines).toContain('v 1.000000 1.000000 1.000000 1.0000 1.0000 1.0000');
    expect(lines).toContain('f 1//1 3//3 2//2');
    expect(lines.find((l) => l.startsWith('vn '))).toMatch(/^vn -0\.\d+ -0\.\d+ -0\.\d+$/);
  });

  it('round-trips posed body vertices to 1 µm', () => {
    const m = makeRandomBodyModel(5);
    const r = smplForward(m, { pose: Array.from({ length: 72 }, (_, i) => Math.cos(i) * 0.3), trans: [0.1, -0.05, 0] });
    const text = encodeObj({ positions: r.vertices, faces: m.faces });
    const vs = text.split('\n').filter((l) => l.startsWith('v ')).flatMap((l) => l.split(' ').slice(1).map(Number));
    expect(vs.length).toBe(r.vertices.length);
    vs.forEach((x, i) => expect(Math.abs(x - r.vertices[i])).toBeLessThanOrEqual(5e-7));
    expect(text).not.toMatch(/ -0\.000000/);
  });

  it('rejects broken meshes with ShapeErrors', () => {
    expect(() => encodeObj({ positions: [0, 0, 0, 1, 1], faces: [] })).toThrow(/5 position values/);
    expect(() => encodeObj({ positions: [0, 0, 0], faces: [0, 0, 1] })).toThrow(/triangle 0 uses vertex 1, outside 0..0/);
    expect(() => encodeObj({ positions: [0, NaN, 0], faces: [] })).toThrow(ShapeError);
  });
});

describe('GLB export', () => {
  it('writes a binary glTF that the Khronos validator accepts without errors or warnings', async () => {
    const m = makeRandomBodyModel(6, { vertexCount: 41, faceCount: 60 });
    const r = smplForward(m, { pose: Array.from({ length: 72 }, (_, i) => Math.sin(i) * 0.4) });
    const glb = encodeGlb({ positions: r.vertices, faces: m.faces, colors: partColors(m.parts12) }, { name: 'test body', extras: { bodyModel: m.name } });
    expect(glb.length % 4).toBe(0);
    const report = await validator.validateBytes(glb);
    const problems = report.issues.messages.filter((msg) => msg.severity <= 1);
    expect(problems, JSON.stringify(problems, null, 1)).toEqual([]);
    expect(report.issues.numErrors).toBe(0);
    expect(report.info).toMatchObject({ version: '2.0', generator: 'nbf-gl', totalVertexCount: 41, totalTriangleCount: 60 });
    // The stored data is the input: read back the POSITION accessor and the indices.
    const dv = new DataView(glb.buffer);
    const jsonLength = dv.getUint32(12, true);
    const json = JSON.parse(new TextDecoder().decode(glb.subarray(20, 20 + jsonLength)));
    expect(json.meshes[0].primitives[0].attributes).toEqual({ POSITION: 0, NORMAL: 1, COLOR_0: 2 });
    const bin = 20 + jsonLength + 8;
    const pos = new Float32Array(glb.slice(bin + json.bufferViews[0].byteOffset, bin + json.bufferViews[0].byteOffset + 41 * 12).buffer);
    pos.forEach((x, i) => expect(x).toBe(Math.fround(r.vertices[i])));
    const idxView = json.bufferViews[json.accessors[3].bufferView];
    const idx = new Uint32Array(glb.slice(bin + idxView.byteOffset, bin + idxView.byteOffset + idxView.byteLength).buffer);
    expect(Array.from(idx)).toEqual(Array.from(m.faces));
  });

  it('is also valid without colours, and for a closed cube', async () => {
    const report = await validator.validateBytes(encodeGlb(cube()));
    expect(report.issues.numErrors).toBe(0);
    expect(report.issues.numWarnings).toBe(0);
  });

  it('a corrupted file fails validation (the check can fail)', async () => {
    const glb = encodeGlb(cube());
    const broken = glb.slice();
    new DataView(broken.buffer).setUint32(8, glb.length + 4, true);
    const report = await validator.validateBytes(broken);
    expect(report.issues.numErrors).toBeGreaterThan(0);
  });
});
