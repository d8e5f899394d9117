/**
 * `nbf fit PHOTO|FOLDER...`: photos (PNG/JPEG, any size) → bodies, by one of three routes:
 *
 *   landmarks  BlazePose landmarks → the fitting network that reads them → refinement on them
 *              (src/pipeline/fit-photo.ts); without that network (--no-network, or no
 *              weights/nbf-fitter-landmarks.nbfw) the refinement starts from 8 facing directions.
 *              With the network the legs' landmarks are also read exchanged left ↔ right and that
 *              reading refined when the network's answer to it starts clearly better
 *              (src/pipeline/leg-check.ts; --no-leg-check reads them as detected only)
 *   parts      NBF's: segmenter → part map → fitting network → refinement on the part map
 *              (src/pipeline/fit-picture.ts); needs the segmenter's weights
 *   both       parts, with the landmarks' 2D joints joining the refinement, and the same check of
 *              the legs' sides (segmenter and networks on both readings)
 *
 * Per picture DIR/<name>/: params.json, body.glb, body.obj, overlay.png (the fitted body's parts over
 * the photo); parts.png (the predicted segmentation) on the part routes; landmarks.json and mask.png
 * where landmarks ran — written atomically. A batch runs on one model and one context; a bad picture
 * is reported and skipped.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createNodeContext } from '../runtime/node-context.js';
import type { Runtime } from '../runtime/runtime.js';
import { NbfError } from '../runtime/errors.js';
import { readImageFile } from '../io/image-file.js';
import { encodePng, type RgbaImage } from '../io/image.js';
import { encodeGlb } from '../io/glb.js';
import { encodeObj } from '../io/obj.js';
import { fittedBodyMesh } from '../io/mesh.js';
import { partColourMap, partLabelMap } from '../render/maps.js';
import { MeshRenderer } from '../render/renderer.js';
import { GpuBodyModel } from '../smpl/gpu/model.js';
import type { BodyModel } from '../smpl/types.js';
import { Skeleton } from '../synth/skeleton.js';
import { JOINT_NAMES } from '../synth/pose.js';
import { createPoseLandmarker, type BlazePoseVariant } from '../landmarks/model-files.js';
import { BLAZEPOSE_LANDMARKS } from '../landmarks/blazepose.js';
import { maskImage } from '../landmarks/draw.js';
import { fitPhoto, LANDMARK_ROUTE_STEPS, type PhotoFit } from '../pipeline/fit-photo.js';
import { landmarkNetwork } from '../pipeline/fit-landmarks.js';
import type { FittedBody } from '../pipeline/fitted-body.js';
import { fitPicture, DEFAULT_PICTURE_REFINE_STEPS, type PictureFit } from '../pipeline/fit-picture.js';
import { partsImage } from '../pipeline/segment.js';
import { loadFitterWeights, loadSegmenterWeights } from '../nn/weights-file.js';
import { defaultFitterWeightsPath, defaultLandmarkFitterWeightsPath, defaultSegmenterWeightsPath } from '../nn/default-weights.js';
import type { SegmenterNetwork } from '../nn/refinenet.js';
import type { FitterNetwork } from '../nn/fitter.js';
import { readFileSync } from 'node:fs';
import { ArgError, intFlag, parseArgs, stringFlag } from './args.js';
import { writeFolderAtomically } from './atomic-write.js';
import { bodyModelPathOrDefault, readBodyModelFile } from './body-model.js';
import { blazePoseVariantFlag, expandImageArgs, outputNames } from './landmarks.js';
import { numberFlag } from './train.js';

export const FIT_PHOTO_USAGE = 'nbf fit PHOTO|FOLDER... [--route landmarks|parts|both] [--out DIR] [--steps N] [--no-refine] [--no-network] [--no-leg-check] [--focal PX] [--weight-3d X] [--model full|lite|heavy] [--segmenter FILE.nbfw] [--no-mirror] [--fitter FILE.nbfw] [--body-model FILE]';

export const FIT_ROUTES = ['landmarks', 'parts', 'both'] as const;
export type FitRoute = (typeof FIT_ROUTES)[number];

/** The route `nbf fit` takes when --route is not given. */
export function defaultFitRoute(): FitRoute {
  return 'landmarks';
}

/** Overlays are drawn at most this many pixels on the longer side (the body is rendered at that size). */
const OVERLAY_MAX = 1024;

const r = (x: number, d = 6) => Number(x.toFixed(d));

