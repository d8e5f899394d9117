/**
 * The body-model container: SMPL semantics, independent of where the data came from (our own open
 * model, a user's SMPL .pkl / .npz). Arrays are float64 on the CPU; the GPU layer uploads float32.
 * Conventions: Y up, metres, T-pose, facing +Z, the body's left at +X, origin near the pelvis.
 */

/** Sparse matrix in compressed-row form. */
export interface SparseRows {
  rows: number;
  cols: number;
  /** rows + 1 offsets into colIndex / values. */
  rowStart: Int32Array;
  colIndex: Int32Array;
  values: Float64Array;
}

/** Linear-blend-skinning weights with at most K influences per vertex (unused slots: joint 0, weight 0). */
export interface SkinWeights {
  influences: number;
  /** V·K joint indices, vertex-major. */
  joints: Int32Array;
  /** V·K weights, vertex-major; each vertex's weights sum to 1. */
  weights: Float64Array;
}

export interface BodyModel {
  /** Human-readable name, e.g. "nbf-open-body v1" or the source file's name. */
  name: string;
  /** Licence of the data (ours: the project's licence; a user's SMPL file: theirs, never redistributed). */
  licence: string;
  /** Always 'm'. */
  units: 'm';
  vertexCount: number;
  jointCount: number;
  /** Number of shape coefficients β (10 for SMPL v1.0). */
  shapeCount: number;
  /** Number of pose features: 9·(jointCount − 1) = 207 for SMPL. */
  poseFeatureCount: number;
  /** V·3, vertex-major. */
  vTemplate: Float64Array;
  /** V·3·B, index (v·3 + axis)·B + b. */
  shapedirs: Float64Array;
  /** V·3·P, index (v·3 + axis)·P + p; null when the model has no pose blend shapes (all zero). */
  posedirs: Float64Array | null;
  /** J × V sparse regressor: joints = jRegressor · vertices. */
  jRegressor: SparseRows;
  skin: SkinWeights;
  /** Parent joint of each joint, −1 for the root; parents precede children. */
  parents: Int32Array;
  /** F·3 vertex indices, counter-clockwise seen from outside. */
  faces: Uint32Array;
  jointNames: string[];
  /** Per-vertex skinning part, 0..23 (the joint whose bone the vertex belongs to). */
  parts24: Uint8Array;
  /** Per-vertex NBF part, 1..12 (see docs; 0 = background is never used on the body). */
  parts12: Uint8Array;
  /** Free-form metadata (generator version, source file, ...). */
  metadata: Record<string, string>;
}

export const SMPL_JOINT_NAMES = [
  'pelvis', 'left_hip', 'right_hip', 'spine1', 'left_knee', 'right_knee', 'spine2', 'left_ankle',
  'right_ankle', 'spine3', 'left_foot', 'right_foot', 'neck', 'left_collar', 'right_collar', 'head',
  'left_shoulder', 'right_shoulder', 'left_elbow', 'right_elbow', 'left_wrist', 'right_wrist',
  'left_hand', 'right_hand',
] as const;

/** Joint j of a body mirrored left–right is joint SMPL_MIRRORED_JOINTS[j] of the body as it was (left_x ↔ right_x). */
export const SMPL_MIRRORED_JOINTS: readonly number[] = SMPL_JOINT_NAMES.map((name, j) => {
  const twin = name.startsWith('left_') ? `right_${name.slice(5)}` : name.startsWith('right_') ? `left_${name.slice(6)}` : name;
  const k = (SMPL_JOINT_NAMES as readonly string[]).indexOf(twin);
  return k >= 0 ? k : j;
});

export const SMPL_PARENTS = [-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21] as const;

/** NBF's 12 parts: class index → name and palette colour (class 0 is background). */
export const NBF_PARTS = [
  { name: 'background', rgb: [0, 0, 0] },
  { name: 'head', rgb: [98, 255, 255] },
  { name: 'upper torso', rgb: [255, 159, 255] },
  { name: 'left lower arm + hand', rgb: [197, 255, 0] },
  { name: 'right upper arm', rgb: [0, 134, 167] },
  { name: 'left upper leg', rgb: [213, 95, 0] },
  { name: 'right upper leg', rgb: [41, 128, 0] },
  { name: 'neck', rgb: [104, 0, 147] },
  { name: 'lower torso', rgb: [181, 203, 255] },
  { name: 'left upper arm', rgb: [0, 68, 215] },
  { name: 'right lower arm + hand', rgb: [255, 214, 0] },
  { name: 'left lower leg + foot', rgb: [0, 66, 83] },
  { name: 'right lower leg + foot', rgb: [134, 126, 0] },
] as const;

/** NBF_PARTS' left/right twins (class indices): lower arms, upper arms, upper legs, lower legs. */
export const NBF_SIDE_PAIRS: readonly (readonly [number, number])[] = [[3, 10], [4, 9], [5, 6], [11, 12]];

/** Class k of a part map mirrored left–right is class NBF_MIRRORED_PARTS[k] of the map as it was (each twin swaps). */
export const NBF_MIRRORED_PARTS: readonly number[] = NBF_PARTS.map((_, k) => {
  const pair = NBF_SIDE_PAIRS.find(([a, b]) => a === k || b === k);
  return pair ? (pair[0] === k ? pair[1] : pair[0]) : k;
});
