/**
 * Wrappers of the SMPL body-model kernels (shaders/smpl_*.glsl): shape checks, uniforms, dispatch.
 * Each takes and returns channel-packed tensors; docs/kernels/smpl.md describes the layouts.
 * CPU references: src/smpl/cpu-forward.ts (the whole forward pass) and rotations.ref.ts.
 */
import type { Tensor } from '../../runtime/tensor.js';
import type { Runtime } from '../../runtime/runtime.js';
import { NbfError, ShapeError } from '../../runtime/errors.js';
import { packedGeometry } from '../../runtime/layout.js';
import { matmulBlocks, planMatmul, quadLayoutTexels } from '../../kernels/matmul.js';
import { BLEND_CHUNK_VERTICES, INFLUENCE_CHUNK, type GpuBodyModel } from './model.js';
import { probedChoice } from '../../runtime/probed-choice.js';

const shapeText = (s: readonly number[]) => `[${s.join(', ')}]`;

function expectShape(t: Tensor, shape: readonly number[], what: string): void {
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new ShapeError(`${what}: expected shape ${shapeText(shape)}, got ${shapeText(t.shape)}`);
  }
}

/** Rows of a tensor holding `count` groups of `per` values in order (n, joint, value): checks its size. */
function expectGroups(t: Tensor, count: number, per: number, what: string): void {
  if (t.size !== count * per) {
    throw new ShapeError(`${what}: ${shapeText(t.shape)} holds ${t.size} values; expected ${count}·${per} = ${count * per}`);
  }
}

// ------------------------------------------------------------------------------- rotations

/** Axis-angle (any layout holding `matrices`·3 values in order) → [matrices, 9] rotation matrices. */
export function rodrigues(pose: Tensor, matrices: number): Tensor {
  expectGroups(pose, matrices, 3, 'rodrigues: axis-angle input');
  return pose.runtime.run({
    kernel: 'smpl_rodrigues',
    inputs: { Pose: pose },
    uniforms: { u_poseChannels: pose.geometry.channels },
    outShape: [matrices, 9],
  });
}

/** dL/dθ in the pose's own shape, from dL/dR in channels 0..8 of `grad` [matrices, 9 or 12]. */
export function rodriguesBackward(pose: Tensor, grad: Tensor): Tensor {
  const matrices = pose.size / 3;
  expectGradRows(grad, matrices, 'rodriguesBackward');
  return pose.runtime.run({
    kernel: 'smpl_rodrigues_backward',
    inputs: { Pose: pose, Grad: grad },
    uniforms: { u_poseChannels: pose.geometry.channels, u_gradChannels: grad.geometry.channels, u_poseElements: pose.size },
    outShape: pose.shape,
  });
}

/** Nearest proper rotation (det +1) of each 3×3 matrix (any layout of `matrices`·9 values) → [matrices, 9]. */
export function orthogonalise(m: Tensor, matrices: number): Tensor {
  expectGroups(m, matrices, 9, 'orthogonalise: matrix input');
  return m.runtime.run({
    kernel: 'smpl_orthogonalise',
    inputs: { M: m },
    uniforms: { u_inChannels: m.geometry.channels },
    outShape: [matrices, 9],
  });
}

/** dL/dM in M's own shape, from dL/dR (channels 0..8 of `grad`). */
export function orthogonaliseBackward(m: Tensor, grad: Tensor): Tensor {
  const matrices = m.size / 9;
  expectGradRows(grad, matrices, 'orthogonaliseBackward');
  return m.runtime.run({
    kernel: 'smpl_orthogonalise_backward',
    inputs: { M: m, Grad: grad },
    uniforms: { u_inChannels: m.geometry.channels, u_gradChannels: grad.geometry.channels, u_elements: m.size },
    outShape: m.shape,
  });
}

function expectGradRows(grad: Tensor, rows: number, what: string): void {
  const c = grad.geometry.channels;
  if (grad.geometry.rows !== rows || (c !== 9 && c !== 12)) {
    throw new ShapeError(`${what}: gradient ${shapeText(grad.shape)} should be ${rows} rows of 9 (dR) or 12 (dR, dJ) channels`);
  }
}

