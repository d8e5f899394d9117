/** Loading a BackgroundBank from a directory (Node): kept apart so backgrounds.ts stays browser-safe. */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Runtime } from '../runtime/runtime.js';
import { NbfError } from '../runtime/errors.js';
import { readImageFile } from '../io/image-file.js';
import { BackgroundBank, DEFAULT_MAX_PHOTOS, spreadIndices, type BackgroundBankOptions, type BankPhoto } from './backgrounds.js';

/**
 * Node: the photos of a directory written by scripts/fetch-backgrounds.sh — those its manifest.json
 * lists as kept (`file` of entries with `photo: true`), or without a manifest every .png/.jpg there,
 * in name order.
 */
export async function loadBackgroundBank(rt: Runtime, dir: string, options: BackgroundBankOptions = {}): Promise<BackgroundBank> {
  let files: string[];
  let manifestText: string | undefined;
  try {
    manifestText = await readFile(join(dir, 'manifest.json'), 'utf8');
  } catch {
    manifestText = undefined;
  }
  if (manifestText !== undefined) {
    let manifest: { images?: { photo?: boolean; file?: string }[] };
    try {
      manifest = JSON.parse(manifestText) as typeof manifest;
    } catch (e) {
      throw new NbfError(`${join(dir, 'manifest.json')}: not valid JSON (${(e as Error).message})`);
    }
    files = (manifest.images ?? []).filter((e) => e.photo && typeof e.file === 'string').map((e) => e.file as string);
  } else {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (e) {
      throw new NbfError(`backgrounds: cannot read directory ${dir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); run scripts/fetch-backgrounds.sh`);
    }
    files = names.filter((n) => /\.(png|jpe?g)$/i.test(n)).sort();
  }
  if (files.length === 0) throw new NbfError(`backgrounds: no photos in ${dir} (run scripts/fetch-backgrounds.sh ${dir})`);
  const maxPhotos = options.maxPhotos ?? DEFAULT_MAX_PHOTOS;
  const chosen = spreadIndices(files.length, maxPhotos).map((i) => files[i]);
  const photos: BankPhoto[] = [];
  for (const f of chosen) photos.push({ name: f, image: await readImageFile(join(dir, f)) });
  return BackgroundBank.fromImages(rt, photos, { ...options, maxPhotos });
}

