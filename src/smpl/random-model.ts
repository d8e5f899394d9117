/**
 * Small random body models with SMPL's structure (24 joints, SMPL's kinematic tree) and made-up data,
 * for tests and test fixtures. Nothing here is derived from SMPL's data.
 */
import { Rng } from '../util/random.js';
import { parts12FromParts24, partsFromWeights } from './parts.js';
import { SMPL_JOINT_NAMES, SMPL_PARENTS, type BodyModel } from './types.js';

export interface RandomModelOptions {
  vertexCount?: number;
  shapeCount?: number;
  /** Most joints influencing one vertex. */
  influences?: number;
  faceCount?: number;
  /** Include pose blend shapes (default true). */
  poseBlend?: boolean;
}

export function makeRandomBodyModel(seed: number, options: RandomModelOptions = {}): BodyModel {
  const rng = new Rng(seed);
  const V = options.vertexCount ?? 30;
  const B = options.shapeCount ?? 10;
  const K = options.influences ?? 4;
  const F = options.faceCount ?? 40;
  const J = 24;
  const P = 9 * (J - 1);
  const vTemplate = new Float64Array(V * 3);
  for (let i = 0; i < V * 3; i++) vTemplate[i] = rng.uniform(-0.8, 0.8);
  const shapedirs = new Float64Array(V * 3 * B);
  for (let i = 0; i < shapedirs.length; i++) shapedirs[i] = rng.normal(0, 0.02);
  let posedirs: Float64Array | null = null;
  if (options.poseBlend ?? true) {
    posedirs = new Float64Array(V * 3 * P);
    for (let i = 0; i < posedirs.length; i++) posedirs[i] = rng.normal(0, 0.01);
  }
  // Regressor: each joint a convex combination of 2..5 distinct vertices.
  const rowStart = new Int32Array(J + 1);
  const colIndex: number[] = [];
  const values: number[] = [];
  for (let j = 0; j < J; j++) {
    const n = rng.int(2, Math.min(5, V));
    const picked = new Set<number>();
    while (picked.size < n) picked.add(rng.int(0, V - 1));
    const cols = [...picked].sort((a, b) => a - b);
    const w = cols.map(() => rng.uniform(0.1, 1));
    const sum = w.reduce((a, b) => a + b, 0);
    cols.forEach((c, i) => {
      colIndex.push(c);
      values.push(w[i] / sum);
    });
    rowStart[j + 1] = colIndex.length;
  }
  // Skin: 1..K distinct joints per vertex, unused slots joint 0 weight 0.
  const joints = new Int32Array(V * K);
  const weights = new Float64Array(V * K);
  for (let v = 0; v < V; v++) {
    const n = rng.int(1, K);
    const picked = new Set<number>();
    while (picked.size < n) picked.add(rng.int(0, J - 1));
    const js = [...picked];
    const w = js.map(() => rng.uniform(0.05, 1));
    const sum = w.reduce((a, b) => a + b, 0);
    js.forEach((j, k) => {
      joints[v * K + k] = j;
      weights[v * K + k] = w[k] / sum;
    });
  }
  const faces = new Uint32Array(F * 3);
  for (let f = 0; f < F; f++) {
    const picked = new Set<number>();
    while (picked.size < 3) picked.add(rng.int(0, V - 1));
    faces.set([...picked], f * 3);
  }
  const skin = { influences: K, joints, weights };
  const parts24 = partsFromWeights(skin, V);
  return {
    name: `random test model (seed ${seed})`,
    licence: 'MIT (random numbers, generated for tests)',
    units: 'm',
    vertexCount: V,
    jointCount: J,
    shapeCount: B,
    poseFeatureCount: P,
    vTemplate,
    shapedirs,
    posedirs,
    jRegressor: { rows: J, cols: V, rowStart, colIndex: Int32Array.from(colIndex), values: Float64Array.from(values) },
    skin,
    parents: Int32Array.from(SMPL_PARENTS),
    faces,
    jointNames: [...SMPL_JOINT_NAMES],
    parts24,
    parts12: parts12FromParts24(parts24),
    metadata: { generator: 'makeRandomBodyModel', seed: String(seed) },
  };
}