/** Absolute rotations [N·J, 9] → parent-relative [N·J, 9]. */
export function relativeRotations(model: GpuBodyModel, absolute: Tensor): Tensor {
  if (absolute.shape.length !== 2 || absolute.shape[1] !== 9 || absolute.shape[0] % model.jointCount !== 0) {
    throw new ShapeError(`relativeRotations: expected [N·${model.jointCount}, 9] rotations, got ${shapeText(absolute.shape)}`);
  }
  return absolute.runtime.run({
    kernel: 'smpl_relative',
    inputs: { Rotations: absolute },
    uniforms: { u_joints: model.jointCount, u_parents: model.parentsUniform },
    outShape: absolute.shape,
  });
}

/** dL/dR_abs [N·J, 9] from dL/d local (channels 0..8 of `grad`). */
export function relativeRotationsBackward(model: GpuBodyModel, absolute: Tensor, grad: Tensor): Tensor {
  expectGradRows(grad, absolute.shape[0], 'relativeRotationsBackward');
  return absolute.runtime.run({
    kernel: 'smpl_relative_backward',
    inputs: { Rotations: absolute, Grad: grad },
    uniforms: { u_joints: model.jointCount, u_parents: model.parentsUniform, u_gradChannels: grad.geometry.channels },
    outShape: absolute.shape,
  });
}

/** Rotation matrices [M, 9] → axis-angle [M, 3] (angles in [0, π]). */
export function axisAngle(rotations: Tensor): Tensor {
  if (rotations.shape.length !== 2 || rotations.shape[1] !== 9) {
    throw new ShapeError(`axisAngle: expected [M, 9] row-major rotations, got ${shapeText(rotations.shape)}`);
  }
  return rotations.runtime.run({ kernel: 'smpl_axis_angle', inputs: { Rotations: rotations }, outShape: [rotations.shape[0], 3] });
}

// ------------------------------------------------------------------------------- body

/** Rest joints of the shaped bodies: [N·J, 3]. */
export function restJoints(model: GpuBodyModel, betas: Tensor): Tensor {
  const n = betas.shape[0];
  expectShape(betas, [n, model.shapeCount], 'restJoints: betas');
  return betas.runtime.run({
    kernel: 'smpl_joints',
    inputs: { Betas: betas, JointTemplate: model.jointTemplate, JointShapedirs: model.jointShapedirs },
    uniforms: { u_joints: model.jointCount, u_shapes: model.shapeCount },
    outShape: [n * model.jointCount, 3],
  });
}

/** Blend coefficients [N, B + P] = [β | (R_j − I) for j ≥ 1]. */
export function blendCoefficients(model: GpuBodyModel, betas: Tensor, local: Tensor): Tensor {
  const n = betas.shape[0];
  expectShape(local, [n * model.jointCount, 9], 'blendCoefficients: local rotations');
  return betas.runtime.run({
    kernel: 'smpl_coefficients',
    inputs: { Betas: betas, Rotations: local },
    uniforms: { u_joints: model.jointCount, u_shapes: model.shapeCount, u_poseFeatures: model.poseFeatureCount },
    outShape: [n, model.coefficientCount],
  });
}

/** Forward kinematics: { transforms G [N·J, 12], restRemoved A [N·J, 12] } (two draws of smpl_chain). */
export function kinematicChain(model: GpuBodyModel, local: Tensor, joints: Tensor): { transforms: Tensor; restRemoved: Tensor } {
  expectShape(joints, [local.shape[0], 3], 'kinematicChain: rest joints');
  const call = (restRemoved: boolean) => local.runtime.run({
    kernel: 'smpl_chain',
    defines: { REST_REMOVED: restRemoved },
    inputs: { Rotations: local, RestJoints: joints },
    uniforms: { u_joints: model.jointCount, u_parents: model.parentsUniform },
    outShape: [local.shape[0], 12],
  });
  return { transforms: call(false), restRemoved: call(true) };
}

// ------------------------------------------------------------------------------- blend products

/** Which kernel computes the blend-shape products: 'quad' (smpl_quad_product) or 'matmul' (src/kernels/matmul.ts). */
export type BlendProductKernel = 'quad' | 'matmul';

