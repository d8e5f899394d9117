/**
 * Node-only: reads a PNG/JPEG file from disk into upright RGBA (decodeImage in image.ts does the work).
 * Kept apart from image.ts so that module stays free of node: imports for the browser bundle.
 */
import { readFile } from 'node:fs/promises';
import { decodeImage, ImageError, type DecodeImageOptions, type RgbaImage } from './image.js';

/** Reads and decodes `path`; a missing or unreadable file is an ImageError naming the path, like a bad picture. */
export async function readImageFile(path: string, options?: DecodeImageOptions): Promise<RgbaImage> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code ?? (e as Error).message;
    throw new ImageError(`${path}: cannot read (${why})`);
  }
  return decodeImage(bytes, path, options);
}
