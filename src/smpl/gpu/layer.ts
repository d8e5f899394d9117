/**
 * The SMPL body-model layer on the GPU, batched, forward and backward (docs/kernels/smpl.md).
 *
 *   const gpuModel = GpuBodyModel.upload(runtime, model);
 *   const out = smplForward(gpuModel, { betas, pose, trans, camera, keepForBackward: true });
 *   const grads = smplBackward(gpuModel, out.saved!, { joints2d: dLossdJoints2d });
 *   out.saved!.dispose();
 *
 * Pose comes as parent-relative axis-angle (SMPL's θ) or as rotation matrices, parent-relative or
 * absolute (global, NBF's network output), optionally projected onto proper rotations first.
 * Every step is a GPU kernel; nothing is read back.
 */
import type { Tensor } from '../../runtime/tensor.js';
import { ShapeError } from '../../runtime/errors.js';
import { reshape } from '../../kernels/reshape.js';
import { slice } from '../../kernels/slice.js';
import { add } from '../../kernels/elementwise.js';
import type { GpuBodyModel } from './model.js';
import {
  axisAngle, betasBackward, blendBackward, blendBlocks, blendCoefficients, posedJoints, posedVertices, cameraBackward, chainBackwardGlobal, chainBackwardLocal, chunkSum,
  kinematicChain, orthogonalise, orthogonaliseBackward, projectBackward, projectJoints, relativeRotations,
  relativeRotationsBackward, restJoints, rodrigues, rodriguesBackward, skinBackward, skinVertices, verticesBackward, type CameraKind,
} from './kernels.js';

/**
 * Camera of the 2D joints, per body. Perspective: params [N, 4] = (fx, fy, cx, cy) in pixels, camera
 * at the origin looking down +Z (x right, y down): u = fx·X/Z + cx, v = fy·Y/Z + cy — trans must put
 * the body in front of the camera (Z > 0). Weak perspective: params [N, 3] = (s, tx, ty):
 * u = s·X + tx, v = s·Y + ty.
 */
export type SmplCamera = { type: 'perspective'; params: Tensor } | { type: 'weak'; params: Tensor };

export interface SmplGpuInputs {
  /** [N, B] shape coefficients (B = the model's shapeCount). */
  betas: Tensor;
  /** Parent-relative axis-angle, [N, J, 3] or [N, J·3] (index 0 the global orientation). */
  pose?: Tensor;
  /** Rotation matrices, row-major, any shape holding N·J·9 values in (n, joint, entry) order. */
  rotations?: Tensor;
  /** Frame of `rotations`: 'relative' (SMPL's, default) or 'absolute' (global; NBF's network output). */
  frame?: 'relative' | 'absolute';
  /** Project `rotations` onto proper rotations (det +1) first (default true). */
  orthogonalise?: boolean;
  /** [N, 3] global translation (default 0). */
  trans?: Tensor;
  /** Camera for joints2d; without one joints2d is null. */
  camera?: SmplCamera;
  /** Keep the intermediates smplBackward needs (default false). */
  keepForBackward?: boolean;
}

export interface SmplGpuResult {
  /** [N, V, 3] posed, translated vertices. */
  vertices: Tensor;
  /** [N, J, 3] posed, translated joints. */
  joints: Tensor;
  /** [N, J, 2] projected joints, or null without a camera. */
  joints2d: Tensor | null;
  /** Intermediates for smplBackward (keepForBackward); they live until saved.dispose(). */
  saved: SmplSaved | null;
}

export interface SmplGradients {
  betas: Tensor;
  /** Gradient w.r.t. `pose` (its shape), when the pose was axis-angle. */
  pose: Tensor | null;
  /** Gradient w.r.t. `rotations` (its shape), when rotations were given. */
  rotations: Tensor | null;
  /** [N, 3] (also when trans was not given: the gradient of a zero translation). */
  trans: Tensor;
  /** The camera's shape, when a camera was given. */
  camera: Tensor | null;
}

/** What the backward pass reads. Owns the intermediates it made; never disposes the caller's inputs. */
export class SmplSaved {
  private readonly owned: Tensor[];
  constructor(
    readonly batch: number,
    readonly inputs: { betas: Tensor; pose: Tensor | null; rotations: Tensor | null; frame: 'relative' | 'absolute'; orthogonalised: boolean },
    /** [N·J, 9] orthogonalised absolute rotations (absolute frame only). */
    readonly absolute: Tensor | null,
    readonly local: Tensor,
    readonly restJoints: Tensor,
    readonly transforms: Tensor,
    readonly restRemoved: Tensor,
    readonly posed: Tensor,
    readonly trans: Tensor,
    readonly camera: Tensor,
    readonly cameraKind: CameraKind,
    readonly cameraGiven: boolean,
    owned: Tensor[],
  ) {
    const rt = local.runtime;
    this.owned = owned.map((t) => rt.keep(t));
  }
  /** The intermediates this object owns (not the caller's inputs). */
  get ownedTensors(): readonly Tensor[] {
    return this.owned;
  }
  dispose(): void {
    for (const t of this.owned) t.dispose();
  }
}