/** The photo scaled by `s` (box filter), as RGB floats 0..255. */
function scaled(image: RgbaImage, width: number, height: number): Float32Array {
  const out = new Float32Array(width * height * 3);
  const sx = image.width / width;
  const sy = image.height / height;
  for (let y = 0; y < height; y++) {
    const y0 = Math.floor(y * sy);
    const y1 = Math.max(y0 + 1, Math.floor((y + 1) * sy));
    for (let x = 0; x < width; x++) {
      const x0 = Math.floor(x * sx);
      const x1 = Math.max(x0 + 1, Math.floor((x + 1) * sx));
      for (let c = 0; c < 3; c++) {
        let acc = 0;
        for (let yy = y0; yy < y1; yy++) for (let xx = x0; xx < x1; xx++) acc += image.data[4 * (yy * image.width + xx) + c];
        out[3 * (y * width + x) + c] = acc / ((y1 - y0) * (x1 - x0));
      }
    }
  }
  return out;
}

/** The fitted body's 12 parts drawn over the (darkened) photo, at most OVERLAY_MAX pixels wide or high. */
function overlay(rt: Runtime, renderer: MeshRenderer, image: RgbaImage, fit: Pick<PhotoFit, 'camera' | 'vertices'>): Uint8Array {
  const s = Math.min(1, OVERLAY_MAX / Math.max(image.width, image.height));
  const width = Math.max(1, Math.round(image.width * s));
  const height = Math.max(1, Math.round(image.height * s));
  const sx = width / image.width;
  const sy = height / image.height;
  const camera = Float32Array.from([fit.camera[0] * sx, fit.camera[1] * sy, fit.camera[2] * sx, fit.camera[3] * sy]);
  const drawn = rt.scope(() => {
    const gbuffer = renderer.render(rt.tensor(fit.vertices, [1, fit.vertices.length / 3, 3]), rt.tensor(camera, [1, 4]), { width, height });
    const labels = partLabelMap(gbuffer, 12);
    return { rgb: partColourMap(labels, 12).readSync(), labels: labels.readSync() };
  });
  const photo = s === 1 ? null : scaled(image, width, height);
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    const on = drawn.labels[i] > 0;
    for (let c = 0; c < 3; c++) {
      const under = photo ? photo[3 * i + c] : image.data[4 * i + c];
      data[4 * i + c] = Math.round(on ? 0.6 * drawn.rgb[3 * i + c] + 0.4 * under : 0.55 * under);
    }
    data[4 * i + 3] = 255;
  }
  return encodePng({ width, height, data });
}

/** The fields of params.json every route writes: size, β, pose, translation, camera, joints. */
function bodyJson(fit: FittedBody) {
  return {
    width: fit.width,
    height: fit.height,
    betas: Array.from(fit.betas, (x) => r(x)),
    pose: Array.from(fit.pose, (x) => r(x)),
    trans: Array.from(fit.trans, (x) => r(x)),
    camera: { fx: r(fit.camera[0], 3), fy: r(fit.camera[1], 3), cx: r(fit.camera[2], 3), cy: r(fit.camera[3], 3) },
    jointNames: [...JOINT_NAMES],
    joints3d: Array.from({ length: 24 }, (_, j) => [0, 1, 2].map((k) => r(fit.joints3d[3 * j + k]))),
    joints2d: Array.from({ length: 24 }, (_, j) => [0, 1].map((k) => r(fit.joints2d[2 * j + k], 3))),
  };
}

function paramsJson(path: string, model: BodyModel, variant: string, fit: PhotoFit, totalMs: number) {
  const crop = fit.network?.crop;
  return {
    source: path,
    route: 'landmarks',
    landmarkModel: `blazepose-${variant}`,
    bodyModel: model.name,
    ...bodyJson(fit),
    personScore: r(fit.landmarks.score, 4),
    // The landmark network's square crop of the photo (null: the route ran without the network).
    network: crop ? { crop: { x0: r(crop.x0, 3), y0: r(crop.y0, 3), side: r(crop.side, 3), networkInput: crop.size } } : null,
    refinement: fit.refine ? { startErrorPx: r(fit.refine.startError, 3), finalErrorPx: r(fit.refine.finalError, 3), loss: fit.refine.loss, start: fit.refine.chosen } : null,
    // The legs' landmarks read as detected and exchanged, each reading's start loss; exchanged: the
    // second was refined (landmarks.json stays as detected). Null without the network or refinement.
    legSides: fit.legSides,
    timingsMs: { landmarks: r(fit.timings.landmarksMs, 1), network: r(fit.timings.networkMs, 1), refine: r(fit.timings.refineMs, 1), total: r(totalMs, 1) },
  };
}

