/**
 * Invariants every BodyModel must satisfy, whatever file it came from. Each failure throws a
 * BodyModelError naming the source file and the key (field path) that broke it.
 */
import { BodyModelError } from './errors.js';
import type { BodyModel } from './types.js';

/** |Σ weights − 1| allowed per vertex: float32 storage of a handful of weights rounds to ~1e-7. */
export const WEIGHT_SUM_TOLERANCE = 1e-4;
/**
 * |Σ row − 1| allowed per regressor row. A joint is an affine combination of vertices, so rows sum to 1
 * (SMPL's do, to float precision); the looser bound admits regressors stored in float32 or re-fitted.
 */
export const REGRESSOR_SUM_TOLERANCE = 1e-3;

function fail(source: string, key: string, problem: string): never {
  throw new BodyModelError(`${source}: "${key}" ${problem}`);
}

function checkLength(source: string, key: string, array: ArrayLike<number>, want: number, what: string): void {
  if (array.length !== want) fail(source, key, `has ${array.length} entries, expected ${want} (${what})`);
}

function checkFinite(source: string, key: string, array: ArrayLike<number>): void {
  for (let i = 0; i < array.length; i++) {
    if (!Number.isFinite(array[i])) fail(source, key, `holds ${array[i]} at index ${i}`);
  }
}

function checkCount(source: string, key: string, n: unknown, min: number): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min) fail(source, key, `must be an integer ≥ ${min}, got ${String(n)}`);
  return n;
}

/** Throws BodyModelError on the first broken invariant; returns the model for chaining. */
export function validateBodyModel(model: BodyModel, source: string): BodyModel {
  if (typeof model.name !== 'string') fail(source, 'name', 'must be a string');
  if (typeof model.licence !== 'string') fail(source, 'licence', 'must be a string');
  if (model.units !== 'm') fail(source, 'units', `must be "m" (metres), got ${JSON.stringify(model.units)}`);
  const V = checkCount(source, 'vertexCount', model.vertexCount, 1);
  const J = checkCount(source, 'jointCount', model.jointCount, 1);
  const B = checkCount(source, 'shapeCount', model.shapeCount, 0);
  const P = checkCount(source, 'poseFeatureCount', model.poseFeatureCount, 0);
  if (P !== 9 * (J - 1)) fail(source, 'poseFeatureCount', `is ${P}, expected 9·(jointCount − 1) = ${9 * (J - 1)}`);

  checkLength(source, 'vTemplate', model.vTemplate, V * 3, 'vertexCount·3');
  checkFinite(source, 'vTemplate', model.vTemplate);
  checkLength(source, 'shapedirs', model.shapedirs, V * 3 * B, 'vertexCount·3·shapeCount');
  checkFinite(source, 'shapedirs', model.shapedirs);
  if (model.posedirs !== null) {
    checkLength(source, 'posedirs', model.posedirs, V * 3 * P, 'vertexCount·3·poseFeatureCount');
    checkFinite(source, 'posedirs', model.posedirs);
  }

  const reg = model.jRegressor;
  if (reg.rows !== J) fail(source, 'jRegressor.rows', `is ${reg.rows}, expected jointCount = ${J}`);
  if (reg.cols !== V) fail(source, 'jRegressor.cols', `is ${reg.cols}, expected vertexCount = ${V}`);
  checkLength(source, 'jRegressor.rowStart', reg.rowStart, J + 1, 'jointCount + 1');
  const nnz = reg.colIndex.length;
  checkLength(source, 'jRegressor.values', reg.values, nnz, 'as many as jRegressor.colIndex');
  if (reg.rowStart[0] !== 0 || reg.rowStart[J] !== nnz) {
    fail(source, 'jRegressor.rowStart', `must run from 0 to ${nnz} (the number of entries), got ${reg.rowStart[0]}..${reg.rowStart[J]}`);
  }
  checkFinite(source, 'jRegressor.values', reg.values);
  for (let j = 0; j < J; j++) {
    const start = reg.rowStart[j];
    const end = reg.rowStart[j + 1];
    if (end < start) fail(source, 'jRegressor.rowStart', `decreases at row ${j} (${start} → ${end})`);
    let sum = 0;
    for (let k = start; k < end; k++) {
      const c = reg.colIndex[k];
      if (!(c >= 0 && c < V)) fail(source, 'jRegressor.colIndex', `holds vertex ${c} in row ${j}, outside 0..${V - 1}`);
      sum += reg.values[k];
    }
    if (Math.abs(sum - 1) > REGRESSOR_SUM_TOLERANCE) fail(source, 'jRegressor', `row ${j} sums to ${sum}, not 1 (joints must be affine combinations of vertices)`);
  }

  const skin = model.skin;
  const K = checkCount(source, 'skin.influences', skin.influences, 1);
  checkLength(source, 'skin.joints', skin.joints, V * K, 'vertexCount·influences');
  checkLength(source, 'skin.weights', skin.weights, V * K, 'vertexCount·influences');
  checkFinite(source, 'skin.weights', skin.weights);
  for (let v = 0; v < V; v++) {
    let sum = 0;
    for (let k = 0; k < K; k++) {
      const i = v * K + k;
      const joint = skin.joints[i];
      if (!(joint >= 0 && joint < J)) fail(source, 'skin.joints', `vertex ${v} slot ${k} names joint ${joint}, outside 0..${J - 1}`);
      if (skin.weights[i] < 0) fail(source, 'skin.weights', `vertex ${v} slot ${k} is negative (${skin.weights[i]})`);
      sum += skin.weights[i];
    }
    if (Math.abs(sum - 1) > WEIGHT_SUM_TOLERANCE) fail(source, 'skin.weights', `vertex ${v} weights sum to ${sum}, not 1`);
  }

  checkLength(source, 'parents', model.parents, J, 'jointCount');
  if (model.parents[0] !== -1) fail(source, 'parents', `joint 0 must be the root (parent −1), got parent ${model.parents[0]}`);
  for (let j = 1; j < J; j++) {
    const p = model.parents[j];
    if (!(p >= 0 && p < j)) fail(source, 'parents', `joint ${j} has parent ${p}; every parent must precede its child (0 ≤ parent < ${j})`);
  }

  if (model.faces.length % 3 !== 0) fail(source, 'faces', `has ${model.faces.length} entries, not a multiple of 3`);
  for (let i = 0; i < model.faces.length; i++) {
    if (model.faces[i] >= V) fail(source, 'faces', `triangle ${Math.floor(i / 3)} uses vertex ${model.faces[i]}, outside 0..${V - 1}`);
  }

  if (!Array.isArray(model.jointNames) || model.jointNames.length !== J) fail(source, 'jointNames', `must list ${J} names, got ${model.jointNames?.length}`);
  checkLength(source, 'parts24', model.parts24, V, 'vertexCount');
  for (let v = 0; v < V; v++) {
    if (model.parts24[v] >= J) fail(source, 'parts24', `vertex ${v} has part ${model.parts24[v]}, outside 0..${J - 1}`);
  }
  checkLength(source, 'parts12', model.parts12, V, 'vertexCount');
  for (let v = 0; v < V; v++) {
    const p = model.parts12[v];
    if (p < 1 || p > 12) fail(source, 'parts12', `vertex ${v} has part ${p}, outside 1..12`);
  }
  for (const [k, value] of Object.entries(model.metadata ?? {})) {
    if (typeof value !== 'string') fail(source, `metadata.${k}`, 'must be a string');
  }
  return model;
}
