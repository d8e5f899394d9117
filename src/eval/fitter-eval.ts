/**
 * Evaluation of a fitting network on synthetic bodies (`nbf eval fitter`, and the trainer's
 * validation): examples 0..count−1 of a seed rendered as the network's input type (ground-truth
 * part maps, or the picture, or joint heatmaps: src/nn/fitter-inputs.ts), the network's
 * prediction posed by the body model, compared with the truth:
 *
 *   MPJPE      mean 3D joint error after aligning the root (pelvis) joints, metres
 *   PA-MPJPE   after a Procrustes (similarity) alignment of the predicted joints onto the true ones
 *   PVE        mean vertex error, root joints aligned
 *   2D         mean projected joint error in pixels at the network's input size
 *   angles     geodesic angle between predicted (orthogonalised) and true global rotations, per joint
 *   loss       the training loss on these examples
 *
 * Every number comes with the trivial predictor's on the same examples: the training-set mean
 * body (the head's "mean/latent": mean β and mean rotations, projected to rotations) placed at the
 * true translation — the floor any trained network must beat.
 */
import type { Runtime } from '../runtime/runtime.js';
import type { Tensor } from '../runtime/tensor.js';
import { orthogonalise } from '../smpl/gpu/kernels.js';
import { smplForward } from '../smpl/gpu/layer.js';
import type { SmplOutputs } from '../smpl/gpu/differentiable.js';
import type { SynthGenerator } from '../synth/generate.js';
import type { SamplerOptions } from '../synth/sampler.js';
import { FITTER_JOINTS, type FitterNetwork, type FitterPrediction } from '../nn/fitter.js';
import { DEFAULT_FITTER_LOSS, fitterLoss, type FitterLossWeights } from '../nn/fitter-loss.js';
import { disposeFitterBatch, fitterBatch, type FitterDataOptions } from '../train/fitter-data.js';
import type { DetectionCache } from '../train/detection-cache.js';
import { geodesicAngles, joint2dError, MetricAccumulator, mpjpe, paMpjpe, pve, type MetricReport } from './metrics.js';
import { JOINT_NAMES } from '../synth/pose.js';

export interface FitterEvalOptions {
  seed: number;
  count: number;
  batch?: number;
  loss?: FitterLossWeights;
  sampler?: Omit<SamplerOptions, 'size'>;
  /**
   * Replaces the 12-part class maps first (a segmenter's mistakes, or its labels); default:
   * ground-truth maps. Only for networks whose input contains the 12-part map.
   */
  corrupt?: FitterDataOptions['corrupt'];
  /** The detector's mistakes on the "landmarks" input (default: landmark-noise.ts's defaults). */
  landmarkNoise?: FitterDataOptions['landmarkNoise'];
  /**
   * A real detector's joints on renders (train/detection-cache.ts) as the "landmarks" input: the
   * file's bodies, records 0 … count − 1, in place of `seed`'s.
   */
  detections?: DetectionCache;
  /** Skip the per-vertex error (saves reading vertices back). */
  skipVertices?: boolean;
  /** Called after each batch with the examples done. */
  progress?: (done: number, total: number) => void;
}

export interface FitterSummary {
  loss: number;
  /** Metres. */
  mpjpe: number;
  paMpjpe: number;
  pve: number;
  /** Pixels at the network's input size. */
  joint2dPx: number;
  /** Mean over joints and examples, degrees. */
  angleDeg: number;
}

export interface FitterEvaluation {
  summary: FitterSummary;
  baseline: Omit<FitterSummary, 'loss'>;
  report: MetricReport;
  baselineReport: MetricReport;
  count: number;
}

interface Read {
  joints: Float32Array;
  joints2d: Float32Array;
  vertices: Float32Array | null;
  rotations: Float32Array;
}

/** Reads a prediction's posed body back (`body`: the prediction's, when the caller already made it). */
function readBody(model: SynthGenerator['gpuModel'], net: FitterNetwork, p: FitterPrediction, withVertices: boolean, posed?: SmplOutputs): Read {
  const rt = net.runtime;
  return rt.scope(() => {
    const body = posed ?? net.body(model, p);
    const N = p.latent.shape[0];
    return {
      joints: body.joints.readSync(),
      joints2d: (body.joints2d as Tensor).readSync(),
      vertices: withVertices ? body.vertices.readSync() : null,
      rotations: orthogonalise(p.rotations, N * FITTER_JOINTS).readSync(),
    };
  });
}

