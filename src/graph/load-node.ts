/** Loading a graph model from files in Node: model.json and the shards its manifest names beside it. */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Runtime } from '../runtime/runtime.js';
import { GraphModel, type GraphModelOptions } from './graph-model.js';
import { GraphModelError, parseModelJson, shardPaths } from './model-file.js';

function read(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new GraphModelError(`${path}: cannot read the ${what} (${code === 'ENOENT' ? 'no such file' : (e as Error).message})`);
  }
}

export function loadGraphModel(rt: Runtime, modelJsonPath: string, options: GraphModelOptions = {}): GraphModel {
  const json = parseModelJson(read(modelJsonPath, 'model').toString('utf8'), modelJsonPath);
  const dir = dirname(modelJsonPath);
  const shards = shardPaths(json).map((p) => {
    const b = read(join(dir, p), `weight shard named by ${modelJsonPath}`);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  });
  return new GraphModel(rt, json, shards, modelJsonPath, options);
}
