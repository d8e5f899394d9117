/**
 * A body model uploaded to GPU textures once, in the layouts the SMPL kernels read
 * (docs/kernels/smpl.md). Float64 model data becomes float32 textures; the joint regressor is folded
 * into per-joint template and shape directions in float64 before upload.
 */
import type { Runtime } from '../../runtime/runtime.js';
import type { Tensor } from '../../runtime/tensor.js';
import { BodyModelError } from '../errors.js';
import type { BodyModel } from '../types.js';

/** Most joints a model may have: kernels take the kinematic tree as `uniform int u_parents[64]`. */
export const MAX_JOINTS = 64;
/** (vertex, weight) pairs per chunk of a joint's influence list (smpl_skin_backward). */
export const INFLUENCE_CHUNK = 64;
/**
 * Vertices per chunk of the blend backward's reduction over vertices (blendDirsByChunk). A multiple of
 * 4, so a chunk's 3·BLEND_CHUNK_VERTICES values fill whole texels.
 */
export const BLEND_CHUNK_VERTICES = 256;

export class GpuBodyModel {
  readonly vertexCount: number;
  readonly jointCount: number;
  readonly shapeCount: number;
  /** Pose features with blend shapes on the GPU: 9·(J − 1), or 0 for a model without posedirs. */
  readonly poseFeatureCount: number;
  /** Q = B + P: columns of blendDirs and of the coefficient vector [β | R − I]. */
  readonly coefficientCount: number;
  readonly influences: number;
  /** Parent of each joint (−1 for the root), padded with −1 to MAX_JOINTS for the kernels. */
  readonly parentsUniform: Int32Array;
  readonly parents: Int32Array;

  /** [V, 3] mean shape. */
  readonly template: Tensor;
  /** [V·3, Q]: row v·3 + axis = [shapedirs(v, axis, :) | posedirs(v, axis, :)]. */
  readonly blendDirs: Tensor;
  /** [J, 3] = J_regressor · v_template (float64 before upload). */
  readonly jointTemplate: Tensor;
  /** [J·3, B] = J_regressor · shapedirs: rest joints are jointTemplate + jointShapedirs·β. */
  readonly jointShapedirs: Tensor;
  /** [V, K] joint index of each influence, as floats (exact integers). */
  readonly skinJoints: Tensor;
  /** [V, K] weight of each influence (0 for unused slots). */
  readonly skinWeights: Tensor;
  /**
   * [J·influenceChunks·INFLUENCE_CHUNK, 2]: per joint, the (vertex, weight) pairs of the vertices it
   * influences, cut into influenceChunks chunks of INFLUENCE_CHUNK pairs, padded with weight 0 — the
   * transpose of the skin table, so the backward pass sums over a joint's vertices without a scatter.
   */
  readonly jointInfluences: Tensor;
  /** Chunks per joint in jointInfluences (enough for the joint with the most vertices). */
  readonly influenceChunks: number;

  private disposed = false;
  private chunkedDirs: Tensor | null = null;

