/**
 * Body models from files, dispatched on content (not on the file name): our .nbfm format, a SMPL-family
 * pickle (.pkl, any protocol 0–5) or an .npz. Nothing in a user's file is executed (see io/pickle.ts).
 *
 * What the SMPL conversion derives (a user's SMPL file has none of these in our form):
 *  - skin: dense V×J weights → the K largest per vertex, K = the most non-zero weights any vertex has
 *    (nothing is dropped), slots sorted by decreasing weight;
 *  - jRegressor: csc_matrix (pkl) or dense (npz) → compressed rows without zeros;
 *  - parents from kintree_table (root 2^32−1 or −1 → −1);
 *  - parts24 = the joint with the largest weight; parts12 from parts24 by NBF's mapping (parts.ts) —
 *    derived, since SMPL files carry no 12-part labels.
 */
import { FileFormatError } from '../io/errors.js';
import { NdArray } from '../io/ndarray.js';
import { readNpz } from '../io/npy.js';
import { ChumpyArray, CscMatrix, looksLikePickle, pickleText, unpickle, type PickleValue } from '../io/pickle.js';
import { isZip } from '../io/zip.js';
import { BodyModelError } from './errors.js';
import { decodeBodyModel, isBodyModelFile } from './format.js';
import { PARTS24_TO_PARTS12, partsFromWeights } from './parts.js';
import { SMPL_JOINT_NAMES, SMPL_PARENTS, type BodyModel, type SparseRows } from './types.js';
import { validateBodyModel } from './validate.js';

export type BodyModelSourceFormat = 'nbfm' | 'pickle' | 'npz';

export interface LoadedBodyModel {
  model: BodyModel;
  format: BodyModelSourceFormat;
  /** Human-readable lines: what was read, what was derived, what was ignored. */
  notes: string[];
}

/** Licence recorded on models converted from a user's file: theirs, not ours to redistribute. */
export const USER_FILE_LICENCE =
  "the source file's own licence (SMPL-family models are licensed for non-commercial research and may not be redistributed; do not share this file)";

/** Loads a body model from file contents; `filename` names the source in errors and metadata. */
export function loadBodyModel(bytes: Uint8Array, filename: string): BodyModel {
  return loadBodyModelWithNotes(bytes, filename).model;
}

export function loadBodyModelWithNotes(bytes: Uint8Array, filename: string): LoadedBodyModel {
  if (isBodyModelFile(bytes)) {
    const model = decodeBodyModel(bytes, filename);
    return { model, format: 'nbfm', notes: [`read nbf body model "${model.name}" (${model.vertexCount} vertices, ${model.jointCount} joints)`] };
  }
  if (isZip(bytes)) {
    const npz = readNpz(bytes, filename);
    const source: SmplSource = {
      filename,
      format: 'npz',
      keys: [...npz.arrays.keys(), ...npz.strings.keys()],
      get: (key) => npz.arrays.get(key) ?? null,
    };
    const loaded = smplToBodyModel(source);
    loaded.notes.unshift(...npz.warnings);
    return loaded;
  }
  if (looksLikePickle(bytes)) {
    const root = unpickle(bytes, filename);
    if (!(root instanceof Map)) throw new FileFormatError(`${filename}: the pickle holds ${describe(root)}, not a dict of arrays`);
    const protocol = bytes[0] === 0x80 ? bytes[1] : 0;
    const source: SmplSource = {
      filename,
      format: 'pickle',
      protocol,
      keys: [...root.keys()].map(String),
      get: (key) => {
        const v = root.get(key);
        if (v === undefined) return null;
        const unwrapped = v instanceof ChumpyArray ? v.x : v;
        if (unwrapped instanceof NdArray || unwrapped instanceof CscMatrix) return unwrapped;
        throw new FileFormatError(`${filename}: "${key}" holds ${describe(unwrapped)}, expected a numpy array`);
      },
    };
    return smplToBodyModel(source);
  }
  throw new FileFormatError(`${filename}: not a body-model file we can read (expected .nbfm, a SMPL .pkl pickle or an .npz archive)`);
}

function describe(v: PickleValue | undefined): string {
  if (v === null || v === undefined) return 'None';
  if (v instanceof Map) return 'a dict';
  if (Array.isArray(v)) return 'a list/tuple';
  if (pickleText(v) !== null) return 'a string';
  if (v instanceof Uint8Array) return 'bytes';
  if (v instanceof CscMatrix) return 'a sparse matrix';
  return typeof v === 'object' ? `a ${v.constructor.name}` : `a ${typeof v}`;
}

interface SmplSource {
  filename: string;
  format: 'pickle' | 'npz';
  protocol?: number;
  keys: string[];
  get(key: string): NdArray | CscMatrix | null;
}

