/**
 * Shape variations on the template's topology, and their PCA.
 *
 * Each template vertex is bound to the primitives that shape it (the soft union's own blend weights at
 * the vertex) through its coordinates in each primitive's frame: position along the axis as a fraction of
 * the axis length, offsets across it as fractions of the mean radius. A new body rebuilds the primitives
 * from its parameters, maps every vertex through the same coordinates (a blend of per-primitive affine
 * maps, smooth across the blends) and then projects it onto the new body's surface by Newton steps.
 */
import { buildBody, type BodyGeometry, type Primitive } from './body.js';
import { blendWeights, primitiveDistance, projectToSurface } from './field.js';
import type { BodyParams } from './params.js';

/** Primitives kept per vertex for the blended map, and for the field when re-projecting. */
const MAX_BOUND = 6;
const MAX_FIELD = 10;
/** Primitives farther than this (metres) beyond the nearest one cannot move the surface at a vertex. */
const FIELD_MARGIN = 0.06;

export interface VertexBinding {
  vertexCount: number;
  /** Per vertex MAX_BOUND slots: primitive index (−1 = unused), weight, and 3 local coordinates. */
  primitive: Int32Array;
  weight: Float64Array;
  local: Float64Array;
  /** Per vertex MAX_FIELD primitive indices that matter for the field (−1 padded), and their count. */
  fieldSet: Int32Array;
  fieldCount: Uint8Array;
}

function meanRadius(q: Primitive): number {
  return 0.5 * (q.ra + q.rb);
}

function axisLength(q: Primitive): number {
  return Math.hypot(q.b[0] - q.a[0], q.b[1] - q.a[1], q.b[2] - q.a[2]) / q.su;
}

export function bindVertices(body: BodyGeometry, positions: Float64Array): VertexBinding {
  const V = positions.length / 3;
  const P = body.primitives.length;
  const primitive = new Int32Array(V * MAX_BOUND).fill(-1);
  const weight = new Float64Array(V * MAX_BOUND);
  const local = new Float64Array(V * MAX_BOUND * 3);
  const fieldSet = new Int32Array(V * MAX_FIELD).fill(-1);
  const fieldCount = new Uint8Array(V);
  const w = new Float64Array(P);
  const order = Array.from({ length: P }, (_, i) => i);
  const dist = new Float64Array(P);
  for (let v = 0; v < V; v++) {
    const x = positions[3 * v], y = positions[3 * v + 1], z = positions[3 * v + 2];
    blendWeights(body.packed, body.blend, x, y, z, w);
    order.sort((i, j) => w[j] - w[i] || i - j);
    let total = 0;
    let n = 0;
    for (; n < MAX_BOUND && w[order[n]] > 1e-4; n++) total += w[order[n]];
    for (let s = 0; s < n; s++) {
      const i = order[s];
      const q = body.primitives[i];
      primitive[v * MAX_BOUND + s] = i;
      weight[v * MAX_BOUND + s] = w[i] / total;
      const dx = x - q.a[0], dy = y - q.a[1], dz = z - q.a[2];
      const along = (dx * q.u[0] + dy * q.u[1] + dz * q.u[2]) / q.su;
      const across1 = (dx * q.v[0] + dy * q.v[1] + dz * q.v[2]) / q.sv;
      const across2 = (dx * q.w[0] + dy * q.w[1] + dz * q.w[2]) / q.sw;
      const L = axisLength(q);
      const r = meanRadius(q);
      const o = (v * MAX_BOUND + s) * 3;
      local[o] = L > 0 ? along / L : along / r;
      local[o + 1] = across1 / r;
      local[o + 2] = across2 / r;
    }
    let nearest = Infinity;
    for (let i = 0; i < P; i++) {
      dist[i] = primitiveDistance(body.packed, i, x, y, z);
      nearest = Math.min(nearest, dist[i]);
    }
    const near = order.slice().sort((i, j) => dist[i] - dist[j] || i - j).filter((i) => dist[i] < nearest + FIELD_MARGIN).slice(0, MAX_FIELD);
    fieldSet.set(near, v * MAX_FIELD);
    fieldCount[v] = near.length;
  }
  return { vertexCount: V, primitive, weight, local, fieldSet, fieldCount };
}

