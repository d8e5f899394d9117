/**
 * Maps derived from a G-buffer [N, H, W, 4] (MeshRenderer.render): class maps at any part
 * granularity, colour-coded part maps, depth. CPU references: render.ref.ts.
 */
import type { Tensor } from '../runtime/tensor.js';
import { ShapeError } from '../runtime/errors.js';
import { slice } from '../kernels/slice.js';
import { checkGranularity, classCount, partPalette, partTable, type Granularity } from './parts.js';

function checkGBuffer(gbuffer: Tensor, what: string): void {
  const s = gbuffer.shape;
  if (s.length !== 4 || s[3] !== 4) throw new ShapeError(`${what}: the G-buffer should be [N, H, W, 4], got [${s.join(', ')}]`);
}

/** Class per pixel [N, H, W, 1] (exact integers; 0 = background) at a granularity (1, 3, 6, 12, 24). */
export function partLabelMap(gbuffer: Tensor, granularity: Granularity = 12): Tensor {
  checkGBuffer(gbuffer, 'partLabelMap');
  const g = checkGranularity(granularity);
  const [N, H, W] = gbuffer.shape;
  return gbuffer.runtime.run({
    kernel: 'render_labels',
    defines: { USE_PARTS12: g === 12 },
    inputs: { GBuffer: gbuffer },
    uniforms: g === 12 ? {} : { u_table: partTable(g) },
    outShape: [N, H, W, 1],
  });
}

export interface ColourOptions {
  /** out = palette·scale + offset (default 1 and 0: 8-bit values; NBF's network input: 2/255, −1). */
  scale?: number;
  offset?: number;
}

/** Colour-coded part map [..., 3] from a class map [..., 1] of the same granularity. */
export function partColourMap(labels: Tensor, granularity: Granularity = 12, options: ColourOptions = {}): Tensor {
  const s = labels.shape;
  if (s.length < 1 || s[s.length - 1] !== 1) throw new ShapeError(`partColourMap: labels should be [..., 1], got [${s.join(', ')}]`);
  const g = checkGranularity(granularity);
  const colours = partPalette(g);
  const flat = new Float32Array(25 * 3);
  colours.forEach((rgb, i) => flat.set(rgb, 3 * i));
  return labels.runtime.run({
    kernel: 'render_palette',
    inputs: { Labels: labels },
    uniforms: { u_palette: flat, u_classes: classCount(g), u_scale: options.scale ?? 1, u_offset: options.offset ?? 0 },
    outShape: [...s.slice(0, -1), 3],
  });
}

/** Depth in metres (camera Z) per pixel [N, H, W, 1]; 0 where no body is drawn. */
export function depthMap(gbuffer: Tensor): Tensor {
  checkGBuffer(gbuffer, 'depthMap');
  const [N, H, W] = gbuffer.shape;
  return slice(gbuffer, [0, 0, 0, 1], [N, H, W, 1]);
}