const kernelChoice = probedChoice<BlendProductKernel>('forceBlendProductKernel', ['quad', 'matmul'], (rt) => (fineDerivativesWork(rt) ? 'quad' : 'matmul'));

/**
 * The kernel the blend products use on `rt`: smpl_quad_product where the context computes fine
 * derivatives (smpl_quad_probe, run once per context: llvmpipe does), else the team's matmul, which
 * needs 2× the texture reads but no derivatives.
 */
export function blendProductKernel(rt: Runtime): BlendProductKernel {
  return kernelChoice.get(rt);
}

/** Forces the blend-product kernel on `rt` (tests, benchmarks); null returns to the probed choice. */
export function forceBlendProductKernel(rt: Runtime, kind: BlendProductKernel | null): void {
  kernelChoice.force(rt, kind);
}

/** Runs smpl_quad_probe on 16×16 texels of known values: do ± dFdx / dFdy give the neighbours? */
function fineDerivativesWork(rt: Runtime): boolean {
  const side = 16;
  const values = Float32Array.from({ length: side * side }, (_, i) => ((i * 7919) % 997) / 31 - 16);
  return rt.scope(() => {
    const out = rt.run({ kernel: 'smpl_quad_probe', inputs: { X: rt.tensor(values, [side * side, 1]) }, outShape: [side * side, 4] });
    const width = out.texture.width;
    const got = out.readSync();
    for (let t = 0; t < values.length; t++) {
      const x = t % width;
      const y = Math.floor(t / width);
      const right = x & 1 ? t - 1 : t + 1;
      const above = y & 1 ? t - width : t + width;
      // Exchanged values come back within an ulp of the larger one (|values| < 17).
      if (above >= values.length || Math.abs(got[4 * t + 1] - values[right]) > 1e-5 || Math.abs(got[4 * t + 2] - values[above]) > 1e-5) return false;
    }
    return true;
  });
}

/**
 * 2×2 blocks of P[b] = A[b]·Bt[b]ᵀ for k-contiguous a [batches or 1, M, K] and bt [batches or 1, N, K]
 * (rank 2 = one matrix, shared by every batch), in the layout of the kernel `kind`
 * (smpl_quad_product's quad layout or matmul.glsl's).
 */
function blockProduct(a: Tensor, bt: Tensor, batches: number, kind: BlendProductKernel): Tensor {
  const [M, K] = a.shape.slice(-2);
  const [N, bK] = bt.shape.slice(-2);
  const aMatrices = a.shape.length === 3 ? a.shape[0] : 1;
  const bMatrices = bt.shape.length === 3 ? bt.shape[0] : 1;
  if (K !== bK || (aMatrices !== 1 && aMatrices !== batches) || (bMatrices !== 1 && bMatrices !== batches)) {
    throw new ShapeError(`blend product: ${shapeText(a.shape)} and ${shapeText(bt.shape)} are not ${batches} batches of [M, K] · [N, K]ᵀ`);
  }
  if (kind === 'matmul') {
    const batchShape = (t: Tensor) => (t.shape.length === 3 ? t.shape : [1, ...t.shape]);
    return matmulBlocks(a, bt, planMatmul(batchShape(a), batchShape(bt), { transposeB: true }));
  }
  const superBlocks = batches * Math.ceil(M / 4) * Math.ceil(N / 4);
  const texels = quadLayoutTexels(a.runtime, superBlocks);
  const blocks = a.runtime.run({
    kernel: 'smpl_quad_product',
    inputs: { A: a, Bt: bt },
    uniforms: { u_M: M, u_N: N, u_K: K, u_superBlocks: superBlocks, u_aBatchStride: aMatrices === 1 ? 0 : 1, u_bBatchStride: bMatrices === 1 ? 0 : 1 },
    outShape: [texels, 4],
  });
  if (blocks.geometry.texels !== texels || blocks.texture.width * 2 * Math.ceil(superBlocks / (blocks.texture.width >> 1)) > texels) {
    blocks.dispose();
    throw new NbfError(`smpl_quad_product: the texture pool gave a ${blocks.texture.width}-wide texture; quadLayoutTexels assumed another width`);
  }
  return blocks;
}

