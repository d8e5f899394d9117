/**
 * Writes files so that a failure never leaves a partial file behind: every file goes to a temporary
 * name in its target directory first (same filesystem, so the rename is atomic), and only when all
 * were written are they renamed into place. On failure the temporaries are removed and existing files
 * at the target paths are left untouched.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { NbfError } from '../runtime/errors.js';

/** An output could not be written (the message names the path and why). */
export class OutputError extends NbfError {}

const why = (e: unknown) => {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT' ? 'its directory does not exist' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'ENOTDIR' ? 'a part of the path is a file, not a folder' : code === 'ENOSPC' ? 'the disk is full' : (e as Error).message;
};

export interface PendingFile {
  path: string;
  data: Uint8Array | string;
}

export function writeFilesAtomically(files: PendingFile[]): void {
  const written: Array<{ temp: string; path: string }> = [];
  try {
    for (const f of files) {
      const temp = join(dirname(f.path), `.${basename(f.path)}.${process.pid}.${Date.now().toString(36)}.tmp`);
      written.push({ temp, path: f.path });
      try {
        writeFileSync(temp, f.data);
      } catch (e) {
        throw new OutputError(`cannot write "${f.path}": ${why(e)}`);
      }
    }
    for (const w of written) renameSync(w.temp, w.path);
  } catch (e) {
    for (const w of written) rmSync(w.temp, { force: true });
    throw e;
  }
}

/** Creates `dir` (and its parents) and writes the files into it atomically; errors name the folder. */
export function writeFolderAtomically(dir: string, files: PendingFile[]): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new OutputError(`cannot create the output folder "${dir}": ${why(e)}`);
  }
  writeFilesAtomically(files);
}