  constructor(readonly runtime: Runtime, readonly source: BodyModel) {
    const m = source;
    const V = m.vertexCount;
    const J = m.jointCount;
    const B = m.shapeCount;
    const K = m.skin.influences;
    const where = `body model "${m.name}"`;
    if (J < 1 || J > MAX_JOINTS) throw new BodyModelError(`${where}: jointCount ${J}; the GPU layer supports 1..${MAX_JOINTS} joints`);
    if (B < 1) throw new BodyModelError(`${where}: shapeCount ${B}; the GPU layer needs at least one shape coefficient`);
    if (K < 1) throw new BodyModelError(`${where}: skin.influences ${K}; needs at least one influence per vertex`);
    expectLength(m.vTemplate, V * 3, 'vTemplate', where);
    expectLength(m.shapedirs, V * 3 * B, 'shapedirs', where);
    expectLength(m.parents, J, 'parents', where);
    expectLength(m.skin.joints, V * K, 'skin.joints', where);
    expectLength(m.skin.weights, V * K, 'skin.weights', where);
    for (let j = 0; j < J; j++) {
      const p = m.parents[j];
      if (!(p < j) || (p < 0 && p !== -1) || (j > 0 && p < 0) || (j === 0 && p !== -1)) {
        throw new BodyModelError(`${where}: parents[${j}] = ${p}; joint 0 must be the root (−1) and every other joint's parent must precede it`);
      }
    }
    for (let i = 0; i < V * K; i++) {
      const j = m.skin.joints[i];
      if (!(j >= 0 && j < J)) throw new BodyModelError(`${where}: skin.joints[${i}] = ${j} is not a joint index 0..${J - 1}`);
    }
    const reg = m.jRegressor;
    if (reg.rows !== J || reg.cols !== V) {
      throw new BodyModelError(`${where}: jRegressor is ${reg.rows}×${reg.cols}, expected ${J}×${V}`);
    }
    const P = m.posedirs ? m.poseFeatureCount : 0;
    if (m.posedirs) {
      if (P !== 9 * (J - 1)) throw new BodyModelError(`${where}: poseFeatureCount ${P}, expected 9·(J − 1) = ${9 * (J - 1)}`);
      expectLength(m.posedirs, V * 3 * P, 'posedirs', where);
    }
    const Q = B + P;
    this.vertexCount = V;
    this.jointCount = J;
    this.shapeCount = B;
    this.poseFeatureCount = P;
    this.coefficientCount = Q;
    this.influences = K;
    this.parents = Int32Array.from(m.parents);
    this.parentsUniform = new Int32Array(MAX_JOINTS).fill(-1);
    this.parentsUniform.set(m.parents);

    const dirs = new Float32Array(V * 3 * Q);
    for (let i = 0; i < V * 3; i++) {
      for (let b = 0; b < B; b++) dirs[i * Q + b] = m.shapedirs[i * B + b];
      if (m.posedirs) for (let p = 0; p < P; p++) dirs[i * Q + B + p] = m.posedirs[i * P + p];
    }
    const jointTemplate = new Float64Array(J * 3);
    const jointShapedirs = new Float64Array(J * 3 * B);
    for (let j = 0; j < J; j++) {
      for (let k = reg.rowStart[j]; k < reg.rowStart[j + 1]; k++) {
        const v = reg.colIndex[k];
        const w = reg.values[k];
        if (!(v >= 0 && v < V)) throw new BodyModelError(`${where}: jRegressor row ${j} names vertex ${v}, outside 0..${V - 1}`);
        for (let a = 0; a < 3; a++) {
          jointTemplate[3 * j + a] += w * m.vTemplate[3 * v + a];
          for (let b = 0; b < B; b++) jointShapedirs[(3 * j + a) * B + b] += w * m.shapedirs[(3 * v + a) * B + b];
        }
      }
    }
    const lists: number[][] = Array.from({ length: J }, () => []);
    for (let v = 0; v < V; v++) {
      for (let k = 0; k < K; k++) {
        const w = m.skin.weights[v * K + k];
        if (w !== 0) lists[m.skin.joints[v * K + k]].push(v, w);
      }
    }
    const longest = Math.max(1, ...lists.map((l) => l.length / 2));
    this.influenceChunks = Math.ceil(longest / INFLUENCE_CHUNK);
    const perJoint = this.influenceChunks * INFLUENCE_CHUNK;
    const influenceTable = new Float32Array(J * perJoint * 2);
    lists.forEach((l, j) => influenceTable.set(l, j * perJoint * 2));
    const uploaded: Tensor[] = [];
    const upload = (data: ArrayLike<number>, shape: number[]): Tensor => {
      const t = runtime.keep(runtime.tensor(data, shape));
      uploaded.push(t);
      return t;
    };
    try {
      this.template = upload(m.vTemplate, [V, 3]);
      this.blendDirs = upload(dirs, [V * 3, Q]);
      this.jointTemplate = upload(jointTemplate, [J, 3]);
      this.jointShapedirs = upload(jointShapedirs, [J * 3, B]);
      this.skinJoints = upload(m.skin.joints, [V, K]);
      this.skinWeights = upload(m.skin.weights, [V, K]);
      this.jointInfluences = upload(influenceTable, [J * perJoint, 2]);
    } catch (e) {
      uploaded.forEach((t) => t.dispose());
      throw e;
    }
  }

  /** Uploads `model`'s arrays to textures on `runtime`; dispose() frees them. */
  static upload(runtime: Runtime, model: BodyModel): GpuBodyModel {
    return new GpuBodyModel(runtime, model);
  }

  /** Chunks of BLEND_CHUNK_VERTICES vertices covering the model (the last one padded with zeros). */
  get blendChunks(): number {
    return Math.ceil(this.vertexCount / BLEND_CHUNK_VERTICES);
  }

  /**
   * [chunks, Q, 3·BLEND_CHUNK_VERTICES]: blendDirs transposed per chunk of vertices,
   * entry (c, q, k) = blendDirs[3·c·BLEND_CHUNK_VERTICES + k, q] (0 past the last vertex) — the
   * k-contiguous operand of the blend backward product (dc = Dᵀ·dv_posed, k running over vertex
   * components). Built and uploaded at the first backward pass (as large as blendDirs: 18 MB for
   * SMPL), so forward-only users never pay for it.
   */
  get blendDirsByChunk(): Tensor {
    if (this.disposed) throw new BodyModelError(`the GPU body model "${this.source.name}" was disposed`);
    if (!this.chunkedDirs) {
      const m = this.source;
      const rowsPerChunk = 3 * BLEND_CHUNK_VERTICES;
      const chunks = this.blendChunks;
      const B = this.shapeCount;
      const P = this.poseFeatureCount;
      const Q = this.coefficientCount;
      const rows = 3 * this.vertexCount;
      const data = new Float32Array(chunks * Q * rowsPerChunk);
      for (let c = 0; c < chunks; c++) {
        for (let k = 0; k < rowsPerChunk; k++) {
          const i = c * rowsPerChunk + k;
          if (i >= rows) break;
          const base = c * Q * rowsPerChunk + k;
          for (let b = 0; b < B; b++) data[base + b * rowsPerChunk] = m.shapedirs[i * B + b];
          if (m.posedirs) for (let p = 0; p < P; p++) data[base + (B + p) * rowsPerChunk] = m.posedirs[i * P + p];
        }
      }
      this.chunkedDirs = this.runtime.keep(this.runtime.tensor(data, [chunks, Q, rowsPerChunk]));
    }
    return this.chunkedDirs;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Frees every texture of the model. Safe to call twice. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const t of [this.template, this.blendDirs, this.jointTemplate, this.jointShapedirs, this.skinJoints, this.skinWeights, this.jointInfluences]) t.dispose();
    this.chunkedDirs?.dispose();
    this.chunkedDirs = null;
  }
}

function expectLength(a: ArrayLike<number>, n: number, key: string, where: string): void {
  if (a.length !== n) throw new BodyModelError(`${where}: ${key} has ${a.length} values, expected ${n}`);
}