/** The blend product P = D·cᵀ as 2×2 blocks, in the layout of the kernel that computed it. */
export interface BlendBlocks {
  blocks: Tensor;
  kernel: BlendProductKernel;
  bodies: number;
}

/**
 * Shape and pose blend offsets D·cᵀ ([V·3, Q] × [Q, N]) as 2×2 blocks (blockProduct; both operands
 * are stored k-contiguous, so no pack pass). smpl_posed or smpl_skin add the template.
 */
export function blendBlocks(model: GpuBodyModel, coefficients: Tensor): BlendBlocks {
  const n = coefficients.shape[0];
  expectShape(coefficients, [n, model.coefficientCount], 'blendVertices: coefficients');
  const kernel = blendProductKernel(coefficients.runtime);
  return { blocks: blockProduct(model.blendDirs, coefficients, 1, kernel), kernel, bodies: n };
}

/** v_posed, VERTEX-MAJOR [V, N, 3] = template + blend offsets (smpl_posed). */
export function posedVertices(model: GpuBodyModel, blend: BlendBlocks): Tensor {
  return blend.blocks.runtime.run({
    kernel: 'smpl_posed',
    defines: { QUAD_LAYOUT: blend.kernel === 'quad' },
    inputs: { Blocks: blend.blocks, Template: model.template },
    uniforms: { u_bodies: blend.bodies },
    outShape: [model.vertexCount, blend.bodies, 3],
  });
}

/** Shape and pose blend shapes: v_posed, VERTEX-MAJOR [V, N, 3]. */
export function blendVertices(model: GpuBodyModel, coefficients: Tensor): Tensor {
  const rt = coefficients.runtime;
  return rt.scope(() => posedVertices(model, blendBlocks(model, coefficients)));
}

/**
 * LBS + translation: vertices [N, V, 3] from v_posed [V, N, 3] (vertex-major), or straight from the
 * blend blocks (adding the template itself: one pass and one 220 k-texel write fewer at N = 32 when
 * nothing needs v_posed afterwards).
 */
export function skinVertices(model: GpuBodyModel, posed: Tensor | BlendBlocks, restRemoved: Tensor, trans: Tensor): Tensor {
  const n = trans.shape[0];
  const fromBlocks = !('shape' in posed);
  if (fromBlocks) {
    if (posed.bodies !== n) throw new ShapeError(`skinVertices: blend blocks of ${posed.bodies} bodies, trans ${shapeText(trans.shape)}`);
  } else {
    expectShape(posed, [model.vertexCount, n, 3], 'skinVertices: posed vertices (vertex-major)');
  }
  expectShape(restRemoved, [n * model.jointCount, 12], 'skinVertices: skinning transforms');
  const common = { SkinJoints: model.skinJoints, SkinWeights: model.skinWeights, RestRemoved: restRemoved, Trans: trans };
  return trans.runtime.run({
    kernel: 'smpl_skin',
    defines: fromBlocks ? { POSED_FROM_BLOCKS: true, QUAD_LAYOUT: posed.kernel === 'quad' } : { POSED_FROM_BLOCKS: false },
    inputs: fromBlocks ? { ...common, Blocks: posed.blocks, Template: model.template } : { ...common, Posed: posed },
    uniforms: { u_vertices: model.vertexCount, u_bodies: n, u_joints: model.jointCount, u_influences: model.influences },
    outShape: [n, model.vertexCount, 3],
  });
}

export type CameraKind = 'perspective' | 'weak';

/** Posed joints [N, J, 3]. */
export function posedJoints(model: GpuBodyModel, transforms: Tensor, trans: Tensor): Tensor {
  return transforms.runtime.run({
    kernel: 'smpl_project',
    defines: { PROJECTED: false },
    inputs: { Transforms: transforms, Trans: trans },
    uniforms: { u_joints: model.jointCount },
    outShape: [trans.shape[0], model.jointCount, 3],
  });
}

/** Projected joints [N, J, 2]. */
export function projectJoints(model: GpuBodyModel, transforms: Tensor, trans: Tensor, camera: Tensor, kind: CameraKind): Tensor {
  return transforms.runtime.run({
    kernel: 'smpl_project',
    defines: { PROJECTED: true, PERSPECTIVE: kind === 'perspective' },
    inputs: { Transforms: transforms, Trans: trans, Camera: camera },
    uniforms: { u_joints: model.jointCount },
    outShape: [trans.shape[0], model.jointCount, 2],
  });
}