/** params.json of the part routes. */
function partsParamsJson(path: string, model: BodyModel, route: FitRoute, fit: PictureFit, totalMs: number, landmarksMs: number) {
  return {
    source: path,
    route,
    bodyModel: model.name,
    ...bodyJson(fit),
    personBox: fit.segmentation.box,
    // 'segmenter': its own first pass found the person; 'landmarks': BlazePose's person mask did, and
    // decided person or background in parts.png.
    personFrom: fit.segmentation.personMask ? 'landmarks' : 'segmenter',
    refinement: fit.refine ? { steps: fit.refine.steps, lossBefore: fit.refine.lossBefore, lossAfter: fit.refine.lossAfter, landmarks: fit.refine.landmarks, blendedWithLandmarkNetwork: fit.refine.blended } : null,
    // --route both: the legs' landmarks as detected and exchanged, each reading's start loss; exchanged:
    // the second was refined (landmarks.json stays as detected).
    legSides: fit.legSides,
    timingsMs: { landmarks: r(landmarksMs, 1), segment: r(fit.timings.segmentMs, 1), network: r(fit.timings.networkMs, 1), refine: r(fit.timings.refineMs, 1), total: r(totalMs, 1) },
  };
}

function landmarksJson(fit: Pick<PhotoFit, 'landmarks'>) {
  const p = fit.landmarks;
  return {
    score: r(p.score, 4),
    firstCrop: p.firstCrop,
    box: p.box.map((v) => r(v, 2)),
    names: [...BLAZEPOSE_LANDMARKS],
    keypoints: p.keypoints.map(([x, y, v]) => [r(x, 2), r(y, 2), r(v, 4)]),
    world: p.world.map((q) => q.map((v) => r(v, 4))),
  };
}

