/**
 * Loading a graph model by URL (browser, or any fetch): model.json, then its weight shards, which the
 * manifest names relative to model.json's location. Node reads files: load-node.ts.
 */
import type { Runtime } from '../runtime/runtime.js';
import { GraphModel } from './graph-model.js';
import { GraphModelError, parseModelJson, shardPaths } from './model-file.js';

export type FetchLike = (url: string) => Promise<{ ok: boolean; status: number; text(): Promise<string>; arrayBuffer(): Promise<ArrayBuffer> }>;

export async function fetchGraphModel(rt: Runtime, url: string, fetchFn: FetchLike = globalThis.fetch as unknown as FetchLike): Promise<GraphModel> {
  const get = async (u: string) => {
    let response;
    try {
      response = await fetchFn(u);
    } catch (e) {
      throw new GraphModelError(`${u}: could not be fetched (${(e as Error).message})`);
    }
    if (!response.ok) throw new GraphModelError(`${u}: HTTP ${response.status}`);
    return response;
  };
  const json = parseModelJson(await (await get(url)).text(), url);
  const base = url.slice(0, url.lastIndexOf('/') + 1);
  const shards = await Promise.all(shardPaths(json).map(async (p) => new Uint8Array(await (await get(base + p)).arrayBuffer())));
  return new GraphModel(rt, json, shards, url);
}
