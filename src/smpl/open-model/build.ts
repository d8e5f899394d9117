/**
 * Builds the open body model end to end: template mesh, labels and skinning, shape samples, PCA shape
 * space, joint regressor, and the measurements reported with it. Deterministic: the same options give
 * the same model, bit for bit.
 */
import { smplForward } from '../cpu-forward.js';
import { SMPL_JOINT_NAMES, SMPL_PARENTS, type BodyModel } from '../types.js';
import { validateBodyModel } from '../validate.js';
import { Rng } from '../../util/random.js';
import { buildBody, type Vec3 } from './body.js';
import { checkManifold, countSelfIntersections, signedVolume, signedVolumeAbout, vertexNeighbours } from './mesh-check.js';
import { meanParams, sampleParams, type BodyParams } from './params.js';
import { applyRegressor, fitJointRegressor } from './regressor.js';
import { bindVertices, deformToParams, pca } from './shape-space.js';
import { diffuseWeights, parts12Of, segmentByBone } from './skinning.js';
import { buildTemplateMesh, DEFAULT_TEMPLATE_OPTIONS, type TemplateOptions } from './template.js';
import type { TriangleMesh } from './polygonise.js';

export const OPEN_MODEL_NAME = 'nbf-open-body v1';
export const OPEN_MODEL_GENERATOR_VERSION = '1';

export interface BuildOptions {
  seed: number;
  /** Shape samples used for the PCA and to fit the regressor. */
  trainSamples: number;
  /** Further samples used only to measure the regressor. */
  heldOutSamples: number;
  shapeCount: number;
  /** Rounds of neighbour averaging that blur the skinning weights across joints. */
  weightDiffusion: number;
  template: TemplateOptions;
}

export const DEFAULT_BUILD_OPTIONS: BuildOptions = {
  seed: 20240605,
  trainSamples: 520,
  heldOutSamples: 100,
  shapeCount: 10,
  weightDiffusion: 10,
  template: DEFAULT_TEMPLATE_OPTIONS,
};

export interface BuildReport {
  vertices: number;
  faces: number;
  manifold: ReturnType<typeof checkManifold>;
  selfIntersections: number;
  templateVolumeLitres: number;
  statureAtZero: number;
  statureRange: [number, number];
  varianceExplained: number[];
  /** Pearson correlation of each component's sample coefficients with a few generator parameters. */
  componentCorrelations: Array<{ stature: number; girth: number; femininity: number }>;
  regressorTrainMm: { mean: number; max: number };
  regressorHeldOutMm: { mean: number; max: number };
  regressorEntries: number;
  /** Held-out sample bodies with at least one pair of intersecting triangles (out of heldOutSamples). */
  heldOutSelfIntersecting: number;
  /** Bodies at β = ±2 on one component (20 bodies) with intersecting triangles, and the worst count. */
  betaExtremesSelfIntersecting: number;
  betaExtremesWorstPairs: number;
  bends: Array<{ joint: string; localVolumeRatio: number }>;
  wholeVolumeRatioBent: number;
  seconds: Record<string, number>;
}

/** Everything the build derives from the template alone (cheap; also used by the tests). */
export interface TemplateStage {
  params: BodyParams;
  mesh: TriangleMesh;
  neighbours: Int32Array[];
  parts24: Uint8Array;
  parts12: Uint8Array;
}

export function buildTemplateStage(options: BuildOptions = DEFAULT_BUILD_OPTIONS): TemplateStage {
  const params = meanParams();
  const body = buildBody(params);
  const mesh = buildTemplateMesh(body, options.template);
  const V = mesh.positions.length / 3;
  const neighbours = vertexNeighbours(V, mesh.faces);
  const parts24 = segmentByBone(body, mesh.positions, neighbours);
  const parts12 = parts12Of(parts24, neighbours);
  return { params, mesh, neighbours, parts24, parts12 };
}

function flattenJoints(joints: Vec3[]): Float64Array {
  const out = new Float64Array(joints.length * 3);
  joints.forEach((j, i) => out.set(j, 3 * i));
  return out;
}

function jointErrorsMm(predicted: Float64Array, truth: Float64Array): number[] {
  const out: number[] = [];
  for (let j = 0; j < truth.length / 3; j++) {
    out.push(1000 * Math.hypot(predicted[3 * j] - truth[3 * j], predicted[3 * j + 1] - truth[3 * j + 1], predicted[3 * j + 2] - truth[3 * j + 2]));
  }
  return out;
}

function stature(positions: ArrayLike<number>): number {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 1; i < positions.length; i += 3) {
    lo = Math.min(lo, positions[i]);
    hi = Math.max(hi, positions[i]);
  }
  return hi - lo;
}

