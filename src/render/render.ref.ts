/**
 * Float64 CPU references of the renderer (renderer.ts, maps.ts): a scan-line-free rasteriser that
 * samples pixel centres like the GPU (same camera, same provoking-vertex label, nearest depth wins),
 * the class-map lookup and the palette lookup.
 */
import { classCount, classOfCode, partPalette, type Granularity } from './parts.js';

export interface RefCamera {
  fx: number;
  fy: number;
  cx: number;
  cy: number;
}

/**
 * G-buffer [H, W, 4] of one body: (label code, depth Z, nx, ny) per pixel, 0 for the background.
 * `vertices` V·3 camera-space metres; `faces` as drawn (the provoking vertex is the last of each
 * face); pixel (x, y) samples the image point (x + ½, y + ½), origin top-left, y down.
 */
export function rasteriseRef(
  vertices: ArrayLike<number>, faces: ArrayLike<number>, labels: ArrayLike<number>, camera: RefCamera,
  width: number, height: number, near = 0.05, far = 1000,
): Float64Array {
  return rasteriseLayersRef(vertices, faces, labels, null, camera, width, height, near, far).gbuffer;
}

/**
 * The G-buffer of rasteriseRef and, with `rest` (V·3 rest-pose positions), the surface buffer [H, W, 4]
 * of the surface pass (shaders/render_surface.glsl): (rest x, y, z, 1) of the visible point,
 * interpolated perspective-correctly (A = Z·Σ wᵢ·Aᵢ/Zᵢ with screen-space barycentrics wᵢ), 0 for the
 * background. Without `rest` the surface buffer is empty (all 0).
 */
export function rasteriseLayersRef(
  vertices: ArrayLike<number>, faces: ArrayLike<number>, labels: ArrayLike<number>, rest: ArrayLike<number> | null,
  camera: RefCamera, width: number, height: number, near = 0.05, far = 1000,
): { gbuffer: Float64Array; surface: Float64Array } {
  const out = new Float64Array(width * height * 4);
  const surface = new Float64Array(width * height * 4);
  const depth = new Float64Array(width * height).fill(Infinity);
  const V = vertices.length / 3;
  const u = new Float64Array(V);
  const v = new Float64Array(V);
  const z = new Float64Array(V);
  for (let i = 0; i < V; i++) {
    z[i] = vertices[3 * i + 2];
    u[i] = (camera.fx * vertices[3 * i]) / z[i] + camera.cx;
    v[i] = (camera.fy * vertices[3 * i + 1]) / z[i] + camera.cy;
  }
  for (let f = 0; f < faces.length; f += 3) {
    const [a, b, c] = [faces[f], faces[f + 1], faces[f + 2]];
    // Faces crossing the near or far plane are clipped by the GPU; the reference skips them
    // entirely (tests keep bodies well inside the depth range).
    if (!(z[a] > near && z[b] > near && z[c] > near && z[a] < far && z[b] < far && z[c] < far)) continue;
    const area = (u[b] - u[a]) * (v[c] - v[a]) - (u[c] - u[a]) * (v[b] - v[a]);
    if (area === 0) continue;
    const x0 = Math.max(0, Math.floor(Math.min(u[a], u[b], u[c]) - 0.5));
    const x1 = Math.min(width - 1, Math.ceil(Math.max(u[a], u[b], u[c]) - 0.5));
    const y0 = Math.max(0, Math.floor(Math.min(v[a], v[b], v[c]) - 0.5));
    const y1 = Math.min(height - 1, Math.ceil(Math.max(v[a], v[b], v[c]) - 0.5));
    // Face normal in camera space, turned towards the camera (−Z).
    const e1 = [vertices[3 * b] - vertices[3 * a], vertices[3 * b + 1] - vertices[3 * a + 1], z[b] - z[a]];
    const e2 = [vertices[3 * c] - vertices[3 * a], vertices[3 * c + 1] - vertices[3 * a + 1], z[c] - z[a]];
    let n = [e1[1] * e2[2] - e1[2] * e2[1], e1[2] * e2[0] - e1[0] * e2[2], e1[0] * e2[1] - e1[1] * e2[0]];
    const len = Math.hypot(n[0], n[1], n[2]) || 1;
    n = n.map((x) => x / len);
    if (n[2] > 0) n = n.map((x) => -x);
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        const px = x + 0.5;
        const py = y + 0.5;
        // Screen-space barycentrics, then perspective-correct depth: 1/Z is affine in screen space.
        const wa = ((u[b] - px) * (v[c] - py) - (u[c] - px) * (v[b] - py)) / area;
        const wb = ((u[c] - px) * (v[a] - py) - (u[a] - px) * (v[c] - py)) / area;
        const wc = 1 - wa - wb;
        if (wa < 0 || wb < 0 || wc < 0) continue;
        const Z = 1 / (wa / z[a] + wb / z[b] + wc / z[c]);
        const p = y * width + x;
        if (!(Z < depth[p])) continue;
        depth[p] = Z;
        out.set([labels[c], Z, n[0], n[1]], 4 * p);
        if (rest) {
          for (let k = 0; k < 3; k++) surface[4 * p + k] = Z * ((wa * rest[3 * a + k]) / z[a] + (wb * rest[3 * b + k]) / z[b] + (wc * rest[3 * c + k]) / z[c]);
          surface[4 * p + 3] = 1;
        }
      }
    }
  }
  return { gbuffer: out, surface };
}

/** Class map (one value per pixel) of G-buffer texels (4 values per pixel). */
export function partLabelMapRef(gbuffer: ArrayLike<number>, g: Granularity): Float64Array {
  const out = new Float64Array(gbuffer.length / 4);
  for (let p = 0; p < out.length; p++) out[p] = classOfCode(Math.round(gbuffer[4 * p]), g);
  return out;
}

/** Colour map (3 values per pixel) of a class map. */
export function partColourMapRef(labels: ArrayLike<number>, g: Granularity, scale = 1, offset = 0): Float64Array {
  const colours = partPalette(g);
  const out = new Float64Array(labels.length * 3);
  for (let p = 0; p < labels.length; p++) {
    const cls = Math.round(labels[p]);
    const rgb = cls >= 0 && cls < classCount(g) ? colours[cls] : [0, 0, 0];
    for (let k = 0; k < 3; k++) out[3 * p + k] = rgb[k] * scale + offset;
  }
  return out;
}