const USED_KEYS = ['v_template', 'shapedirs', 'posedirs', 'J_regressor', 'weights', 'f', 'kintree_table'];

function smplToBodyModel(src: SmplSource): LoadedBodyModel {
  const { filename } = src;
  const notes: string[] = [];
  const fail = (key: string, problem: string): never => {
    throw new FileFormatError(`${filename}: "${key}" ${problem}`);
  };
  const dense = (key: string, rank: number, optional = false): NdArray | null => {
    const a = src.get(key);
    if (a === null) return optional ? null : fail(key, `is missing (keys present: ${src.keys.join(', ') || 'none'})`);
    if (!(a instanceof NdArray)) return fail(key, 'is a sparse matrix, expected a dense array');
    if (a.shape.length !== rank) fail(key, `has shape [${a.shape}], expected ${rank} dimensions`);
    notes.push(`${key}: [${a.shape.join(', ')}] ${a.dtype}`);
    return a;
  };

  const vTemplate = dense('v_template', 2)!;
  const V = vTemplate.shape[0];
  if (vTemplate.shape[1] !== 3) fail('v_template', `has shape [${vTemplate.shape}], expected [V, 3]`);

  const kintree = dense('kintree_table', 2)!;
  if (kintree.shape[0] !== 2) fail('kintree_table', `has shape [${kintree.shape}], expected [2, J]`);
  const J = kintree.shape[1];
  const parents = new Int32Array(J).fill(-2);
  for (let i = 0; i < J; i++) {
    const parentId = kintree.data[i];
    const id = kintree.data[J + i];
    if (!(Number.isInteger(id) && id >= 0 && id < J)) fail('kintree_table', `names joint ${id}, outside 0..${J - 1}`);
    parents[id] = parentId === 4294967295 || parentId === -1 || parentId === 18446744073709551615 ? -1 : parentId;
  }
  if (parents.includes(-2)) fail('kintree_table', 'does not list every joint exactly once');

  const shapedirs = dense('shapedirs', 3)!;
  if (shapedirs.shape[0] !== V || shapedirs.shape[1] !== 3) fail('shapedirs', `has shape [${shapedirs.shape}], expected [${V}, 3, B]`);
  const B = shapedirs.shape[2];
  const P = 9 * (J - 1);
  const posedirs = dense('posedirs', 3, true);
  if (posedirs && (posedirs.shape[0] !== V || posedirs.shape[1] !== 3 || posedirs.shape[2] !== P)) {
    fail('posedirs', `has shape [${posedirs.shape}], expected [${V}, 3, ${P}] (9·(J − 1) pose features)`);
  }
  if (!posedirs) notes.push('posedirs: absent — no pose blend shapes');

  const weights = dense('weights', 2)!;
  if (weights.shape[0] !== V || weights.shape[1] !== J) fail('weights', `has shape [${weights.shape}], expected [${V}, ${J}]`);
  let K = 1;
  for (let v = 0; v < V; v++) {
    let n = 0;
    for (let j = 0; j < J; j++) if (weights.data[v * J + j] !== 0) n++;
    K = Math.max(K, n);
  }
  const skinJoints = new Int32Array(V * K);
  const skinWeights = new Float64Array(V * K);
  for (let v = 0; v < V; v++) {
    const row = Array.from({ length: J }, (_, j) => ({ j, w: weights.data[v * J + j] }))
      .filter((e) => e.w !== 0)
      .sort((a, b) => b.w - a.w || a.j - b.j);
    row.forEach((e, k) => {
      skinJoints[v * K + k] = e.j;
      skinWeights[v * K + k] = e.w;
    });
  }
  notes.push(`skin: dense weights → ${K} influences per vertex`);

  const jRegressor = regressorRows(src, J, V, notes, fail);

  const f = dense('f', 2)!;
  if (f.shape[1] !== 3) fail('f', `has shape [${f.shape}], expected [F, 3]`);
  const faces = new Uint32Array(f.data.length);
  for (let i = 0; i < f.data.length; i++) {
    const x = f.data[i];
    if (!(Number.isInteger(x) && x >= 0 && x < V)) fail('f', `triangle ${Math.floor(i / 3)} uses vertex ${x}, outside 0..${V - 1}`);
    faces[i] = x;
  }

  const skin = { influences: K, joints: skinJoints, weights: skinWeights };
  const parts24 = partsFromWeights(skin, V);
  const parts12 = parts12ForSkeleton(parents, parts24, filename);
  notes.push('parts24: argmax of the skinning weights; parts12: derived from parts24 by NBF\'s 24→12 mapping (SMPL files have no 12-part labels)');
  const ignored = src.keys.filter((k) => !USED_KEYS.includes(k));
  if (ignored.length) notes.push(`ignored keys: ${ignored.join(', ')}`);

  const basename = filename.split(/[\\/]/).pop() ?? filename;
  const model: BodyModel = {
    name: basename,
    licence: USER_FILE_LICENCE,
    units: 'm',
    vertexCount: V,
    jointCount: J,
    shapeCount: B,
    poseFeatureCount: P,
    vTemplate: vTemplate.data,
    shapedirs: shapedirs.data,
    posedirs: posedirs ? posedirs.data : null,
    jRegressor,
    skin,
    parents,
    faces,
    jointNames: J === 24 ? [...SMPL_JOINT_NAMES] : Array.from({ length: J }, (_, j) => (j < 22 ? SMPL_JOINT_NAMES[j] : `joint_${j}`)),
    parts24,
    parts12,
    metadata: {
      source: basename,
      sourceFormat: src.format === 'pickle' ? `pickle protocol ${src.protocol}` : 'npz',
      derived: 'skin sparsified from dense weights; parts24 = argmax weight; parts12 from parts24 (NBF mapping)',
    },
  };
  return { model: validateBodyModel(model, filename), format: src.format, notes };
}

