/**
 * A small CPU z-buffer rasteriser for previews: orthographic camera turned about the vertical axis,
 * flat shading with one directional light, per-face colours. Output is RGBA8.
 */

export interface RasterView {
  width: number;
  height: number;
  /** Camera yaw about +Y in radians: 0 looks at the front (from +Z), π/2 at the body's left side (from +X). */
  yaw: number;
  /** World point at the image centre and metres per pixel. */
  centre: [number, number, number];
  metresPerPixel: number;
  background?: [number, number, number];
}

/** Renders triangles with one RGB colour per face; returns the RGBA pixels (row 0 at the top). */
export function rasterise(positions: ArrayLike<number>, faces: ArrayLike<number>, faceRgb: ArrayLike<number>, view: RasterView): Uint8Array {
  const { width: W, height: H } = view;
  const rgba = new Uint8Array(W * H * 4);
  const bg = view.background ?? [255, 255, 255];
  for (let i = 0; i < W * H; i++) rgba.set([bg[0], bg[1], bg[2], 255], 4 * i);
  const depth = new Float64Array(W * H).fill(-Infinity);
  const c = Math.cos(view.yaw);
  const s = Math.sin(view.yaw);
  const V = positions.length / 3;
  // Camera coordinates: x right, y up, z towards the viewer.
  const sx = new Float64Array(V);
  const sy = new Float64Array(V);
  const sz = new Float64Array(V);
  for (let v = 0; v < V; v++) {
    const x = positions[3 * v] - view.centre[0];
    const y = positions[3 * v + 1] - view.centre[1];
    const z = positions[3 * v + 2] - view.centre[2];
    const cx = c * x - s * z;
    const cz = s * x + c * z;
    sx[v] = W / 2 + cx / view.metresPerPixel;
    sy[v] = H / 2 - y / view.metresPerPixel;
    sz[v] = cz;
  }
  const light = [0.35, 0.55, 0.75];
  const ll = Math.hypot(...light);
  for (let f = 0; f < faces.length / 3; f++) {
    const a = faces[3 * f], b = faces[3 * f + 1], d = faces[3 * f + 2];
    // Screen-space signed area (y down): visible faces are counter-clockwise on screen.
    const area = (sx[b] - sx[a]) * (sy[d] - sy[a]) - (sx[d] - sx[a]) * (sy[b] - sy[a]);
    if (area >= 0) continue;
    // Camera-space normal for shading.
    const ex = [sx[b] - sx[a], -(sy[b] - sy[a]), (sz[b] - sz[a]) / view.metresPerPixel];
    const fx = [sx[d] - sx[a], -(sy[d] - sy[a]), (sz[d] - sz[a]) / view.metresPerPixel];
    const n = [ex[1] * fx[2] - ex[2] * fx[1], ex[2] * fx[0] - ex[0] * fx[2], ex[0] * fx[1] - ex[1] * fx[0]];
    const nl = Math.hypot(n[0], n[1], n[2]) || 1;
    const lambert = Math.max(0, (n[0] * light[0] + n[1] * light[1] + n[2] * light[2]) / (nl * ll));
    const shade = 0.4 + 0.6 * lambert;
    const r = faceRgb[3 * f] * shade, g = faceRgb[3 * f + 1] * shade, bl = faceRgb[3 * f + 2] * shade;
    const minX = Math.max(0, Math.floor(Math.min(sx[a], sx[b], sx[d])));
    const maxX = Math.min(W - 1, Math.ceil(Math.max(sx[a], sx[b], sx[d])));
    const minY = Math.max(0, Math.floor(Math.min(sy[a], sy[b], sy[d])));
    const maxY = Math.min(H - 1, Math.ceil(Math.max(sy[a], sy[b], sy[d])));
    for (let py = minY; py <= maxY; py++) {
      for (let px = minX; px <= maxX; px++) {
        const X = px + 0.5, Y = py + 0.5;
        const w0 = ((sx[b] - X) * (sy[d] - Y) - (sx[d] - X) * (sy[b] - Y)) / area;
        const w1 = ((sx[d] - X) * (sy[a] - Y) - (sx[a] - X) * (sy[d] - Y)) / area;
        const w2 = 1 - w0 - w1;
        if (w0 < 0 || w1 < 0 || w2 < 0) continue;
        const zz = w0 * sz[a] + w1 * sz[b] + w2 * sz[d];
        const i = py * W + px;
        if (zz <= depth[i]) continue;
        depth[i] = zz;
        rgba[4 * i] = r;
        rgba[4 * i + 1] = g;
        rgba[4 * i + 2] = bl;
      }
    }
  }
  return rgba;
}

/** Copies an RGBA tile into a larger RGBA image at (x0, y0). */
export function blit(dst: Uint8Array, dstWidth: number, tile: Uint8Array, tileWidth: number, tileHeight: number, x0: number, y0: number): void {
  for (let y = 0; y < tileHeight; y++) {
    dst.set(tile.subarray(y * tileWidth * 4, (y + 1) * tileWidth * 4), ((y0 + y) * dstWidth + x0) * 4);
  }
}
