/**
 * Float64 CPU references of the blend-shape products on the GPU (kernels.ts blendVertices and
 * blendBackward), in the GPU layer's layouts, from the body model's own arrays:
 *   v_posed[v, n] = v_template[v] + D[v]·c[n],     dc[n] = Dᵀ·dv_posed[n],
 * D = [shapedirs | posedirs] (rows v·3 + axis), c = [β | R − I] (GpuBodyModel.coefficientCount columns).
 */
import type { BodyModel } from '../types.js';

/** Column q of row i (= 3v + axis) of D = [shapedirs | posedirs]; posedirs columns only when the model has them. */
function blendDirection(model: BodyModel, i: number, q: number): number {
  const B = model.shapeCount;
  if (q < B) return model.shapedirs[i * B + q];
  const P = model.poseFeatureCount;
  return model.posedirs ? model.posedirs[i * P + (q - B)] : 0;
}

/** Coefficient count Q of the GPU layer: B + P with pose blend shapes, B without. */
export function coefficientCountOf(model: BodyModel): number {
  return model.shapeCount + (model.posedirs ? model.poseFeatureCount : 0);
}

/** v_posed VERTEX-MAJOR [V, N, 3] from coefficients [N, Q] (row-major). */
export function posedVerticesRef(model: BodyModel, coefficients: ArrayLike<number>, bodies: number): Float64Array {
  const V = model.vertexCount;
  const Q = coefficientCountOf(model);
  if (coefficients.length !== bodies * Q) throw new Error(`posedVerticesRef: ${coefficients.length} coefficients, expected ${bodies}·${Q}`);
  const out = new Float64Array(V * bodies * 3);
  for (let v = 0; v < V; v++) {
    for (let axis = 0; axis < 3; axis++) {
      const i = 3 * v + axis;
      for (let n = 0; n < bodies; n++) {
        let sum = model.vTemplate[i];
        for (let q = 0; q < Q; q++) sum += blendDirection(model, i, q) * coefficients[n * Q + q];
        out[(v * bodies + n) * 3 + axis] = sum;
      }
    }
  }
  return out;
}

/** dL/dc [N, Q] from dL/dv_posed BODY-MAJOR [N, V, 3]. */
export function blendBackwardRef(model: BodyModel, gradPosed: ArrayLike<number>, bodies: number): Float64Array {
  const V = model.vertexCount;
  const Q = coefficientCountOf(model);
  if (gradPosed.length !== bodies * V * 3) throw new Error(`blendBackwardRef: ${gradPosed.length} gradient values, expected ${bodies}·${V}·3`);
  const out = new Float64Array(bodies * Q);
  for (let n = 0; n < bodies; n++) {
    for (let i = 0; i < 3 * V; i++) {
      const g = gradPosed[n * V * 3 + i];
      for (let q = 0; q < Q; q++) out[n * Q + q] += blendDirection(model, i, q) * g;
    }
  }
  return out;
}
