/**
 * `nbf fit --from parts PARTS.png`: a colour-coded 12-part map (NBF's palette, any size) → the body:
 * DIR/params.json, DIR/body.glb, DIR/body.obj and DIR/overlay.png (the predicted body's part map over
 * the input), all written atomically. `nbf eval fitter`: the fitter's errors on synthetic bodies
 * next to the mean-pose floor. Both thin: the work is in src/pipeline and src/eval.
 */
import { existsSync, readFileSync, statSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PNG } from 'pngjs';
import { createNodeContext } from '../runtime/node-context.js';
import type { Runtime } from '../runtime/runtime.js';
import { partColourMap, partLabelMap } from '../render/maps.js';
import { MeshRenderer } from '../render/renderer.js';
import { GpuBodyModel } from '../smpl/gpu/model.js';
import type { BodyModel } from '../smpl/types.js';
import { encodeGlb } from '../io/glb.js';
import { encodeObj } from '../io/obj.js';
import { fittedBodyMesh } from '../io/mesh.js';
import { loadFitterWeights, type LoadFitterOptions, type WeightsMeta } from '../nn/weights-file.js';
import { corruptibleInput, fitterInputInfo } from '../nn/fitter-inputs.js';
import { defaultFitterWeightsPath, DEFAULT_FITTER_FILE } from '../nn/default-weights.js';
import type { FitterNetwork } from '../nn/fitter.js';
import { classifyPartColours, type ClassMap } from '../pipeline/part-map.js';
import { fitPartMap, type BodyFit } from '../pipeline/fit-parts.js';
import { evaluateFitter } from '../eval/fitter-eval.js';
import { SynthGenerator } from '../synth/generate.js';
import { partNoiseCorruptor } from '../train/fitter-data.js';
import { JOINT_NAMES } from '../synth/pose.js';
import { ArgError, intFlag, parseArgs, stringFlag } from './args.js';
import { writeFilesAtomically } from './atomic-write.js';
import { bodyModelPathOrDefault, readBodyModelFile } from './body-model.js';
import { numberFlag, readDetectionsFlag } from './train.js';
import { fitPhotos, FIT_PHOTO_USAGE } from './fit-photo.js';

export const FIT_USAGE = `${FIT_PHOTO_USAGE}\n       nbf fit --from parts PARTS.png [--out DIR] [--weights FILE.nbfw] [--body-model FILE]`;
export const FIT_SUMMARY = 'a photo (landmarks + refinement), or a 12-part colour map (fitting network) → body: params.json, body.glb, body.obj, overlay.png';
export const EVAL_USAGE = 'nbf eval fitter [--weights FILE.nbfw] [--count N] [--seed S] [--corrupt S] [--truncation R] [--detections FILE] [--json FILE] [--body-model FILE]';
export const EVAL_SUMMARY = "the fitter's 3D/2D errors on synthetic bodies, beside the mean-pose baseline";

/** Reads a weights file (the shipped one unless `flag` names another); one clear error otherwise. */
export function weightsPathOrDefault(flag: string | undefined): string {
  const path = flag ?? defaultFitterWeightsPath();
  if (!path) throw new ArgError(`--weights is required (the shipped weights/${DEFAULT_FITTER_FILE} was not found)`);
  if (!existsSync(path)) throw new ArgError(`--weights ${path}: no such file`);
  return path;
}

/** `inputs`: the input types the caller feeds (default: the 12-part map only; evaluation: any). */
function loadNetwork(rt: Runtime, path: string, inputs: LoadFitterOptions['inputs'] = undefined): { network: FitterNetwork; meta: WeightsMeta } {
  return loadFitterWeights(rt, new Uint8Array(readFileSync(path)), path, { inputs });
}

/** Decodes a PNG into classes (and keeps its pixels for the overlay); errors name the file. */
export function readPartMapPng(path: string): ClassMap & { rgba: Uint8Array } {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new ArgError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let png: PNG;
  try {
    png = PNG.sync.read(bytes);
  } catch (e) {
    throw new ArgError(`${path}: not a PNG image (${(e as Error).message})`);
  }
  return { ...classifyPartColours(png.data, png.width, png.height, path), rgba: png.data };
}

