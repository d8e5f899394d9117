/**
 * Writes files so that a failure never leaves a partial file behind: every file goes to a temporary
 * name in its target directory first (same filesystem, so the rename is atomic), and only when all
 * were written are they renamed into place. On failure the temporaries are removed and existing files
 * at the target paths are left untouched.
 */
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

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
        const code = (e as NodeJS.ErrnoException).code;
        throw new Error(`cannot write "${f.path}": ${code === 'ENOENT' ? 'its directory does not exist' : code === 'EACCES' ? 'permission denied' : (e as Error).message}`);
      }
    }
    for (const w of written) renameSync(w.temp, w.path);
  } catch (e) {
    for (const w of written) rmSync(w.temp, { force: true });
    throw e;
  }
}
