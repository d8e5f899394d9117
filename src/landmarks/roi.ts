/**
 * Regions of interest for the landmark network: a square in the picture, possibly rotated, that is
 * resampled to the network's input. Pure CPU code (a 256² crop is 65k bilinear samples, ~2 ms).
 *
 * An ROI maps crop coordinates (u, v) ∈ [0, S]² (pixel centres at k + 0.5) to picture coordinates
 *   p = centre + R(angle) · ((u / S − ½) · size, (v / S − ½) · size)
 * where R rotates by `angle` radians (positive turns the crop's up axis clockwise in the picture,
 * y pointing down). Picture pixel centres are at k + 0.5 as well.
 */
import type { RgbaImage } from '../io/image.js';

export interface Roi {
  cx: number;
  cy: number;
  /** Side of the square, picture pixels. */
  size: number;
  /** Rotation, radians. */
  angle: number;
}

/** The square around the whole picture (longer side), centred: what a first pass sees. */
export function wholePictureRoi(width: number, height: number): Roi {
  return { cx: width / 2, cy: height / 2, size: Math.max(width, height), angle: 0 };
}

/** Crop coordinates → picture coordinates. */
export function cropToPicture(roi: Roi, cropSize: number, u: number, v: number): [number, number] {
  const a = (u / cropSize - 0.5) * roi.size;
  const b = (v / cropSize - 0.5) * roi.size;
  const c = Math.cos(roi.angle);
  const s = Math.sin(roi.angle);
  return [roi.cx + c * a - s * b, roi.cy + s * a + c * b];
}

/** Picture coordinates → crop coordinates. */
export function pictureToCrop(roi: Roi, cropSize: number, x: number, y: number): [number, number] {
  const dx = x - roi.cx;
  const dy = y - roi.cy;
  const c = Math.cos(roi.angle);
  const s = Math.sin(roi.angle);
  const a = c * dx + s * dy;
  const b = -s * dx + c * dy;
  return [(a / roi.size + 0.5) * cropSize, (b / roi.size + 0.5) * cropSize];
}

/**
 * The ROI resampled to S×S RGB floats (NHWC, one picture), value = pixel / 255 · scale + offset;
 * outside the picture is black (0 before scaling). Bilinear; a crop much smaller than the ROI is
 * first box-averaged by sampling a small grid per output pixel, so a 4000-pixel photo does not alias.
 */
export function cropPicture(image: RgbaImage, roi: Roi, cropSize: number, scale = 1, offset = 0): Float32Array {
  const out = new Float32Array(cropSize * cropSize * 3);
  const { width, height, data } = image;
  const step = roi.size / cropSize;
  const taps = Math.min(4, Math.max(1, Math.round(step)));
  const c = Math.cos(roi.angle);
  const s = Math.sin(roi.angle);
  const sample = (x: number, y: number, ch: number) => {
    // Bilinear between pixel centres; outside the picture counts as black.
    const fx = x - 0.5;
    const fy = y - 0.5;
    const x0 = Math.floor(fx);
    const y0 = Math.floor(fy);
    const tx = fx - x0;
    const ty = fy - y0;
    let v = 0;
    for (let j = 0; j < 2; j++) {
      const yy = y0 + j;
      if (yy < 0 || yy >= height) continue;
      const wy = j ? ty : 1 - ty;
      for (let i = 0; i < 2; i++) {
        const xx = x0 + i;
        if (xx < 0 || xx >= width) continue;
        v += wy * (i ? tx : 1 - tx) * data[(yy * width + xx) * 4 + ch];
      }
    }
    return v;
  };
  for (let v = 0; v < cropSize; v++) {
    for (let u = 0; u < cropSize; u++) {
      const o = (v * cropSize + u) * 3;
      for (let ch = 0; ch < 3; ch++) {
        let acc = 0;
        for (let j = 0; j < taps; j++) {
          for (let i = 0; i < taps; i++) {
            const a = ((u + (i + 0.5) / taps) / cropSize - 0.5) * roi.size;
            const b = ((v + (j + 0.5) / taps) / cropSize - 0.5) * roi.size;
            acc += sample(roi.cx + c * a - s * b, roi.cy + s * a + c * b, ch);
          }
        }
        out[o + ch] = (acc / (taps * taps) / 255) * scale + offset;
      }
    }
  }
  return out;
}

/**
 * A crop-space map (S×S, one channel) resampled onto the picture: each picture pixel reads the map
 * where it falls in the crop (bilinear), 0 outside the crop.
 */
export function cropMapToPicture(map: Float32Array, cropSize: number, roi: Roi, width: number, height: number): Float32Array {
  const out = new Float32Array(width * height);
  const c = Math.cos(roi.angle);
  const s = Math.sin(roi.angle);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const dx = x + 0.5 - roi.cx;
      const dy = y + 0.5 - roi.cy;
      const fu = ((c * dx + s * dy) / roi.size + 0.5) * cropSize - 0.5;
      const fv = ((-s * dx + c * dy) / roi.size + 0.5) * cropSize - 0.5;
      if (fu < -0.5 || fv < -0.5 || fu > cropSize - 0.5 || fv > cropSize - 0.5) continue;
      const u0 = Math.max(0, Math.min(cropSize - 1, Math.floor(fu)));
      const v0 = Math.max(0, Math.min(cropSize - 1, Math.floor(fv)));
      const u1 = Math.min(cropSize - 1, u0 + 1);
      const v1 = Math.min(cropSize - 1, v0 + 1);
      const tu = Math.max(0, Math.min(1, fu - u0));
      const tv = Math.max(0, Math.min(1, fv - v0));
      const top = map[v0 * cropSize + u0] * (1 - tu) + map[v0 * cropSize + u1] * tu;
      const bottom = map[v1 * cropSize + u0] * (1 - tu) + map[v1 * cropSize + u1] * tu;
      out[y * width + x] = top * (1 - tv) + bottom * tv;
    }
  }
  return out;
}

/**
 * The ROI BlazePose derives from two alignment points (its auxiliary landmarks 33 and 34, or the
 * detector's): centred on the first, side 2 · |p1 − p0| · scale, rotated so that p0 → p1 points up.
 */
export function alignmentRoi(p0: readonly [number, number], p1: readonly [number, number], scale = 1.25): Roi {
  const dx = p1[0] - p0[0];
  const dy = p1[1] - p0[1];
  const distance = Math.hypot(dx, dy);
  // Angle that turns "up" (0, −1) into the direction p0 → p1.
  const angle = Math.atan2(dx, -dy);
  return { cx: p0[0], cy: p0[1], size: 2 * distance * scale, angle };
}