function overlayPng(rt: Runtime, renderer: MeshRenderer, fit: BodyFit, map: ClassMap & { rgba: Uint8Array }): Uint8Array {
  const { width, height } = map;
  const colours = rt.scope(() => {
    const v = rt.tensor(fit.vertices, [1, fit.vertices.length / 3, 3]);
    const gbuffer = renderer.render(v, rt.tensor(Float32Array.from(fit.camera), [1, 4]), { width, height });
    const labels = partLabelMap(gbuffer, 12);
    return { rgb: partColourMap(labels, 12).readSync(), labels: labels.readSync() };
  });
  const input = map.rgba;
  const png = new PNG({ width, height });
  for (let i = 0; i < width * height; i++) {
    const drawn = colours.labels[i] > 0;
    for (let c = 0; c < 3; c++) {
      const under = input[4 * i + c] * (input[4 * i + 3] / 255);
      png.data[4 * i + c] = Math.round(drawn ? 0.65 * colours.rgb[3 * i + c] + 0.35 * under : 0.5 * under);
    }
    png.data[4 * i + 3] = 255;
  }
  return PNG.sync.write(png);
}

const round = (x: number, d = 6) => Number(x.toFixed(d));

export async function fit(argv: string[]): Promise<number> {
  if (!argv.some((a) => a === '--from' || a.startsWith('--from='))) return fitPhotos(argv);
  let partsPath: string;
  let out: string;
  let weightsPath: string;
  let modelPath: string;
  try {
    const args = parseArgs(argv, ['from', 'out', 'weights', 'body-model']);
    const from = stringFlag(args, 'from');
    if (from !== 'parts') throw new ArgError(`--from must be "parts" (a colour-coded 12-part map); got ${from === undefined ? 'nothing' : `"${from}"`} — fitting from a photo comes with the segmenter`);
    if (args.positional.length !== 1) throw new ArgError(args.positional.length ? `one part map, got ${args.positional.length} arguments` : 'the part map PNG is required');
    partsPath = args.positional[0];
    if (!existsSync(partsPath)) throw new ArgError(`${partsPath}: no such file`);
    out = stringFlag(args, 'out') ?? 'out/fit';
    if (existsSync(out) && !statSync(out).isDirectory()) throw new ArgError(`--out ${out} exists and is not a directory`);
    weightsPath = weightsPathOrDefault(stringFlag(args, 'weights'));
    modelPath = bodyModelPathOrDefault(stringFlag(args, 'body-model'));
  } catch (e) {
    if (e instanceof ArgError) {
      console.error(`nbf fit: ${e.message}\nusage: ${FIT_USAGE}`);
      return 2;
    }
    throw e;
  }
  const map = readPartMapPng(partsPath);
  const model = readBodyModelFile(modelPath);
  const rt = createNodeContext();
  const gpuModel = GpuBodyModel.upload(rt, model);
  let renderer: MeshRenderer | null = null;
  let network: FitterNetwork | null = null;
  try {
    const loaded = loadNetwork(rt, weightsPath);
    network = loaded.network;
    renderer = new MeshRenderer(rt, model);
    const t0 = performance.now();
    const result = fitPartMap(network, gpuModel, map);
    const fitMs = performance.now() - t0;
    const params = {
      source: partsPath,
      weights: weightsPath,
      bodyModel: model.name,
      betas: result.betas.map((x) => round(x)),
      pose: result.pose.map((x) => round(x)),
      trans: result.trans.map((x) => round(x)),
      camera: { fx: round(result.camera[0], 3), fy: round(result.camera[1], 3), cx: round(result.camera[2], 3), cy: round(result.camera[3], 3) },
      jointNames: [...JOINT_NAMES],
      joints3d: Array.from({ length: 24 }, (_, j) => [0, 1, 2].map((k) => round(result.joints3d[3 * j + k]))),
      joints2d: Array.from({ length: 24 }, (_, j) => [0, 1].map((k) => round(result.joints2d[2 * j + k], 3))),
      crop: { x0: round(result.crop.x0, 3), y0: round(result.crop.y0, 3), side: round(result.crop.side, 3), networkInput: result.crop.size },
    };
    const mesh = fittedBodyMesh(model, result);
    mkdirSync(out, { recursive: true });
    writeFilesAtomically([
      { path: join(out, 'params.json'), data: JSON.stringify(params, null, 2) + '\n' },
      { path: join(out, 'body.glb'), data: encodeGlb(mesh, { name: 'nbf fit', extras: { bodyModel: model.name, licence: model.licence } }) },
      { path: join(out, 'body.obj'), data: encodeObj(mesh, { comments: [`nbf fit --from parts ${partsPath}`, `body model ${model.name}`, 'centred on the pelvis'] }) },
      { path: join(out, 'overlay.png'), data: overlayPng(rt, renderer, result, map) },
    ]);
    console.log(`nbf fit: ${partsPath} (${map.width}×${map.height}) → ${out}/{params.json, body.glb, body.obj, overlay.png} in ${fitMs.toFixed(0)} ms (weights ${weightsPath}, "${loaded.meta.config.name}" at ${loaded.meta.config.inputSize}²)`);
  } finally {
    network?.dispose();
    renderer?.dispose();
    gpuModel.dispose();
    rt.destroy();
  }
  return 0;
}