export async function fitPhotos(argv: string[]): Promise<number> {
  let inputs: string[];
  let out: string;
  let steps: number;
  let focal: number | undefined;
  let weight3d: number | undefined;
  let variant: BlazePoseVariant;
  let modelPath: string;
  let route: FitRoute;
  let refine: boolean;
  let mirror: boolean | undefined;
  let legSides: boolean | undefined;
  let segmenterPath: string | null = null;
  let fitterPath: string | null = null;
  try {
    const args = parseArgs(argv, ['out', 'steps', 'focal', 'weight-3d', 'model', 'body-model', 'route', 'segmenter', 'fitter'], ['no-refine', 'no-network', 'no-mirror', 'no-leg-check']);
    if (!args.positional.length) throw new ArgError('give at least one photo (PNG or JPEG) or folder');
    out = stringFlag(args, 'out') ?? 'out/fit';
    if (existsSync(out) && !statSync(out).isDirectory()) throw new ArgError(`--out ${out} exists and is not a directory`);
    const routeFlag = stringFlag(args, 'route') ?? defaultFitRoute();
    if (!(FIT_ROUTES as readonly string[]).includes(routeFlag)) throw new ArgError(`--route must be one of ${FIT_ROUTES.join(', ')}; got "${routeFlag}"`);
    route = routeFlag as FitRoute;
    refine = !args.flags.has('no-refine');
    if (route !== 'landmarks' && args.flags.has('no-network')) throw new ArgError('--no-network belongs to the landmarks route: the part routes are the fitting network');
    if (route === 'landmarks' && args.flags.has('segmenter')) throw new ArgError('--segmenter belongs to the part routes (--route parts|both)');
    // One look at everything: no mirrored second look by the segmenter, the fitting network or the landmark network.
    mirror = args.flags.has('no-mirror') ? false : undefined;
    if (route === 'parts' && args.flags.has('no-leg-check')) throw new ArgError('--no-leg-check belongs to the routes that read landmarks (landmarks, both)');
    legSides = args.flags.has('no-leg-check') ? false : undefined;
    if (route === 'landmarks') {
      if (args.flags.has('no-network')) {
        if (args.flags.has('fitter')) throw new ArgError('--fitter and --no-network contradict each other: give one of them');
      } else {
        fitterPath = stringFlag(args, 'fitter') ?? defaultLandmarkFitterWeightsPath();
        if (fitterPath !== null && !existsSync(fitterPath)) throw new ArgError(`--fitter ${fitterPath}: no such file`);
      }
      if (!refine && !fitterPath) throw new ArgError('--no-refine needs the landmark network (weights/nbf-fitter-landmarks.nbfw or --fitter FILE.nbfw): without it the landmarks route is a refinement');
    } else {
      segmenterPath = stringFlag(args, 'segmenter') ?? defaultSegmenterWeightsPath();
      if (!segmenterPath) throw new ArgError('the part routes need a segmenter: no weights/nbf-segmenter-compact.nbfw here; pass --segmenter FILE.nbfw');
      if (!existsSync(segmenterPath)) throw new ArgError(`--segmenter ${segmenterPath}: no such file`);
      fitterPath = stringFlag(args, 'fitter') ?? defaultFitterWeightsPath();
      if (!fitterPath) throw new ArgError('the part routes need the fitting network: no weights/nbf-fitter-compact.nbfw here; pass --fitter FILE.nbfw');
      if (!existsSync(fitterPath)) throw new ArgError(`--fitter ${fitterPath}: no such file`);
    }
    steps = intFlag(args, 'steps', route === 'landmarks' ? LANDMARK_ROUTE_STEPS[fitterPath ? 'network' : 'alone'] : DEFAULT_PICTURE_REFINE_STEPS, 2, 10_000);
    focal = args.flags.has('focal') ? numberFlag(args, 'focal', 1, 1, 1e6) : undefined;
    weight3d = args.flags.has('weight-3d') ? numberFlag(args, 'weight-3d', 0.05, 0, 100) : undefined;
    variant = blazePoseVariantFlag(args);
    modelPath = bodyModelPathOrDefault(stringFlag(args, 'body-model'));
    inputs = expandImageArgs(args.positional);
  } catch (e) {
    if (e instanceof ArgError) {
      console.error(`nbf fit: ${e.message}\nusage: ${FIT_PHOTO_USAGE}`);
      return 2;
    }
    throw e;
  }
  const model = readBodyModelFile(modelPath);
  const skeleton = new Skeleton(model);
  const rt = createNodeContext();
  const gpuModel = GpuBodyModel.upload(rt, model);
  const renderer = new MeshRenderer(rt, model);
  const tty = !!process.stderr.isTTY;
  let failures = 0;
  let segmenter: SegmenterNetwork | null = null;
  let fitter: FitterNetwork | null = null;
  // --route both: the landmark network too; its answer blended with the fitting network's starts the
  // refinement (fit-picture.ts, landmarkNetwork), when its weights are there.
  let bothLandmarkFitter: FitterNetwork | null = null;
  try {
    if (fitterPath) {
      try {
        if (segmenterPath) segmenter = loadSegmenterWeights(rt, new Uint8Array(readFileSync(segmenterPath)), segmenterPath).network;
        // The landmarks route's network reads landmarks, the part routes' the 12-part map.
        fitter = loadFitterWeights(rt, new Uint8Array(readFileSync(fitterPath)), fitterPath, { inputs: route === 'landmarks' ? ['landmarks'] : ['parts12', 'parts12+landmarks'] }).network;
        // Only the refinement starts from the blend: --no-refine does not need the network.
        const landmarkFitterPath = route === 'both' && refine ? defaultLandmarkFitterWeightsPath() : null;
        if (landmarkFitterPath) bothLandmarkFitter = loadFitterWeights(rt, new Uint8Array(readFileSync(landmarkFitterPath)), landmarkFitterPath, { inputs: ['landmarks'] }).network;
      } catch (e) {
        if (!(e instanceof NbfError)) throw e;
        console.error(`nbf fit: ${e.message}`);
        return 1;
      }
    }
    const network = route === 'landmarks' && fitter ? landmarkNetwork(fitter, gpuModel, { mirror }) : null;
    const blendNetwork = bothLandmarkFitter ? landmarkNetwork(bothLandmarkFitter, gpuModel, { mirror }) : null;
    // The landmark model is loaded only for the routes that read landmarks.
    const landmarker = route === 'parts' ? null : createPoseLandmarker(rt, { variant });
    try {
      const names = outputNames(inputs);
      for (const [i, path] of inputs.entries()) {
        const prefix = inputs.length > 1 ? `[${i + 1}/${inputs.length}] ` : '';
        try {
          const image = await readImageFile(path);
          const t0 = performance.now();
          const progress = (stage: number, step: number, total: number) => { if (tty) process.stderr.write(`\r${prefix}${path}: refinement stage ${stage}/2 step ${step}/${total}\x1b[K`); };
          const dir = join(out, names[i]);
          /** params.json (filled in last, with the total time), the body as glb and obj, the overlay. */
          const bodyFiles = (fit: Pick<PhotoFit, 'camera' | 'vertices' | 'joints3d'>) => {
            const mesh = fittedBodyMesh(model, fit);
            return [
              { path: join(dir, 'params.json'), data: '' },
              { path: join(dir, 'body.glb'), data: encodeGlb(mesh, { name: 'nbf fit', extras: { bodyModel: model.name, licence: model.licence } }) },
              { path: join(dir, 'body.obj'), data: encodeObj(mesh, { comments: [`nbf fit ${path}`, `body model ${model.name}`, 'centred on the pelvis'] }) },
              { path: join(dir, 'overlay.png'), data: overlay(rt, renderer, image, fit) },
            ];
          };
          const landmarkFiles = (landmarks: PhotoFit['landmarks']) => [
            { path: join(dir, 'landmarks.json'), data: JSON.stringify(landmarksJson({ landmarks }), null, 1) + '\n' },
            { path: join(dir, 'mask.png'), data: encodePng(maskImage(landmarks)) },
          ];
          if (segmenter && fitter) {
            const landmarks = route === 'both' && landmarker ? landmarker.detect(image) : null;
            const tLandmarks = performance.now();
            const fit = fitPicture(segmenter, fitter, gpuModel, skeleton, image, { refine, steps, landmarks, mirror, fitterMirror: mirror, landmarkNetwork: blendNetwork, legSides, progress });
            if (tty) process.stderr.write('\r\x1b[K');
            const files = [
              ...bodyFiles(fit),
              { path: join(dir, 'parts.png'), data: encodePng(partsImage(fit.segmentation.labels, image.width, image.height)) },
              ...(landmarks ? landmarkFiles(landmarks) : []),
            ];
            const totalMs = performance.now() - t0;
            files[0].data = JSON.stringify(partsParamsJson(path, model, route, fit, totalMs, tLandmarks - t0), null, 2) + '\n';
            writeFolderAtomically(dir, files);
            const loss = fit.refine ? `, refinement loss ${fit.refine.lossBefore.toExponential(2)} → ${fit.refine.lossAfter.toExponential(2)}` : ', not refined';
            const legs = fit.legSides?.exchanged ? ' (legs\' landmarks read exchanged left ↔ right)' : '';
            console.log(`${prefix}${path}: body fitted to the predicted part map${landmarks ? ' and landmarks' : ''}${legs}${loss}, ${(totalMs / 1000).toFixed(1)} s → ${dir}/`);
            continue;
          }
          if (!landmarker) throw new NbfError('internal: the landmarks route without a landmark model');
          const fit = fitPhoto(landmarker, gpuModel, skeleton, image, { steps, focal, weight3d, network, refine, legSides, progress });
          if (tty) process.stderr.write('\r\x1b[K');
          const files = [...bodyFiles(fit), ...landmarkFiles(fit.landmarks)];
          const totalMs = performance.now() - t0;
          files[0].data = JSON.stringify(paramsJson(path, model, landmarker.variant, fit, totalMs), null, 2) + '\n';
          writeFolderAtomically(dir, files);
          const seen = fit.targets.weights.filter((w) => w >= 0.25).length;
          const legs = fit.legSides?.exchanged ? ', legs\' landmarks read exchanged left ↔ right' : '';
          const how = fit.refine ? `${fit.network ? 'network, then ' : ''}refined: ${fit.refine.startError.toFixed(1)} → ${fit.refine.finalError.toFixed(1)} px${legs}` : 'the network\'s body, not refined';
          console.log(`${prefix}${path}: body fitted to ${seen} landmarks (${how}), ${(totalMs / 1000).toFixed(1)} s → ${dir}/`);
        } catch (e) {
          if (tty) process.stderr.write('\r\x1b[K');
          if (!(e instanceof NbfError) && !(e instanceof ArgError)) throw e;
          failures++;
          console.error(`${prefix}nbf fit: ${path}: ${e.name === 'Error' || e.name === 'NoPersonError' ? '' : e.name + ': '}${e.message}; nothing written`);
        }
      }
    } finally {
      landmarker?.dispose();
    }
  } finally {
    segmenter?.dispose();
    fitter?.dispose();
    bothLandmarkFitter?.dispose();
    renderer.dispose();
    gpuModel.dispose();
    rt.destroy();
  }
  if (inputs.length > 1 && failures) console.error(`nbf fit: ${failures} of ${inputs.length} pictures failed`);
  return failures ? 1 : 0;
}