// ------------------------------------------------------------------------------- backward

/** Sums blocks of `blockTexels` texels over `chunks` consecutive chunks per body. */
export function chunkSum(x: Tensor, bodies: number, chunks: number, outShape: readonly number[]): Tensor {
  const blockTexels = x.geometry.texels / (bodies * chunks);
  if (!Number.isInteger(blockTexels) || packedGeometry(outShape).texels !== bodies * blockTexels) {
    throw new ShapeError(`chunkSum: ${shapeText(x.shape)} is not ${bodies} bodies × ${chunks} chunks of ${shapeText(outShape)}`);
  }
  return x.runtime.run({ kernel: 'smpl_chunk_sum', inputs: { X: x }, uniforms: { u_chunks: chunks, u_blockTexels: blockTexels }, outShape });
}

/** Gradient w.r.t. each posed joint position (before trans): [N, J, 3]. */
export function projectBackward(model: GpuBodyModel, gradJoints: Tensor, gradJoints2d: Tensor, transforms: Tensor, trans: Tensor, camera: Tensor, kind: CameraKind): Tensor {
  const n = trans.shape[0];
  expectShape(gradJoints, [n, model.jointCount, 3], 'projectBackward: joints gradient');
  expectShape(gradJoints2d, [n, model.jointCount, 2], 'projectBackward: joints2d gradient');
  return trans.runtime.run({
    kernel: 'smpl_project_backward',
    defines: { PERSPECTIVE: kind === 'perspective' },
    inputs: { GradJoints: gradJoints, GradProjected: gradJoints2d, Transforms: transforms, Trans: trans, Camera: camera },
    uniforms: { u_joints: model.jointCount },
    outShape: [n, model.jointCount, 3],
  });
}

/** Camera gradient (the camera's shape). */
export function cameraBackward(model: GpuBodyModel, gradJoints2d: Tensor, transforms: Tensor, trans: Tensor, camera: Tensor, kind: CameraKind): Tensor {
  return trans.runtime.run({
    kernel: 'smpl_camera_backward',
    defines: { PERSPECTIVE: kind === 'perspective' },
    inputs: { GradProjected: gradJoints2d, Transforms: transforms, Trans: trans, Camera: camera },
    uniforms: { u_joints: model.jointCount },
    outShape: camera.shape,
  });
}

/** dL/dA [N·J, 12] from the vertex gradient [N, V, 3] and v_posed [V, N, 3]. */
export function skinBackward(model: GpuBodyModel, gradVertices: Tensor, posed: Tensor): Tensor {
  const n = gradVertices.shape[0];
  expectShape(gradVertices, [n, model.vertexCount, 3], 'skinBackward: vertex gradient');
  expectShape(posed, [model.vertexCount, n, 3], 'skinBackward: posed vertices (vertex-major)');
  const chunks = model.influenceChunks;
  const rt = gradVertices.runtime;
  return rt.scope(() => {
    const partial = rt.run({
      kernel: 'smpl_skin_backward',
      inputs: { GradVertices: gradVertices, Posed: posed, JointInfluences: model.jointInfluences },
      uniforms: { u_vertices: model.vertexCount, u_bodies: n, u_joints: model.jointCount, u_chunkSize: INFLUENCE_CHUNK, u_chunks: chunks },
      outShape: [chunks * n * model.jointCount, 12],
    });
    return chunkSum(partial, 1, chunks, [n * model.jointCount, 12]);
  });
}

/** dL/dv_posed, body-major [N, V, 3] = Σ_k w·R(A)ᵀ·dV. */
export function verticesBackward(model: GpuBodyModel, gradVertices: Tensor, restRemoved: Tensor): Tensor {
  const n = gradVertices.shape[0];
  expectShape(gradVertices, [n, model.vertexCount, 3], 'verticesBackward: vertex gradient');
  return gradVertices.runtime.run({
    kernel: 'smpl_vertices_backward',
    inputs: { GradVertices: gradVertices, SkinJoints: model.skinJoints, SkinWeights: model.skinWeights, RestRemoved: restRemoved },
    uniforms: { u_vertices: model.vertexCount, u_bodies: n, u_joints: model.jointCount, u_influences: model.influences },
    outShape: [n, model.vertexCount, 3],
  });
}