/** J_regressor (csc_matrix or dense J×V) → compressed rows, zeros dropped. */
function regressorRows(src: SmplSource, J: number, V: number, notes: string[], fail: (key: string, problem: string) => never): SparseRows {
  const key = 'J_regressor';
  const r = src.get(key);
  if (r === null) return fail(key, 'is missing');
  const rowEntries: Array<Array<[number, number]>> = Array.from({ length: J }, () => []);
  if (r instanceof CscMatrix) {
    if (r.shape[0] !== J || r.shape[1] !== V) fail(key, `is a ${r.shape[0]}×${r.shape[1]} sparse matrix, expected ${J}×${V}`);
    const { data, indices, indptr } = r as Required<{ [k in 'data' | 'indices' | 'indptr']: NdArray }>;
    if (indptr.data.length !== V + 1) fail(key, `indptr has ${indptr.data.length} entries, expected ${V + 1}`);
    if (indptr.data[V] > indices.data.length || indices.data.length !== data.data.length) fail(key, 'indices / data lengths do not match indptr');
    for (let c = 0; c < V; c++) {
      for (let k = indptr.data[c]; k < indptr.data[c + 1]; k++) {
        const row = indices.data[k];
        if (!(row >= 0 && row < J)) fail(key, `names row ${row}, outside 0..${J - 1}`);
        if (data.data[k] !== 0) rowEntries[row].push([c, data.data[k]]);
      }
    }
    notes.push(`${key}: ${J}×${V} csc_matrix, ${data.data.length} stored entries`);
  } else {
    if (r.shape.length !== 2 || r.shape[0] !== J || r.shape[1] !== V) fail(key, `has shape [${r.shape}], expected [${J}, ${V}]`);
    for (let j = 0; j < J; j++) for (let v = 0; v < V; v++) if (r.data[j * V + v] !== 0) rowEntries[j].push([v, r.data[j * V + v]]);
    notes.push(`${key}: [${r.shape.join(', ')}] dense ${r.dtype}`);
  }
  const rowStart = new Int32Array(J + 1);
  const cols: number[] = [];
  const vals: number[] = [];
  rowEntries.forEach((entries, j) => {
    entries.sort((a, b) => a[0] - b[0]);
    for (const [c, w] of entries) {
      cols.push(c);
      vals.push(w);
    }
    rowStart[j + 1] = cols.length;
  });
  return { rows: J, cols: V, rowStart, colIndex: Int32Array.from(cols), values: Float64Array.from(vals) };
}

/**
 * NBF's 12-part labels need SMPL's skeleton: the 22 body joints SMPL, SMPL-H and SMPL-X share. Joints past
 * 23 (hand joints of SMPL-H/X) take the label of their nearest ancestor below 22.
 */
function parts12ForSkeleton(parents: Int32Array, parts24: Uint8Array, filename: string): Uint8Array {
  const J = parents.length;
  const shared = J === 24 ? 24 : 22;
  if (J < 22 || !SMPL_PARENTS.slice(0, shared).every((p, j) => parents[j] === p)) {
    throw new BodyModelError(`${filename}: "kintree_table" is not SMPL's skeleton, so NBF's 12 parts cannot be derived`);
  }
  const classOfJoint = new Uint8Array(J);
  for (let j = 0; j < J; j++) {
    let a = j;
    while (a >= 24 || (J !== 24 && a >= 22)) a = parents[a];
    classOfJoint[j] = PARTS24_TO_PARTS12[a];
  }
  return parts24.map((p) => classOfJoint[p]);
}
