/**
 * Float64 CPU backward pass of SMPL for one body with axis-angle pose: the plain TypeScript
 * counterpart of the GPU layer's smplBackward (used as the CPU side of bench/smpl.ts and checked
 * against central differences in test/smpl-gpu-backward.test.ts). The forward intermediates come from
 * src/smpl/cpu-forward.ts.
 */
import type { BodyModel } from '../types.js';
import type { ForwardResult } from '../cpu-forward.js';

export type CpuCamera = { type: 'perspective'; params: ArrayLike<number> /* fx fy cx cy */ } | { type: 'weak'; params: ArrayLike<number> /* s tx ty */ };

export interface CpuOutputGradients {
  vertices?: ArrayLike<number>;
  joints?: ArrayLike<number>;
  joints2d?: ArrayLike<number>;
}

export interface CpuGradients {
  betas: Float64Array;
  pose: Float64Array;
  trans: Float64Array;
  camera: Float64Array;
}

/** Gradients of ⟨grads, outputs⟩ w.r.t. β, θ, trans and the camera, for one body. */
export function smplBackwardRef(
  model: BodyModel, pose: ArrayLike<number>, forward: ForwardResult, trans: ArrayLike<number>, camera: CpuCamera | null, grads: CpuOutputGradients,
): CpuGradients {
  const V = model.vertexCount;
  const J = model.jointCount;
  const B = model.shapeCount;
  const P = model.poseFeatureCount;
  const G = forward.globalTransforms;
  const A = forward.skinningTransforms;
  const Jr = forward.restJoints;
  const R = forward.rotations;
  const dTrans = new Float64Array(3);
  const dCamera = new Float64Array(camera ? camera.params.length : 0);

  // Posed joints and projection.
  const dX = new Float64Array(J * 3);
  for (let j = 0; j < J; j++) {
    for (let a = 0; a < 3; a++) dX[3 * j + a] = grads.joints ? grads.joints[3 * j + a] : 0;
    if (camera && grads.joints2d) {
      const x = G[12 * j + 3] + trans[0];
      const y = G[12 * j + 7] + trans[1];
      const z = G[12 * j + 11] + trans[2];
      const du = grads.joints2d[2 * j];
      const dv = grads.joints2d[2 * j + 1];
      const c = camera.params;
      if (camera.type === 'perspective') {
        dX[3 * j] += (c[0] * du) / z;
        dX[3 * j + 1] += (c[1] * dv) / z;
        dX[3 * j + 2] -= (c[0] * du * x + c[1] * dv * y) / (z * z);
        dCamera[0] += (du * x) / z;
        dCamera[1] += (dv * y) / z;
        dCamera[2] += du;
        dCamera[3] += dv;
      } else {
        dX[3 * j] += c[0] * du;
        dX[3 * j + 1] += c[0] * dv;
        dCamera[0] += du * x + dv * y;
        dCamera[1] += du;
        dCamera[2] += dv;
      }
    }
    for (let a = 0; a < 3; a++) dTrans[a] += dX[3 * j + a];
  }

  // Skinning: dA_j = Σ_v w·gV ⊗ [vp; 1], dvp = Σ_k w·R(A)ᵀ·gV.
  const dA = new Float64Array(J * 12);
  const dPosed = new Float64Array(V * 3);
  const K = model.skin.influences;
  const vp = forward.posedRestVertices;
  if (grads.vertices) {
    const gV = grads.vertices;
    for (let v = 0; v < V; v++) {
      const g0 = gV[3 * v], g1 = gV[3 * v + 1], g2 = gV[3 * v + 2];
      dTrans[0] += g0;
      dTrans[1] += g1;
      dTrans[2] += g2;
      const h = [vp[3 * v], vp[3 * v + 1], vp[3 * v + 2], 1];
      for (let k = 0; k < K; k++) {
        const w = model.skin.weights[v * K + k];
        if (w === 0) continue;
        const j = model.skin.joints[v * K + k];
        const gs = [g0, g1, g2];
        for (let r = 0; r < 3; r++) for (let c = 0; c < 4; c++) dA[12 * j + 4 * r + c] += w * gs[r] * h[c];
        for (let c = 0; c < 3; c++) dPosed[3 * v + c] += w * (A[12 * j + c] * g0 + A[12 * j + 4 + c] * g1 + A[12 * j + 8 + c] * g2);
      }
    }
  }

  // Blend shapes: dβ and the pose-feature gradient.
  const dBetas = new Float64Array(B);
  const dFeature = new Float64Array(P);
  for (let i = 0; i < V * 3; i++) {
    const g = dPosed[i];
    if (g === 0) continue;
    for (let b = 0; b < B; b++) dBetas[b] += model.shapedirs[i * B + b] * g;
    if (model.posedirs) for (let p = 0; p < P; p++) dFeature[p] += model.posedirs[i * P + p] * g;
  }

  // Kinematic chain, leaves to root (parents precede children).
  const gBar = new Float64Array(J * 12);
  const dR = new Float64Array(J * 9);
  const dJ = new Float64Array(J * 3);
  for (let j = J - 1; j >= 0; j--) {
    const p = model.parents[j];
    for (let r = 0; r < 3; r++) {
      const dAt = dA[12 * j + 4 * r + 3];
      for (let c = 0; c < 3; c++) gBar[12 * j + 4 * r + c] += dA[12 * j + 4 * r + c] - dAt * Jr[3 * j + c];
      gBar[12 * j + 4 * r + 3] += dAt + dX[3 * j + r];
      // A_j's rest-pose removal: −R^g_jᵀ·dA_t.
      for (let c = 0; c < 3; c++) dJ[3 * j + c] -= G[12 * j + 4 * r + c] * dAt;
    }
    // L̄_j = R^g_pᵀ·Ḡ_j (root: Ḡ_0).
    const lBar = new Float64Array(12);
    for (let r = 0; r < 3; r++) {
      for (let c = 0; c < 4; c++) {
        lBar[4 * r + c] = p < 0 ? gBar[12 * j + 4 * r + c]
          : G[12 * p + r] * gBar[12 * j + c] + G[12 * p + 4 + r] * gBar[12 * j + 4 + c] + G[12 * p + 8 + r] * gBar[12 * j + 8 + c];
      }
    }
    for (let r = 0; r < 3; r++) {
      for (let c = 0; c < 3; c++) dR[9 * j + 3 * r + c] = lBar[4 * r + c] + (j >= 1 && P > 0 ? dFeature[9 * (j - 1) + 3 * r + c] : 0);
      dJ[3 * j + r] += lBar[4 * r + 3];
      if (p >= 0) dJ[3 * p + r] -= lBar[4 * r + 3];
    }
    if (p >= 0) {
      // Ḡ_p += Ḡ_j·L_jᵀ = [Ḡ_R·R_jᵀ + Ḡ_t·offᵀ | Ḡ_t].
      for (let r = 0; r < 3; r++) {
        const gt = gBar[12 * j + 4 * r + 3];
        for (let c = 0; c < 3; c++) {
          let s = gt * (Jr[3 * j + c] - Jr[3 * p + c]);
          for (let k = 0; k < 3; k++) s += gBar[12 * j + 4 * r + k] * R[9 * j + 3 * c + k];
          gBar[12 * p + 4 * r + c] += s;
        }
        gBar[12 * p + 4 * r + 3] += gt;
      }
    }
  }

  // Rest joints → β through the regressor and the shape directions.
  const reg = model.jRegressor;
  for (let j = 0; j < J; j++) {
    for (let k = reg.rowStart[j]; k < reg.rowStart[j + 1]; k++) {
      const v = reg.colIndex[k];
      const w = reg.values[k];
      for (let a = 0; a < 3; a++) {
        const g = w * dJ[3 * j + a];
        for (let b = 0; b < B; b++) dBetas[b] += model.shapedirs[(3 * v + a) * B + b] * g;
      }
    }
  }

  // Rodrigues: dθ_i = θ_i·(C·⟨G, K⟩ + D·⟨G, K²⟩) + A·⟨G, E_i⟩ + B·⟨G, E_i·K + K·E_i⟩.
  const dPose = new Float64Array(J * 3);
  for (let j = 0; j < J; j++) {
    const th = [pose[3 * j], pose[3 * j + 1], pose[3 * j + 2]];
    const x = th[0] * th[0] + th[1] * th[1] + th[2] * th[2];
    const [ca, cb, cc, cd] = rodriguesCoefficients(x);
    const g = dR.subarray(9 * j, 9 * j + 9);
    const kMat = skew(th);
    const k2 = mul3(kMat, kMat);
    const gk = inner(g, kMat);
    const gk2 = inner(g, k2);
    for (let i = 0; i < 3; i++) {
      const e = skew([i === 0 ? 1 : 0, i === 1 ? 1 : 0, i === 2 ? 1 : 0]);
      const sym = mul3(e, kMat).map((v, idx) => v + mul3(kMat, e)[idx]);
      dPose[3 * j + i] = th[i] * (cc * gk + cd * gk2) + ca * inner(g, e) + cb * inner(g, sym);
    }
  }
  return { betas: dBetas, pose: dPose, trans: dTrans, camera: dCamera };
}