function shapeText(s: readonly number[]): string {
  return `[${s.join(', ')}]`;
}

function checkModel(model: GpuBodyModel): void {
  if (model.isDisposed) throw new ShapeError(`the GPU body model "${model.source.name}" was disposed`);
}

/** Batched SMPL forward pass on the GPU. */
export function smplForward(model: GpuBodyModel, inputs: SmplGpuInputs): SmplGpuResult {
  checkModel(model);
  const { betas } = inputs;
  const J = model.jointCount;
  if (betas.shape.length !== 2 || betas.shape[1] !== model.shapeCount) {
    throw new ShapeError(`smplForward: betas should be [N, ${model.shapeCount}] for "${model.source.name}", got ${shapeText(betas.shape)}`);
  }
  const N = betas.shape[0];
  if (!!inputs.pose === !!inputs.rotations) throw new ShapeError('smplForward: give exactly one of pose (axis-angle) and rotations (matrices)');
  if (inputs.pose && (inputs.pose.shape[0] !== N || inputs.pose.size !== N * J * 3)) {
    throw new ShapeError(`smplForward: pose should be [${N}, ${J}, 3] or [${N}, ${J * 3}] axis-angle, got ${shapeText(inputs.pose.shape)}`);
  }
  if (inputs.rotations && (inputs.rotations.shape[0] !== N || inputs.rotations.size !== N * J * 9)) {
    throw new ShapeError(`smplForward: rotations should hold ${N}·${J} row-major 3×3 matrices (e.g. [${N}, ${J}, 9]), got ${shapeText(inputs.rotations.shape)}`);
  }
  if (inputs.trans && (inputs.trans.shape.length !== 2 || inputs.trans.shape[0] !== N || inputs.trans.shape[1] !== 3)) {
    throw new ShapeError(`smplForward: trans should be [${N}, 3], got ${shapeText(inputs.trans.shape)}`);
  }
  const cameraKind: CameraKind = inputs.camera?.type ?? 'weak';
  if (inputs.camera) {
    const c = inputs.camera;
    if (c.type !== 'perspective' && c.type !== 'weak') throw new ShapeError(`smplForward: camera type "${String((c as { type: unknown }).type)}"; use 'perspective' or 'weak'`);
    const width = c.type === 'perspective' ? 4 : 3;
    if (c.params.shape.length !== 2 || c.params.shape[0] !== N || c.params.shape[1] !== width) {
      throw new ShapeError(`smplForward: a ${c.type} camera needs params [${N}, ${width}] (${c.type === 'perspective' ? 'fx, fy, cx, cy' : 's, tx, ty'}), got ${shapeText(c.params.shape)}`);
    }
  }
  const frame = inputs.frame ?? 'relative';
  if (frame !== 'relative' && frame !== 'absolute') throw new ShapeError(`smplForward: frame "${String(frame)}"; use 'relative' or 'absolute'`);
  if (inputs.pose && inputs.frame === 'absolute') throw new ShapeError('smplForward: axis-angle pose is parent-relative; pass absolute rotations as matrices');
  const doOrthogonalise = inputs.orthogonalise ?? true;
  const keep = inputs.keepForBackward ?? false;
  const rt = betas.runtime;

  return rt.scope(() => {
    const trans = inputs.trans ?? rt.zeros([N, 3]);
    const camera = inputs.camera?.params ?? rt.zeros([N, 3]);
    let local: Tensor;
    let absolute: Tensor | null = null;
    if (inputs.pose) {
      local = rodrigues(inputs.pose, N * J);
    } else {
      const rotations = inputs.rotations as Tensor;
      const proper = doOrthogonalise ? orthogonalise(rotations, N * J) : reshape(rotations, [N * J, 9]);
      if (frame === 'absolute') {
        absolute = proper;
        local = relativeRotations(model, proper);
      } else {
        local = proper;
      }
    }
    const joints = restJoints(model, betas);
    const coefficients = blendCoefficients(model, betas, local);
    const { transforms, restRemoved } = kinematicChain(model, local, joints);
    const blend = blendBlocks(model, coefficients);
    // v_posed is only materialised for the backward pass (smpl_skin_backward reads it); otherwise
    // smpl_skin reads the blend blocks directly.
    const posed = keep ? posedVertices(model, blend) : null;
    const vertices = skinVertices(model, posed ?? blend, restRemoved, trans);
    const joints3d = posedJoints(model, transforms, trans);
    const joints2d = inputs.camera ? projectJoints(model, transforms, trans, camera, cameraKind) : null;
    let saved: SmplSaved | null = null;
    if (keep) {
      const posedVertexMajor = posed as Tensor; // made above whenever keep is set
      const owned = [local, joints, transforms, restRemoved, posedVertexMajor];
      if (absolute) owned.push(absolute);
      if (!inputs.trans) owned.push(trans);
      if (!inputs.camera) owned.push(camera);
      saved = new SmplSaved(
        N,
        { betas, pose: inputs.pose ?? null, rotations: inputs.rotations ?? null, frame, orthogonalised: doOrthogonalise },
        absolute, local, joints, transforms, restRemoved, posedVertexMajor, trans, camera, cameraKind, !!inputs.camera, owned,
      );
    }
    return { vertices, joints: joints3d, joints2d, saved };
  });
}

