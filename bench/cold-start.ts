/**
 * Where BlazePose's first picture spends its time: detect() twice on a fresh context, every kernel
 * timed (KernelProfiler), and per kernel the first call's time minus the second's — compiling, on a
 * WebGL on the CPU (docs/performance.md, "Cold start").
 *
 *   MESA_SHADER_CACHE_DISABLE=true node scripts/with-display.mjs node --import tsx bench/cold-start.ts [PICTURE] [--top N]
 *
 * Without Mesa's cache off, a machine that ran these programs before loads them from its disk cache.
 * PICTURE defaults to examples/web/sample.png. Prints; writes nothing.
 */
import { readFileSync } from 'node:fs';
import { createNodeContext } from '../src/runtime/node-context.js';
import { KernelProfiler } from '../src/runtime/profiler.js';
import { createPoseLandmarker } from '../src/landmarks/model-files.js';
import { decodeImage } from '../src/io/image.js';

const args = process.argv.slice(2);
const topIndex = args.indexOf('--top');
const top = topIndex >= 0 ? Number(args[topIndex + 1]) : 20;
const picture = args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--top') ?? 'examples/web/sample.png';

const rt = createNodeContext();
const landmarker = createPoseLandmarker(rt, {});
const image = decodeImage(new Uint8Array(readFileSync(picture)), picture);
const profiler = new KernelProfiler(rt);

const run = () => {
  profiler.reset();
  profiler.start();
  const t0 = performance.now();
  landmarker.detect(image);
  const ms = performance.now() - t0;
  profiler.stop();
  return { ms, byShape: new Map(profiler.report().byShape.map((r) => [r.key, r.ms])) };
};
const first = run();
const second = run();
// Per program (kernel and specialisation): the first picture's extra time over the second's.
const extra = new Map<string, number>();
for (const [key, ms] of first.byShape) {
  const program = key.split('(')[0];
  extra.set(program, (extra.get(program) ?? 0) + ms - (second.byShape.get(key) ?? 0));
}
const rows = [...extra].sort((a, b) => b[1] - a[1]);
const total = rows.reduce((s, r) => s + r[1], 0);
console.log(`BlazePose lite on ${picture}: first picture ${first.ms.toFixed(0)} ms, second ${second.ms.toFixed(0)} ms; ` +
  `${rt.programs.size} programs; the first's extra time in kernels ${total.toFixed(0)} ms (Mesa's shader cache ${process.env.MESA_SHADER_CACHE_DISABLE === 'true' ? 'off' : 'on'})`);
const byKernel = new Map<string, number>();
for (const [program, ms] of rows) byKernel.set(program.split('{')[0], (byKernel.get(program.split('{')[0]) ?? 0) + ms);
console.log('by kernel: ' + [...byKernel].sort((a, b) => b[1] - a[1]).map(([k, ms]) => `${k} ${ms.toFixed(0)}`).join(', '));
for (const [program, ms] of rows.slice(0, top)) console.log(`${ms.toFixed(0).padStart(8)} ms  ${program}`);
landmarker.dispose();
rt.destroy();