export async function evalCommand(argv: string[]): Promise<number> {
  const [what, ...rest] = argv;
  if (what !== 'fitter') {
    console.error(`nbf eval: say what to evaluate: "fitter" (got ${what ? `"${what}"` : 'nothing'})\nusage: ${EVAL_USAGE}`);
    return 2;
  }
  let o;
  try {
    const args = parseArgs(rest, ['weights', 'count', 'seed', 'json', 'batch', 'body-model', 'corrupt', 'truncation', 'detections']);
    if (args.positional.length) throw new ArgError(`unexpected argument "${args.positional[0]}"`);
    o = {
      weights: weightsPathOrDefault(stringFlag(args, 'weights')),
      count: intFlag(args, 'count', 512, 1, 1_000_000),
      seed: intFlag(args, 'seed', 900001, 0, 2 ** 32 - 1),
      batch: intFlag(args, 'batch', 32, 1, 512),
      json: stringFlag(args, 'json') ?? 'out/eval-fitter.json',
      corrupt: numberFlag(args, 'corrupt', 0, 0, 4),
      truncation: numberFlag(args, 'truncation', 0, 0, 1),
      detectionsPath: stringFlag(args, 'detections'),
      modelPath: bodyModelPathOrDefault(stringFlag(args, 'body-model')),
    };
  } catch (e) {
    if (e instanceof ArgError) {
      console.error(`nbf eval: ${e.message}\nusage: ${EVAL_USAGE}`);
      return 2;
    }
    throw e;
  }
  const model = readBodyModelFile(o.modelPath);
  const rt = createNodeContext();
  let generator: SynthGenerator | null = null;
  let network: FitterNetwork | null = null;
  try {
    // Synthetic bodies can be rendered as every input type (picture, part maps, joint heatmaps).
    const loaded = loadNetwork(rt, o.weights, 'any');
    network = loaded.network;
    if (o.corrupt > 0 && !corruptibleInput(network.input)) {
      throw new ArgError(`--corrupt: ${o.weights} reads ${fitterInputInfo(network.input).description} (input "${network.input}"); corruption applies to 12-part maps only`);
    }
    if (o.truncation > 0 && !fitterInputInfo(network.input).detected) {
      throw new ArgError(`--truncation: ${o.weights} reads ${fitterInputInfo(network.input).description} (input "${network.input}"); truncation is of a landmark detector's joints (input "landmarks" or "parts12+landmarks")`);
    }
    // A real detector's joints on renders of the file's bodies (scripts/detect-renders.ts).
    const detections = o.detectionsPath === undefined ? undefined : readDetectionsFlag(o.detectionsPath, 'detections');
    if (detections) {
      if (network.input !== 'landmarks') throw new ArgError(`--detections: ${o.weights} reads input "${network.input}"; recorded detections feed input "landmarks"`);
      if (o.truncation > 0) throw new ArgError('--detections and --truncation: the recorded joints are what the detector saw; give one of them');
      o.count = Math.min(o.count, detections.count);
      o.seed = detections.seed; // the file's bodies
    }
    generator = new SynthGenerator(rt, model);
    const t0 = performance.now();
    const tty = !!process.stderr.isTTY;
    const v = evaluateFitter(rt, network, generator, {
      seed: o.seed, count: o.count, batch: o.batch,
      corrupt: o.corrupt > 0 ? partNoiseCorruptor({ strength: o.corrupt }) : undefined,
      landmarkNoise: o.truncation > 0 ? { truncationRate: o.truncation } : undefined,
      detections,
      progress: (done, total) => { if (tty) process.stderr.write(`\reval fitter: ${done}/${total}\x1b[K${done === total ? '\n' : ''}`); },
    });
    const seconds = (performance.now() - t0) / 1000;
    const inputsRead = [
      o.corrupt ? `part maps corrupted (strength ${o.corrupt})` : null,
      detections ? `${detections.detector}'s joints recorded on renders of seed ${detections.seed} (${o.detectionsPath})` : fitterInputInfo(network.input).detected ? `a modelled detector's joints${o.truncation ? `, ${Math.round(o.truncation * 100)} % cut across` : ''}` : null,
    ].filter((x) => x !== null).join(', ') || 'ground-truth inputs';
    const mm = (x: number) => (x * 1000).toFixed(1);
    const rows: [string, string, string][] = [
      ['MPJPE (mm, root-aligned)', mm(v.summary.mpjpe), mm(v.baseline.mpjpe)],
      ['PA-MPJPE (mm, Procrustes)', mm(v.summary.paMpjpe), mm(v.baseline.paMpjpe)],
      ['PVE (mm, root-aligned)', mm(v.summary.pve), mm(v.baseline.pve)],
      [`2D joints (px at ${network.config.inputSize}²)`, v.summary.joint2dPx.toFixed(2), v.baseline.joint2dPx.toFixed(2)],
      ['rotation error (deg, mean)', v.summary.angleDeg.toFixed(1), v.baseline.angleDeg.toFixed(1)],
    ];
    console.log(`nbf eval fitter: ${o.weights} ("${loaded.meta.config.name}", ${loaded.meta.config.inputSize}², input "${network.input}") on ${o.count} synthetic bodies, seed ${o.seed}, ${inputsRead} — ${seconds.toFixed(1)} s`);
    console.log(`${'metric'.padEnd(30)} ${'fitter'.padStart(9)} ${'mean pose'.padStart(10)}`);
    for (const [name, a, b] of rows) console.log(`${name.padEnd(30)} ${a.padStart(9)} ${b.padStart(10)}`);
    console.log('per-joint rotation error (deg):');
    const per = v.report.angles?.perJointDeg ?? [];
    for (let j = 0; j < per.length; j += 6) console.log('  ' + per.slice(j, j + 6).map((d, k) => `${JOINT_NAMES[j + k]} ${d.toFixed(1)}`).join(', '));
    mkdirSync(dirname(o.json), { recursive: true });
    writeFilesAtomically([{ path: o.json, data: JSON.stringify({ weights: o.weights, config: loaded.meta.config, seed: o.seed, count: o.count, corrupt: o.corrupt, truncation: o.truncation, detections: o.detectionsPath ?? null, seconds: round(seconds, 1), summary: v.summary, baseline: v.baseline, report: v.report, baselineReport: v.baselineReport }, null, 2) + '\n' }]);
    console.log(`wrote ${o.json}`);
  } finally {
    network?.dispose();
    generator?.dispose();
    rt.destroy();
  }
  return 0;
}