/** The template's vertices carried onto the body of `params` (same topology, same vertex order). */
export function deformToParams(binding: VertexBinding, params: BodyParams): { positions: Float64Array; body: BodyGeometry } {
  const body = buildBody(params);
  return { positions: deformToBody(binding, body), body };
}

export function deformToBody(binding: VertexBinding, body: BodyGeometry): Float64Array {
  const V = binding.vertexCount;
  const out = new Float64Array(V * 3);
  const subset: number[] = [];
  for (let v = 0; v < V; v++) {
    let x = 0, y = 0, z = 0;
    for (let s = 0; s < MAX_BOUND; s++) {
      const i = binding.primitive[v * MAX_BOUND + s];
      if (i < 0) break;
      const q = body.primitives[i];
      const wgt = binding.weight[v * MAX_BOUND + s];
      const o = (v * MAX_BOUND + s) * 3;
      const L = axisLength(q);
      const r = meanRadius(q);
      const along = (L > 0 ? binding.local[o] * L : binding.local[o] * r) * q.su;
      const across1 = binding.local[o + 1] * r * q.sv;
      const across2 = binding.local[o + 2] * r * q.sw;
      x += wgt * (q.a[0] + along * q.u[0] + across1 * q.v[0] + across2 * q.w[0]);
      y += wgt * (q.a[1] + along * q.u[1] + across1 * q.v[1] + across2 * q.w[1]);
      z += wgt * (q.a[2] + along * q.u[2] + across1 * q.v[2] + across2 * q.w[2]);
    }
    out[3 * v] = x;
    out[3 * v + 1] = y;
    out[3 * v + 2] = z;
    subset.length = binding.fieldCount[v];
    for (let s = 0; s < subset.length; s++) subset[s] = binding.fieldSet[v * MAX_FIELD + s];
    projectToSurface(body.packed, body.blend, out, 3 * v, subset, 6, 0.01);
  }
  return out;
}

export interface PcaResult {
  mean: Float64Array;
  /** Components, each scaled by its standard deviation: component c is D floats at c·D. */
  scaledComponents: Float64Array;
  /** Variance of each kept component. */
  variances: Float64Array;
  totalVariance: number;
  /** Per-sample coefficients in units of standard deviations (N·count). */
  coefficients: Float64Array;
}

/** Symmetric eigen-decomposition by cyclic Jacobi rotations (small matrices only). */
function jacobiEigen(A: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(A);
  const vec = new Float64Array(n * n);
  for (let i = 0; i < n; i++) vec[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q] ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p], akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k], aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = vec[k * n + p], vkq = vec[k * n + q];
          vec[k * n + p] = c * vkp - s * vkq;
          vec[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = a[i * n + i];
  return { values, vectors: vec };
}

/**
 * PCA of N samples of dimension D (rows of `samples`), keeping `count` components. Works on the N×N
 * Gram matrix (N ≪ D), with subspace iteration for the leading eigenvectors. Component signs are fixed
 * so each correlates positively with whichever of `signReferences` (per-sample values such as stature
 * or girth) it correlates with most strongly: deterministic, and +β reads as "more of" something.
 */