/**
 * dL/dc [N, Q] = Dᵀ·dv_posed per body, from dv_posed [N, V, 3] (body-major). A long reduction over
 * the V·3 vertex components, split into chunks of BLEND_CHUNK_VERTICES vertices so that it has enough
 * fragments for llvmpipe's threads: smpl_blend_grad_pack lays dv_posed out as [chunks, N, 3·vc], the
 * block product (blockProduct) multiplies it per chunk with the chunked transposed directions
 * (GpuBodyModel.blendDirsByChunk), smpl_blend_grad_sum adds the chunks and unpacks the blocks.
 */
export function blendBackward(model: GpuBodyModel, gradPosed: Tensor): Tensor {
  const n = gradPosed.shape[0];
  expectShape(gradPosed, [n, model.vertexCount, 3], 'blendBackward: posed-vertex gradient (body-major)');
  const chunks = model.blendChunks;
  const rowLength = 3 * BLEND_CHUNK_VERTICES;
  const rt = gradPosed.runtime;
  return rt.scope(() => {
    const packed = rt.run({
      kernel: 'smpl_blend_grad_pack',
      inputs: { GradPosed: gradPosed },
      uniforms: { u_vertices: model.vertexCount, u_bodies: n, u_chunkVertices: BLEND_CHUNK_VERTICES },
      outShape: [chunks, n, rowLength],
    });
    const kind = blendProductKernel(rt);
    const blocks = blockProduct(model.blendDirsByChunk, packed, chunks, kind);
    return rt.run({
      kernel: 'smpl_blend_grad_sum',
      defines: { QUAD_LAYOUT: kind === 'quad' },
      inputs: { Blocks: blocks },
      uniforms: { u_bodies: n, u_coefficients: model.coefficientCount, u_chunks: chunks },
      outShape: [n, model.coefficientCount],
    });
  });
}

/** Ḡ [N·J, 12]: total gradient w.r.t. each global transform. */
export function chainBackwardGlobal(model: GpuBodyModel, gradRestRemoved: Tensor, gradPoints: Tensor, local: Tensor, joints: Tensor): Tensor {
  return local.runtime.run({
    kernel: 'smpl_chain_backward_global',
    inputs: { GradRestRemoved: gradRestRemoved, GradPoints: gradPoints, Rotations: local, RestJoints: joints },
    uniforms: { u_joints: model.jointCount, u_parents: model.parentsUniform },
    outShape: [local.shape[0], 12],
  });
}

/** [N·J, 12] = [dL/dR_local (9) | dL/dJ_rest (3)]. */
export function chainBackwardLocal(model: GpuBodyModel, globalGrad: Tensor, transforms: Tensor, gradRestRemoved: Tensor, coefficientGrad: Tensor): Tensor {
  return globalGrad.runtime.run({
    kernel: 'smpl_chain_backward_local',
    inputs: { GlobalGrad: globalGrad, Transforms: transforms, GradRestRemoved: gradRestRemoved, CoefficientGrad: coefficientGrad },
    uniforms: { u_joints: model.jointCount, u_parents: model.parentsUniform, u_shapes: model.shapeCount, u_poseFeatures: model.poseFeatureCount },
    outShape: [globalGrad.shape[0], 12],
  });
}

/** dL/dβ [N, B]. */
export function betasBackward(model: GpuBodyModel, coefficientGrad: Tensor, localGrad: Tensor): Tensor {
  const n = coefficientGrad.shape[0];
  return coefficientGrad.runtime.run({
    kernel: 'smpl_betas_backward',
    inputs: { CoefficientGrad: coefficientGrad, LocalGrad: localGrad, JointShapedirs: model.jointShapedirs },
    uniforms: { u_joints: model.jointCount, u_shapes: model.shapeCount, u_coefficients: model.coefficientCount },
    outShape: [n, model.shapeCount],
  });
}
