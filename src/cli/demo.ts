/**
 * `nbf demo`: runs a small convolutional network forward on the GPU runtime and prints its output and
 * timing. The network has the fitting network's shape in miniature (conv stem, strided convs, global
 * pooling, a linear head of 226 outputs = 10 β + 24 rotation matrices) with seeded He-initialised
 * weights, so the numbers are reproducible. Until trained weights ship, this is the main job.
 */
import { createNodeContext } from '../runtime/node-context.js';
import type { Runtime } from '../runtime/runtime.js';
import type { Tensor } from '../runtime/tensor.js';
import { conv2d } from '../kernels/conv2d.js';
import { matmul } from '../kernels/matmul.js';
import { globalAvgPool } from '../kernels/pool.js';
import { reshape } from '../kernels/reshape.js';
import { Rng } from '../util/random.js';
import { intFlag, parseArgs } from './args.js';

interface ConvLayer { w: Tensor; b: Tensor; stride: number }

function heNormal(rng: Rng, shape: number[], fanIn: number): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const std = Math.sqrt(2 / fanIn);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.normal(0, std);
  return out;
}

export function buildDemoNet(rt: Runtime, seed = 1) {
  const rng = new Rng(seed);
  const widths = [3, 16, 32, 64, 128];
  const convs: ConvLayer[] = [];
  for (let i = 0; i + 1 < widths.length; i++) {
    const shape = [3, 3, widths[i], widths[i + 1]];
    convs.push({
      w: rt.keep(rt.tensor(heNormal(rng, shape, 9 * widths[i]), shape)),
      b: rt.keep(rt.zeros([widths[i + 1]])),
      stride: 2,
    });
  }
  const headW = rt.keep(rt.tensor(heNormal(rng, [128, 226], 128).map((v) => v * 0.1), [128, 226]));
  const headB = rt.keep(rt.zeros([226]));
  const forward = (x: Tensor): Tensor =>
    rt.scope(() => {
      let h = x;
      for (const c of convs) h = conv2d(h, c.w, { strides: c.stride, padding: 'same', bias: c.b, activation: 'relu' });
      const pooled = reshape(globalAvgPool(h), [x.shape[0], 128]);
      return matmul(pooled, headW, { bias: headB });
    });
  const dispose = () => [...convs.flatMap((c) => [c.w, c.b]), headW, headB].forEach((t) => t.dispose());
  return { forward, dispose };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export async function demo(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['batch', 'size', 'repeats']);
  const batch = intFlag(args, 'batch', 1, 1, 64);
  const size = intFlag(args, 'size', 128, 8, 1024);
  const repeats = intFlag(args, 'repeats', 5, 1, 100);

  const t0 = performance.now();
  const rt = createNodeContext();
  const tContext = performance.now() - t0;
  try {
    const net = buildDemoNet(rt);
    const rng = new Rng(2);
    const image = rt.keep(rt.tensor(rng.uniformArray(batch * size * size * 3, -1, 1), [batch, size, size, 3]));

    const t1 = performance.now();
    const first = net.forward(image);
    const out = first.readSync();
    const tFirst = performance.now() - t1;
    first.dispose();

    const times: number[] = [];
    for (let i = 0; i < repeats; i++) {
      const s = performance.now();
      const y = net.forward(image);
      y.readSync();
      times.push(performance.now() - s);
      y.dispose();
    }
    const head = Array.from(out.subarray(0, 10), (v) => v.toFixed(4)).join(', ');
    console.log(`nbf demo: conv net (4 strided 3×3 convs 16→128, global pool, linear 128→226) on ${batch}×${size}×${size}×3`);
    console.log(`output [${batch}, 226]; first 10 (β): ${head}`);
    console.log(`context ${tContext.toFixed(0)} ms · first run (compiles shaders) ${tFirst.toFixed(0)} ms · warm median of ${repeats}: ${median(times).toFixed(1)} ms`);
    const mem = rt.memory();
    console.log(`GPU memory: ${mem.liveTextures} live textures (${(mem.liveBytes / 2 ** 20).toFixed(2)} MiB), ${mem.programs} programs`);
    image.dispose();
    net.dispose();
    return 0;
  } finally {
    rt.destroy();
  }
}