/** (A, B, C, D) = (sin a/a, (1 − cos a)/a², A'(a)/a, B'(a)/a) as functions of x = a²; series below a = 1e-2. */
function rodriguesCoefficients(x: number): [number, number, number, number] {
  if (x < 1e-4) {
    return [1 - x / 6 + (x * x) / 120, 0.5 - x / 24 + (x * x) / 720, -1 / 3 + x / 30 - (x * x) / 840, -1 / 12 + x / 180 - (x * x) / 6720];
  }
  const a = Math.sqrt(x);
  const sa = Math.sin(a) / a;
  const half = Math.sin(a / 2) / (a / 2);
  const sb = 0.5 * half * half;
  return [sa, sb, (Math.cos(a) - sa) / x, (sa - 2 * sb) / x];
}

function skew(v: number[]): number[] {
  return [0, -v[2], v[1], v[2], 0, -v[0], -v[1], v[0], 0];
}
function mul3(a: ArrayLike<number>, b: ArrayLike<number>): number[] {
  const out = new Array<number>(9);
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) out[3 * r + c] = a[3 * r] * b[c] + a[3 * r + 1] * b[3 + c] + a[3 * r + 2] * b[6 + c];
  return out;
}
function inner(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < 9; i++) s += a[i] * b[i];
  return s;
}
