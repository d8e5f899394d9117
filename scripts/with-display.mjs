#!/usr/bin/env node
// Runs a command with an X display, which headless-gl needs to create a WebGL context.
// With DISPLAY set, the command runs as is; without it, the command is re-run under `xvfb-run -a`.
import { spawnSync } from 'node:child_process';

const args = process.argv.slice(2);
if (args.length === 0) {
  console.error('usage: with-display.mjs <command> [args...]');
  process.exit(2);
}
const hasXvfbRun = spawnSync('sh', ['-c', 'command -v xvfb-run'], { stdio: 'ignore' }).status === 0;
let command = args;
if (!process.env.DISPLAY) {
  if (!hasXvfbRun) {
    console.error('No X display: set DISPLAY, or install xvfb (apt-get install xvfb) so the command can run under xvfb-run -a.');
    process.exit(2);
  }
  command = ['xvfb-run', '-a', '-s', '-screen 0 64x64x24', ...args];
}
const result = spawnSync(command[0], command.slice(1), { stdio: 'inherit', env: process.env });
if (result.error) {
  console.error(`could not start ${command[0]}: ${result.error.message}`);
  process.exit(2);
}
process.exit(result.status ?? 1);
