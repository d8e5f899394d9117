/** Runs a CLI command in-process with console output and stderr progress captured. */
import { vi } from 'vitest';

export interface CommandRun {
  code: number;
  out: string;
  err: string;
}

export async function captureCommand(command: () => Promise<number>): Promise<CommandRun> {
  let out = '';
  let err = '';
  const log = vi.spyOn(console, 'log').mockImplementation((...a) => void (out += a.join(' ') + '\n'));
  const error = vi.spyOn(console, 'error').mockImplementation((...a) => void (err += a.join(' ') + '\n'));
  const write = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
  try {
    return { code: await command(), out, err };
  } finally {
    log.mockRestore();
    error.mockRestore();
    write.mockRestore();
  }
}
