/**
 * `nbf landmarks IMAGE...`: BlazePose GHUM on our runtime → per picture DIR/<name>/landmarks.json,
 * mask.png and overlay.png, written atomically. Several pictures (or a folder) run as a batch on one
 * model: a bad picture is reported and skipped, the rest go on. The work is in src/landmarks.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { createNodeContext } from '../runtime/node-context.js';
import { readImageFile } from '../io/image-file.js';
import { encodePng } from '../io/image.js';
import { NbfError } from '../runtime/errors.js';
import { BLAZEPOSE_LANDMARKS, NoPersonError, type PoseLandmarks } from '../landmarks/blazepose.js';
import { drawLandmarks, maskImage } from '../landmarks/draw.js';
import { BLAZEPOSE_VARIANTS, createPoseLandmarker, DEFAULT_BLAZEPOSE_VARIANT, type BlazePoseVariant } from '../landmarks/model-files.js';
import { ArgError, intFlag, parseArgs, stringFlag, type ParsedArgs } from './args.js';
import { writeFolderAtomically } from './atomic-write.js';

export const LANDMARKS_USAGE = 'nbf landmarks IMAGE|FOLDER... [--out DIR] [--model full|lite|heavy] [--model-file MODEL.json] [--passes N]';
export const LANDMARKS_SUMMARY = 'BlazePose on our kernels: a photo (PNG/JPEG) → 33 landmarks, 3D points, person mask, overlay';

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg']);

/** Expands folders into their PNG/JPEG files (sorted); plain paths are kept as given. */
export function expandImageArgs(paths: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    if (existsSync(p) && statSync(p).isDirectory()) {
      const files = readdirSync(p).filter((f) => IMAGE_EXTENSIONS.has(extname(f).toLowerCase())).sort();
      if (!files.length) throw new ArgError(`${p}: the folder holds no .png/.jpg/.jpeg pictures`);
      out.push(...files.map((f) => join(p, f)));
    } else {
      out.push(p);
    }
  }
  return out;
}

/** One output folder name per picture: its base name, made unique with -2, -3, … */
export function outputNames(paths: readonly string[]): string[] {
  const used = new Map<string, number>();
  return paths.map((p) => {
    const stem = basename(p, extname(p)) || 'picture';
    const n = (used.get(stem) ?? 0) + 1;
    used.set(stem, n);
    return n === 1 ? stem : `${stem}-${n}`;
  });
}

const r = (x: number, d = 2) => Number(x.toFixed(d));

function landmarksJson(path: string, variant: string, pose: PoseLandmarks) {
  return {
    picture: path,
    width: pose.width,
    height: pose.height,
    model: `blazepose-${variant}`,
    score: r(pose.score, 4),
    firstCrop: pose.firstCrop,
    box: pose.box.map((v) => r(v)),
    names: [...BLAZEPOSE_LANDMARKS],
    keypoints: pose.keypoints.map(([x, y, v]) => [r(x), r(y), r(v, 4)]),
    world: pose.world.map((p) => p.map((v) => r(v, 4))),
    roi: { cx: r(pose.roi.cx), cy: r(pose.roi.cy), size: r(pose.roi.size), angle: r(pose.roi.angle, 4) },
    timings: { detectorMs: r(pose.timings.detectorMs, 1), cropMs: r(pose.timings.cropMs, 1), networkMs: r(pose.timings.networkMs, 1), decodeMs: r(pose.timings.decodeMs, 1), passes: pose.timings.passes },
  };
}

/** `--model lite|full|heavy` (default DEFAULT_BLAZEPOSE_VARIANT), checked. */
export function blazePoseVariantFlag(args: ParsedArgs): BlazePoseVariant {
  const model = stringFlag(args, 'model') ?? DEFAULT_BLAZEPOSE_VARIANT;
  if (!(BLAZEPOSE_VARIANTS as readonly string[]).includes(model)) throw new ArgError(`--model must be one of ${BLAZEPOSE_VARIANTS.join(', ')}; got "${model}"`);
  return model as BlazePoseVariant;
}

export async function landmarks(argv: string[]): Promise<number> {
  let inputs: string[];
  let out: string;
  let variant: BlazePoseVariant;
  let modelPath: string | undefined;
  let passes: number;
  try {
    const args = parseArgs(argv, ['out', 'model', 'model-file', 'passes']);
    if (!args.positional.length) throw new ArgError('give at least one picture (PNG or JPEG) or folder');
    variant = blazePoseVariantFlag(args);
    modelPath = stringFlag(args, 'model-file');
    if (modelPath && !existsSync(modelPath)) throw new ArgError(`--model-file ${modelPath}: no such file`);
    passes = intFlag(args, 'passes', 2, 1, 8);
    out = stringFlag(args, 'out') ?? 'out/landmarks';
    if (existsSync(out) && !statSync(out).isDirectory()) throw new ArgError(`--out ${out} exists and is not a directory`);
    inputs = expandImageArgs(args.positional);
  } catch (e) {
    if (e instanceof ArgError) {
      console.error(`nbf landmarks: ${e.message}\nusage: ${LANDMARKS_USAGE}`);
      return 2;
    }
    throw e;
  }
  const rt = createNodeContext();
  let failures = 0;
  try {
    const landmarker = createPoseLandmarker(rt, { variant, modelPath });
    const names = outputNames(inputs);
    try {
      for (const [i, path] of inputs.entries()) {
        const prefix = inputs.length > 1 ? `[${i + 1}/${inputs.length}] ` : '';
        try {
          const image = await readImageFile(path);
          const t0 = performance.now();
          const pose = landmarker.detect(image, { passes });
          const ms = performance.now() - t0;
          const dir = join(out, names[i]);
          writeFolderAtomically(dir, [
            { path: join(dir, 'landmarks.json'), data: JSON.stringify(landmarksJson(path, landmarker.variant, pose), null, 1) + '\n' },
            { path: join(dir, 'mask.png'), data: encodePng(maskImage(pose)) },
            { path: join(dir, 'overlay.png'), data: encodePng(drawLandmarks(image, pose)) },
          ]);
          const visible = pose.keypoints.filter((p) => p[2] >= 0.5).length;
          console.log(`${prefix}${path}: person score ${pose.score.toFixed(2)}, ${visible}/33 landmarks visible, ${ms.toFixed(0)} ms → ${dir}/`);
        } catch (e) {
          if (!(e instanceof NbfError) && !(e instanceof ArgError)) throw e;
          failures++;
          const what = e instanceof NoPersonError ? e.message : `${e.name === 'Error' ? '' : e.name + ': '}${e.message}`;
          console.error(`${prefix}nbf landmarks: ${path}: ${what}${e instanceof NoPersonError ? '; nothing written' : ''}`);
        }
      }
    } finally {
      landmarker.dispose();
    }
  } finally {
    rt.destroy();
  }
  if (inputs.length > 1 && failures) console.error(`nbf landmarks: ${failures} of ${inputs.length} pictures failed`);
  return failures ? 1 : 0;
}