export function pca(samples: Float64Array[], count: number, signReferences: ArrayLike<number>[]): PcaResult {
  const N = samples.length;
  const D = samples[0].length;
  const mean = new Float64Array(D);
  for (const s of samples) for (let d = 0; d < D; d++) mean[d] += s[d] / N;
  const centred = samples.map((s) => s.map((x, d) => x - mean[d]));
  const gram = new Float64Array(N * N);
  for (let i = 0; i < N; i++) {
    for (let j = i; j < N; j++) {
      let sum = 0;
      const a = centred[i], b = centred[j];
      for (let d = 0; d < D; d++) sum += a[d] * b[d];
      gram[i * N + j] = gram[j * N + i] = sum;
    }
  }
  let totalVariance = 0;
  for (let i = 0; i < N; i++) totalVariance += gram[i * N + i] / (N - 1);
  // Subspace iteration on the Gram matrix with a few guard vectors, then Rayleigh–Ritz.
  const m = Math.min(N, count + 6);
  let basis: Float64Array[] = Array.from({ length: m }, (_, c) => Float64Array.from({ length: N }, (_, i) => Math.sin(1 + i * (c + 1) * 0.7311) + (i === c ? 1 : 0)));
  const orthonormalise = (vs: Float64Array[]): Float64Array[] => {
    for (let c = 0; c < vs.length; c++) {
      for (let p = 0; p < c; p++) {
        let d = 0;
        for (let i = 0; i < N; i++) d += vs[c][i] * vs[p][i];
        for (let i = 0; i < N; i++) vs[c][i] -= d * vs[p][i];
      }
      let norm = 0;
      for (let i = 0; i < N; i++) norm += vs[c][i] ** 2;
      norm = Math.sqrt(norm) || 1;
      for (let i = 0; i < N; i++) vs[c][i] /= norm;
    }
    return vs;
  };
  const multiply = (x: Float64Array): Float64Array => {
    const y = new Float64Array(N);
    for (let i = 0; i < N; i++) {
      let sum = 0;
      for (let j = 0; j < N; j++) sum += gram[i * N + j] * x[j];
      y[i] = sum;
    }
    return y;
  };
  basis = orthonormalise(basis);
  for (let it = 0; it < 150; it++) basis = orthonormalise(basis.map(multiply));
  const images = basis.map(multiply);
  const small = new Float64Array(m * m);
  for (let p = 0; p < m; p++) for (let q = 0; q < m; q++) {
    let d = 0;
    for (let i = 0; i < N; i++) d += basis[p][i] * images[q][i];
    small[p * m + q] = d;
  }
  const { values, vectors } = jacobiEigen(small, m);
  const order = Array.from({ length: m }, (_, i) => i).sort((i, j) => values[j] - values[i]);
  const scaledComponents = new Float64Array(count * D);
  const variances = new Float64Array(count);
  const coefficients = new Float64Array(N * count);
  for (let c = 0; c < count; c++) {
    const e = order[c];
    const alpha = new Float64Array(N); // eigenvector of the Gram matrix
    for (let p = 0; p < m; p++) for (let i = 0; i < N; i++) alpha[i] += vectors[p * m + e] * basis[p][i];
    const lambda = values[e];
    variances[c] = lambda / (N - 1);
    // Sample coefficients in standard deviations: alpha·sqrt(N−1); sign by correlation with the reference.
    let strongest = 0;
    for (const reference of signReferences) {
      let refMean = 0;
      for (let i = 0; i < N; i++) refMean += reference[i] / N;
      let cov = 0;
      let refVar = 0;
      for (let i = 0; i < N; i++) {
        cov += alpha[i] * (reference[i] - refMean);
        refVar += (reference[i] - refMean) ** 2;
      }
      const corr = cov / Math.sqrt(refVar || 1); // alpha has unit norm and zero mean
      if (Math.abs(corr) > Math.abs(strongest)) strongest = corr;
    }
    const sign = strongest < 0 ? -1 : 1;
    for (let i = 0; i < N; i++) coefficients[i * count + c] = sign * alpha[i] * Math.sqrt(N - 1);
    // Scaled direction Xᵀα / sqrt(N−1): unit direction times the standard deviation.
    const out = scaledComponents.subarray(c * D, (c + 1) * D);
    for (let i = 0; i < N; i++) {
      const f = (sign * alpha[i]) / Math.sqrt(N - 1);
      const row = centred[i];
      for (let d = 0; d < D; d++) out[d] += f * row[d];
    }
  }
  return { mean, scaledComponents, variances, totalVariance, coefficients };
}

