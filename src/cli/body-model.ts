/**
 * `nbf convert-body-model` and `nbf pose`: the body-model commands (CPU only, no WebGL needed).
 * Each command is `(argv, io?) => Promise<exit code>`: 0 success, 1 bad input or failure, 2 usage error.
 * Errors are reported as one clear line on stderr and no output file is created or changed.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { encodeGlb } from '../io/glb.js';
import { partColors } from '../io/mesh.js';
import { encodeObj } from '../io/obj.js';
import { smplForward } from '../smpl/cpu-forward.js';
import { encodeBodyModel } from '../smpl/format.js';
import { openBodyModelPath } from '../smpl/default-model.js';
import { loadBodyModelWithNotes } from '../smpl/load.js';
import type { BodyModel } from '../smpl/types.js';
import { sha256Hex } from '../util/sha256.js';
import { ArgError, parseArgs, stringFlag } from './args.js';
import { writeFilesAtomically } from './atomic-write.js';

export interface CommandIO {
  out(line: string): void;
  err(line: string): void;
}

const consoleIO: CommandIO = { out: (l) => console.log(l), err: (l) => console.error(l) };

export const CONVERT_BODY_MODEL_USAGE = 'nbf convert-body-model <in.pkl|in.npz|in.nbfm> <out.nbfm> [--float64]';
export const CONVERT_BODY_MODEL_SUMMARY = "convert a SMPL-family .pkl/.npz (your own copy) into nbf's .nbfm body-model file";
export const POSE_USAGE = 'nbf pose [--body-model <file>] --params <params.json> --out <mesh.obj|mesh.glb> [--joints <joints.json>]';
export const POSE_SUMMARY = 'pose a body model with {"betas", "pose" (72), "trans" (3)} and write the mesh (.obj/.glb) and joints';

// ---- default body model hook ----------------------------------------------------------------------

let defaultBodyModelResolver: () => string | null = openBodyModelPath;

/**
 * Path of the body model `nbf pose` uses without --body-model: the shipped open body model
 * (weights/nbf-open-body.nbfm) unless another resolver was registered; null when none is found.
 */
export function defaultBodyModelPath(): string | null {
  return defaultBodyModelResolver();
}

/** Registers where the default body model lives (tests; embedders shipping another model). */
export function setDefaultBodyModelResolver(resolver: () => string | null): void {
  defaultBodyModelResolver = resolver;
}

/** The body model a command uses: the one its --body-model names, else the default (ArgError if none). */
export function bodyModelPathOrDefault(flag: string | undefined): string {
  const path = flag ?? defaultBodyModelPath();
  if (!path) throw new ArgError('--body-model is required (the default open body model weights/nbf-open-body.nbfm was not found)');
  return path;
}

// ---- helpers ----------------------------------------------------------------------------------------

class InputError extends Error {}

/** Reads a body model file of any supported format; a failure is one message naming the file. */
export function readBodyModelFile(path: string): BodyModel {
  return loadBodyModelWithNotes(readInput(path, 'body model'), path).model;
}

function readInput(path: string, what: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (e as Error).message;
    throw new InputError(`cannot read ${what} "${path}": ${reason}`);
  }
}

/** Runs a command body, turning errors into one stderr line and an exit code. */
async function runCommand(name: string, usage: string, io: CommandIO, body: () => Promise<void> | void): Promise<number> {
  try {
    await body();
    return 0;
  } catch (e) {
    const err = e as Error;
    if (err instanceof ArgError) {
      io.err(`nbf ${name}: ${err.message}\nusage: ${usage}`);
      return 2;
    }
    const kind = err instanceof InputError || err.name === 'Error' ? '' : `${err.name}: `;
    io.err(`nbf ${name}: ${kind}${err.message}`);
    return 1;
  }
}

function describeModel(m: BodyModel): string {
  return `${m.vertexCount} vertices, ${m.faces.length / 3} triangles, ${m.jointCount} joints, ${m.shapeCount} shape coefficients, ${m.posedirs ? `${m.poseFeatureCount} pose features` : 'no pose blend shapes'}, ${m.skin.influences} skinning influences per vertex`;
}

// ---- convert-body-model -----------------------------------------------------------------------------

