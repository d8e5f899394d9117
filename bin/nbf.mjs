#!/usr/bin/env node
// nbf command-line entry. Runs the TypeScript sources through tsx in a checkout (dist/ when published),
// and re-runs itself under `xvfb-run -a` when there is no X display, since headless WebGL needs one.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

if (!process.env.DISPLAY && !process.env.NBF_NO_XVFB) {
  const hasXvfb = spawnSync('sh', ['-c', 'command -v xvfb-run'], { stdio: 'ignore' }).status === 0;
  if (hasXvfb) {
    const r = spawnSync('xvfb-run', ['-a', '-s', '-screen 0 64x64x24', process.execPath, ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
      stdio: 'inherit',
      env: { ...process.env, NBF_NO_XVFB: '1' },
    });
    process.exit(r.status ?? 1);
  }
  // No xvfb-run: commands that need WebGL will say so with a clear error.
}

// In a checkout the TypeScript sources run directly (never a stale dist/); a published package has
// only dist/.
const source = join(root, 'src', 'cli', 'main.ts');
let main;
if (existsSync(source)) {
  if (!existsSync(join(root, 'src', 'generated', 'shaders.ts'))) {
    spawnSync(process.execPath, [join(root, 'scripts', 'gen-shaders.mjs')], { stdio: 'inherit' });
  }
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import(pathToFileURL(source).href));
} else {
  ({ main } = await import(pathToFileURL(join(root, 'dist', 'cli.js')).href));
}
process.exitCode = await main(process.argv.slice(2));