/** Axis-angle poses (72 numbers) that bend both elbows forward and both knees backward by 90°. */
export function elbowsAndKneesBentPose(): Float64Array {
  const pose = new Float64Array(72);
  const q = Math.PI / 2;
  pose[3 * 18 + 1] = -q; // left elbow: forearm (+X) swings to the front (+Z) about +Y
  pose[3 * 19 + 1] = q; // right elbow (forearm along −X)
  pose[3 * 4] = q; // left knee: shank (−Y) swings back (−Z) about +X
  pose[3 * 5] = q;
  return pose;
}

export function buildOpenBodyModel(options: BuildOptions = DEFAULT_BUILD_OPTIONS, log: (line: string) => void = () => {}): { model: BodyModel; report: BuildReport } {
  const seconds: Record<string, number> = {};
  let clock = performance.now();
  const lap = (name: string): void => {
    const now = performance.now();
    seconds[name] = Math.round(now - clock) / 1000;
    clock = now;
    log(`  ${name}: ${seconds[name]} s`);
  };

  log('template mesh (marching tetrahedra, decimation, relaxation)…');
  const stage = buildTemplateStage(options);
  const { mesh, neighbours, parts24, parts12 } = stage;
  const V = mesh.positions.length / 3;
  const manifold = checkManifold(V, mesh.faces);
  const selfIntersections = countSelfIntersections(mesh.positions, mesh.faces);
  log(`  ${V} vertices, ${mesh.faces.length / 3} faces, Euler ${manifold.euler}, self-intersections ${selfIntersections}`);
  lap('template');

  const skin = diffuseWeights(parts24, neighbours, options.weightDiffusion);
  const templateBody = buildBody(stage.params);
  const binding = bindVertices(templateBody, mesh.positions);
  lap('labels, skinning, binding');

  const total = options.trainSamples + options.heldOutSamples;
  log(`${total} shape samples…`);
  const rng = new Rng(options.seed);
  const shapes: Float64Array[] = [];
  const joints: Float64Array[] = [];
  const statures: number[] = [];
  const sampled: BodyParams[] = [];
  for (let s = 0; s < total; s++) {
    const params = sampleParams(rng);
    const { positions, body } = deformToParams(binding, params);
    shapes.push(positions);
    joints.push(flattenJoints(body.joints));
    statures.push(params.stature);
    sampled.push(params);
    if ((s + 1) % 100 === 0) log(`  ${s + 1}/${total}`);
  }
  lap('samples');

  const result = pca(shapes, options.shapeCount, [statures, sampled.map((p) => p.girth), sampled.map((p) => p.femininity)]);
  const varianceExplained: number[] = [];
  let cumulative = 0;
  for (const v of result.variances) varianceExplained.push((cumulative += v / result.totalVariance));
  const componentCorrelations = Array.from({ length: options.shapeCount }, (_, c) => {
    const coefficient = sampled.map((_, i) => result.coefficients[i * options.shapeCount + c]);
    return {
      stature: correlation(coefficient, sampled.map((p) => p.stature)),
      girth: correlation(coefficient, sampled.map((p) => p.girth)),
      femininity: correlation(coefficient, sampled.map((p) => p.femininity)),
    };
  });
  log(`  PCA: ${options.shapeCount} components explain ${(100 * cumulative).toFixed(2)} % of the variance`);
  lap('pca');

  const train = shapes.slice(0, options.trainSamples);
  const trainJoints = joints.slice(0, options.trainSamples);
  const regressor = fitJointRegressor(result.mean, applyMeanJoints(trainJoints), train, trainJoints);
  const errorStats = (set: Float64Array[], truth: Float64Array[]): { mean: number; max: number } => {
    let sum = 0;
    let n = 0;
    let max = 0;
    set.forEach((positions, i) => {
      for (const e of jointErrorsMm(applyRegressor(regressor, positions), truth[i])) {
        sum += e;
        n++;
        max = Math.max(max, e);
      }
    });
    return { mean: sum / n, max };
  };
  const regressorTrainMm = errorStats(train, trainJoints);
  const regressorHeldOutMm = errorStats(shapes.slice(options.trainSamples), joints.slice(options.trainSamples));
  log(`  regressor: ${regressor.values.length} entries; held-out error mean ${regressorHeldOutMm.mean.toFixed(2)} mm, max ${regressorHeldOutMm.max.toFixed(2)} mm`);
  lap('regressor');

  const B = options.shapeCount;
  const shapedirs = new Float64Array(V * 3 * B);
  for (let b = 0; b < B; b++) for (let d = 0; d < V * 3; d++) shapedirs[d * B + b] = result.scaledComponents[b * V * 3 + d];
  const model: BodyModel = {
    name: OPEN_MODEL_NAME,
    licence: 'MIT (same as nbf-gl); generated procedurally by scripts/build-body-model.ts, contains no SMPL data',
    units: 'm',
    vertexCount: V,
    jointCount: 24,
    shapeCount: B,
    poseFeatureCount: 9 * 23,
    vTemplate: result.mean,
    shapedirs,
    posedirs: null,
    jRegressor: regressor,
    skin,
    parents: Int32Array.from(SMPL_PARENTS),
    faces: mesh.faces,
    jointNames: [...SMPL_JOINT_NAMES],
    parts24,
    parts12,
    metadata: {
      generator: 'scripts/build-body-model.ts',
      generatorVersion: OPEN_MODEL_GENERATOR_VERSION,
      seed: String(options.seed),
      shapeSamples: String(options.trainSamples),
      heldOutSamples: String(options.heldOutSamples),
      varianceExplained: varianceExplained.map((x) => x.toFixed(4)).join(' '),
      regressorHeldOutMeanMm: regressorHeldOutMm.mean.toFixed(3),
      regressorHeldOutMaxMm: regressorHeldOutMm.max.toFixed(3),
    },
  };
  validateBodyModel(model, OPEN_MODEL_NAME);

  // Measurements on the finished model.
  const rest = smplForward(model);
  const bent = smplForward(model, { pose: elbowsAndKneesBentPose() });
  const bends: Array<{ joint: string; localVolumeRatio: number }> = [];
  for (const [j, radius] of [[18, 0.09], [19, 0.09], [4, 0.12], [5, 0.12]] as const) {
    const centre = rest.joints.subarray(3 * j, 3 * j + 3);
    const mask = new Uint8Array(mesh.faces.length / 3);
    for (let f = 0; f < mask.length; f++) {
      let inside = true;
      for (let c = 0; c < 3; c++) {
        const v = mesh.faces[3 * f + c];
        if (Math.hypot(rest.vertices[3 * v] - centre[0], rest.vertices[3 * v + 1] - centre[1], rest.vertices[3 * v + 2] - centre[2]) > radius) inside = false;
      }
      mask[f] = inside ? 1 : 0;
    }
    const before = signedVolumeAbout(rest.vertices, mesh.faces, centre, mask);
    const after = signedVolumeAbout(bent.vertices, mesh.faces, bent.joints.subarray(3 * j, 3 * j + 3), mask);
    bends.push({ joint: SMPL_JOINT_NAMES[j], localVolumeRatio: after / before });
  }
  const wholeVolumeRatioBent = signedVolume(bent.vertices, mesh.faces) / signedVolume(rest.vertices, mesh.faces);
  const heldOutSelfIntersecting = shapes.slice(options.trainSamples).filter((p) => countSelfIntersections(p, mesh.faces) > 0).length;
  let betaExtremesSelfIntersecting = 0;
  let betaExtremesWorstPairs = 0;
  for (let b = 0; b < B; b++) {
    for (const sign of [-2, 2]) {
      const betas = new Float64Array(B);
      betas[b] = sign;
      const pairs = countSelfIntersections(smplForward(model, { betas }).vertices, mesh.faces);
      if (pairs > 0) betaExtremesSelfIntersecting++;
      betaExtremesWorstPairs = Math.max(betaExtremesWorstPairs, pairs);
    }
  }
  log(`  self-intersecting bodies: ${heldOutSelfIntersecting}/${options.heldOutSamples} held-out samples, ${betaExtremesSelfIntersecting}/${2 * B} at β = ±2 (worst ${betaExtremesWorstPairs} triangle pairs)`);
  log(`  90° bends, local volume kept: ${bends.map((b) => `${b.joint} ${(100 * b.localVolumeRatio).toFixed(1)} %`).join(', ')}`);
  lap('measurements');

  const report: BuildReport = {
    vertices: V,
    faces: mesh.faces.length / 3,
    manifold,
    selfIntersections,
    templateVolumeLitres: 1000 * signedVolume(rest.vertices, mesh.faces),
    statureAtZero: stature(rest.vertices),
    statureRange: [Math.min(...statures), Math.max(...statures)],
    varianceExplained,
    componentCorrelations,
    regressorTrainMm,
    regressorHeldOutMm,
    regressorEntries: regressor.values.length,
    heldOutSelfIntersecting,
    betaExtremesSelfIntersecting,
    betaExtremesWorstPairs,
    bends,
    wholeVolumeRatioBent,
    seconds,
  };
  return { model, report };
}

/** Mean joint positions over samples (the rest joints the regressor's candidates are chosen around). */
function applyMeanJoints(joints: Float64Array[]): Float64Array {
  const out = new Float64Array(joints[0].length);
  for (const j of joints) for (let i = 0; i < out.length; i++) out[i] += j[i] / joints.length;
  return out;
}

function correlation(a: number[], b: number[]): number {
  const n = a.length;
  const ma = a.reduce((s, x) => s + x, 0) / n;
  const mb = b.reduce((s, x) => s + x, 0) / n;
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < n; i++) {
    ab += (a[i] - ma) * (b[i] - mb);
    aa += (a[i] - ma) ** 2;
    bb += (b[i] - mb) ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}