export async function convertBodyModel(argv: string[], io: CommandIO = consoleIO): Promise<number> {
  return runCommand('convert-body-model', CONVERT_BODY_MODEL_USAGE, io, () => {
    const args = parseArgs(argv, [], ['float64']);
    if (args.positional.length !== 2) throw new ArgError(`expected an input and an output file, got ${args.positional.length} argument(s)`);
    const [input, output] = args.positional;
    if (extname(output).toLowerCase() !== '.nbfm') throw new ArgError(`the output "${output}" must end in .nbfm`);
    const loaded = loadBodyModelWithNotes(readInput(input, 'body model'), input);
    const bytes = encodeBodyModel(loaded.model, { floatType: args.flags.has('float64') ? 'f8' : 'f4' });
    writeFilesAtomically([{ path: output, data: bytes }]);
    io.out(`read ${input} (${loaded.format}): ${describeModel(loaded.model)}`);
    for (const note of loaded.notes) io.out(`  ${note}`);
    io.out(`wrote ${output}: ${bytes.length} bytes, sha256 ${sha256Hex(bytes)}`);
    if (loaded.format !== 'nbfm') io.out(`licence: ${loaded.model.licence}`);
  });
}

// ---- pose -----------------------------------------------------------------------------------------

export interface PoseParamsFile {
  betas?: number[];
  pose?: number[];
  trans?: number[];
}

/** Parses and checks a params JSON against the model; errors name the file and the key. */
export function parsePoseParams(text: string, source: string, model: BodyModel): PoseParamsFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new InputError(`${source}: not valid JSON (${(e as Error).message})`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new InputError(`${source}: expected an object {"betas": [...], "pose": [...], "trans": [...]}`);
  const obj = raw as Record<string, unknown>;
  const unknown = Object.keys(obj).filter((k) => !['betas', 'pose', 'trans'].includes(k));
  if (unknown.length) throw new InputError(`${source}: unknown key(s) ${unknown.map((k) => `"${k}"`).join(', ')} (expected "betas", "pose", "trans")`);
  const numbers = (key: string, lengthCheck: (n: number) => string | null): number[] | undefined => {
    const v = obj[key];
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) throw new InputError(`${source}: "${key}" must be a list of numbers`);
    const bad = v.findIndex((x) => typeof x !== 'number' || !Number.isFinite(x));
    if (bad >= 0) throw new InputError(`${source}: "${key}"[${bad}] is ${JSON.stringify(v[bad])}, not a finite number`);
    const problem = lengthCheck(v.length);
    if (problem) throw new InputError(`${source}: "${key}" has ${v.length} numbers, ${problem}`);
    return v as number[];
  };
  const J = model.jointCount;
  return {
    betas: numbers('betas', (n) => (n > model.shapeCount ? `the body model has ${model.shapeCount} shape coefficients` : null)),
    pose: numbers('pose', (n) => (n !== J * 3 ? `expected ${J * 3} (axis-angle for ${J} joints)` : null)),
    trans: numbers('trans', (n) => (n !== 3 ? 'expected 3' : null)),
  };
}

export async function pose(argv: string[], io: CommandIO = consoleIO): Promise<number> {
  return runCommand('pose', POSE_USAGE, io, () => {
    const args = parseArgs(argv, ['body-model', 'params', 'out', 'joints']);
    if (args.positional.length) throw new ArgError(`unexpected argument "${args.positional[0]}"`);
    const modelPath = bodyModelPathOrDefault(stringFlag(args, 'body-model'));
    const paramsPath = stringFlag(args, 'params');
    if (!paramsPath) throw new ArgError('--params is required');
    const outPath = stringFlag(args, 'out');
    if (!outPath) throw new ArgError('--out is required');
    const meshFormat = extname(outPath).toLowerCase();
    if (meshFormat !== '.obj' && meshFormat !== '.glb') throw new ArgError(`--out "${outPath}" must end in .obj or .glb`);
    const jointsPath = stringFlag(args, 'joints');
    if (jointsPath && extname(jointsPath).toLowerCase() !== '.json') throw new ArgError(`--joints "${jointsPath}" must end in .json`);

    const model = readBodyModelFile(modelPath);
    const params = parsePoseParams(new TextDecoder().decode(readInput(paramsPath, 'params')), paramsPath, model);
    const result = smplForward(model, params);
    const colors = partColors(model.parts12);
    const meshData =
      meshFormat === '.obj'
        ? encodeObj({ positions: result.vertices, faces: model.faces }, { comments: [`nbf pose: body model ${model.name}`, `licence of the body model: ${model.licence}`] })
        : encodeGlb({ positions: result.vertices, faces: model.faces, colors }, { name: model.name, extras: { bodyModel: model.name, licence: model.licence } });
    const files = [{ path: outPath, data: meshData }];
    if (jointsPath) {
      const joints = Array.from({ length: model.jointCount }, (_, j) => Array.from(result.joints.subarray(3 * j, 3 * j + 3)));
      files.push({ path: jointsPath, data: JSON.stringify({ joints, names: model.jointNames, units: 'm' }) + '\n' });
    }
    writeFilesAtomically(files);
    io.out(`posed ${model.name} (${model.vertexCount} vertices); wrote ${outPath}${jointsPath ? ` and ${jointsPath}` : ''}`);
  });
}