/** Gradients of the outputs of the vertices / joints / joints2d. Missing ones count as zero. */
export interface SmplOutputGradients {
  vertices?: Tensor;
  joints?: Tensor;
  joints2d?: Tensor;
}

/** Backward pass: gradients w.r.t. betas, pose or rotations, trans and camera. */
export function smplBackward(model: GpuBodyModel, saved: SmplSaved, grads: SmplOutputGradients): SmplGradients {
  checkModel(model);
  const N = saved.batch;
  const V = model.vertexCount;
  const J = model.jointCount;
  const expect = (t: Tensor | undefined, shape: number[], what: string) => {
    if (t && (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))) {
      throw new ShapeError(`smplBackward: the ${what} gradient should be ${shapeText(shape)}, got ${shapeText(t.shape)}`);
    }
  };
  expect(grads.vertices, [N, V, 3], 'vertices');
  expect(grads.joints, [N, J, 3], 'joints');
  expect(grads.joints2d, [N, J, 2], 'joints2d');
  if (grads.joints2d && !saved.cameraGiven) throw new ShapeError('smplBackward: a joints2d gradient was given but the forward pass had no camera');
  const rt = saved.local.runtime;

  return rt.scope(() => {
    const gradJoints = grads.joints ?? rt.zeros([N, J, 3]);
    const gradJoints2d = grads.joints2d ?? rt.zeros([N, J, 2]);
    const gradPoints = projectBackward(model, gradJoints, gradJoints2d, saved.transforms, saved.trans, saved.camera, saved.cameraKind);
    const camera = saved.cameraGiven ? cameraBackward(model, gradJoints2d, saved.transforms, saved.trans, saved.camera, saved.cameraKind) : null;
    const transFromJoints = chunkSum(gradPoints, N, J, [N, 3]);

    let gradRestRemoved: Tensor;
    let coefficientGrad: Tensor;
    let trans: Tensor;
    if (grads.vertices) {
      gradRestRemoved = skinBackward(model, grads.vertices, saved.posed);
      coefficientGrad = blendBackward(model, verticesBackward(model, grads.vertices, saved.restRemoved));
      trans = add(chunkSum(grads.vertices, N, V, [N, 3]), transFromJoints);
    } else {
      // A joints-only loss (NBF's 2D joint loss): skip every per-vertex kernel.
      gradRestRemoved = rt.zeros([N * J, 12]);
      coefficientGrad = rt.zeros([N, model.coefficientCount]);
      trans = transFromJoints;
    }
    const globalGrad = chainBackwardGlobal(model, gradRestRemoved, gradPoints, saved.local, saved.restJoints);
    const localGrad = chainBackwardLocal(model, globalGrad, saved.transforms, gradRestRemoved, coefficientGrad);
    const betas = betasBackward(model, coefficientGrad, localGrad);

    let pose: Tensor | null = null;
    let rotations: Tensor | null = null;
    if (saved.inputs.pose) {
      pose = rodriguesBackward(saved.inputs.pose, localGrad);
    } else {
      const input = saved.inputs.rotations as Tensor;
      // Gradient w.r.t. the (orthogonalised) rotations the chain saw, [N·J, 9 or 12].
      const properGrad = saved.absolute ? relativeRotationsBackward(model, saved.absolute, localGrad) : localGrad;
      if (saved.inputs.orthogonalised) {
        rotations = orthogonaliseBackward(input, properGrad);
      } else {
        const nine = properGrad.shape[1] === 9 ? properGrad : slice(properGrad, [0, 0], [N * J, 9]);
        rotations = reshape(nine, input.shape);
      }
    }
    return { betas, pose, rotations, trans, camera };
  });
}

/**
 * NBF's export on the GPU: absolute rotations (any shape holding N·J·9 values) → parent-relative
 * axis-angle [N, J·3] (SMPL's θ, 72 numbers for SMPL). Rotations are orthogonalised first unless told not to.
 */
export function absoluteToRelativeAxisAngle(model: GpuBodyModel, rotations: Tensor, options: { orthogonalise?: boolean } = {}): Tensor {
  checkModel(model);
  const J = model.jointCount;
  const N = rotations.shape[0];
  if (rotations.size !== N * J * 9) {
    throw new ShapeError(`absoluteToRelativeAxisAngle: rotations should hold ${N}·${J} row-major 3×3 matrices, got ${shapeText(rotations.shape)}`);
  }
  const rt = rotations.runtime;
  return rt.scope(() => {
    const proper = (options.orthogonalise ?? true) ? orthogonalise(rotations, N * J) : reshape(rotations, [N * J, 9]);
    const theta = axisAngle(relativeRotations(model, proper));
    return reshape(theta, [N, J * 3]);
  });
}