export function evaluateFitter(rt: Runtime, net: FitterNetwork, generator: SynthGenerator, o: FitterEvalOptions): FitterEvaluation {
  const batchSize = o.batch ?? 32;
  const size = net.config.inputSize;
  const shapeCount = net.config.shapeCount;
  const lossWeights = o.loss ?? DEFAULT_FITTER_LOSS;
  const acc = new MetricAccumulator({ lengthScale: 1, lengthUnit: 'm', jointNames: [...JOINT_NAMES] });
  const base = new MetricAccumulator({ lengthScale: 1, lengthUnit: 'm', jointNames: [...JOINT_NAMES] });
  const J = FITTER_JOINTS;
  const V = generator.gpuModel.vertexCount;
  const withVertices = !o.skipVertices;
  const meanLatent = net.buffers.get('mean/latent').readSync();
  const L = net.latentSize;
  let lossSum = 0;
  for (let start = 0; start < o.count; start += batchSize) {
    const n = Math.min(batchSize, o.count - start);
    const b = fitterBatch(rt, generator, n, o.seed, start, { size, shapeCount, input: net.input, sampler: o.sampler, corrupt: o.corrupt, landmarkNoise: o.landmarkNoise, detections: o.detections ? { cache: o.detections, share: 1, inOrder: true } : undefined });
    try {
      const result = rt.scope(() => {
        const params = net.params.toRecord();
        const prediction = net.forward(params, b.inputs, false);
        // One pass of the body layer serves the loss and the metrics.
        const body = net.body(generator.gpuModel, prediction);
        const loss = fitterLoss(prediction, body, b.targets, size, lossWeights).total.readSync()[0];
        const pred = readBody(generator.gpuModel, net, prediction, withVertices, body);
        // The trivial predictor: the mean latent with each example's true camera latent.
        const trivial = new Float32Array(n * L);
        const truthLatent = b.targets.latent.readSync();
        b.examples.forEach((_, i) => {
          trivial.set(meanLatent, i * L);
          trivial.set(truthLatent.subarray(i * L + L - 3, i * L + L), i * L + L - 3);
        });
        const baseline = readBody(generator.gpuModel, net, net.decode(rt.tensor(trivial, [n, L])), withVertices);
        const rows = (pick: (e: (typeof b.examples)[number]) => ArrayLike<number>, width: number) => rt.tensor(Float32Array.from(b.examples.flatMap((e) => Array.from(pick(e)))), [n, width]);
        const truth = withVertices
          ? smplForward(generator.gpuModel, { betas: rows((e) => e.betas.subarray(0, shapeCount), shapeCount), pose: rows((e) => e.pose, 72), trans: rows((e) => e.trans, 3) })
          : null;
        return {
          loss,
          pred,
          baseline,
          truthJoints: b.targets.joints3d.readSync(),
          truthJoints2d: b.targets.joints2d.readSync(),
          truthVertices: truth ? truth.vertices.readSync() : null,
          truthRotations: truthLatent,
        };
      });
      lossSum += result.loss * n;
      for (let i = 0; i < n; i++) {
        const tj = result.truthJoints.subarray(i * J * 3, (i + 1) * J * 3);
        const t2 = result.truthJoints2d.subarray(i * J * 2, (i + 1) * J * 2);
        const tr = result.truthRotations.subarray(i * L + shapeCount, i * L + shapeCount + J * 9);
        const tv = result.truthVertices?.subarray(i * V * 3, (i + 1) * V * 3);
        for (const [r, into] of [[result.pred, acc], [result.baseline, base]] as const) {
          const pj = r.joints.subarray(i * J * 3, (i + 1) * J * 3);
          const pv = r.vertices?.subarray(i * V * 3, (i + 1) * V * 3);
          into.add({
            mpjpe: mpjpe(pj, tj, J),
            paMpjpe: paMpjpe(pj, tj, J),
            pve: pv && tv ? pve(pv, tv, V, { predRoot: pj.subarray(0, 3), targetRoot: tj.subarray(0, 3) }) : undefined,
            px: joint2dError(r.joints2d.subarray(i * J * 2, (i + 1) * J * 2), t2, J),
            jointAngles: geodesicAngles(r.rotations.subarray(i * J * 9, (i + 1) * J * 9), tr, J),
          });
        }
      }
    } finally {
      disposeFitterBatch(b);
    }
    o.progress?.(Math.min(start + n, o.count), o.count);
  }
  const summaryOf = (a: MetricAccumulator) => {
    const m = a.means();
    const angles = a.perJointAnglesDeg();
    return { mpjpe: m.mpjpe, paMpjpe: m.paMpjpe, pve: withVertices ? m.pve : NaN, joint2dPx: m.px, angleDeg: angles.reduce((s, v) => s + v, 0) / angles.length };
  };
  return { summary: { loss: lossSum / o.count, ...summaryOf(acc) }, baseline: summaryOf(base), report: acc.report(), baselineReport: base.report(), count: o.count };
}
