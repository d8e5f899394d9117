// render_gather — the rasteriser's atlas → a G-buffer tensor in the channel-packed layout.
//   out[n, y, x, :] = Atlas texel (tx·W + x, ty·H + y), tile (tx, ty) = (n mod tilesX, n div tilesX).
// Input: Atlas, the RGBA32F texture the mesh was drawn into (tiles of W×H pixels, one per body; see
// shaders/render_mesh.glsl for what a texel holds), read by 2D texel coordinates.
// Output: [N, H, W, 4] (one texel per pixel, row = (n·H + y)·W + x). One fragment copies one pixel.
uniform sampler2D Atlas;
uniform int u_width;    // W
uniform int u_height;   // H
uniform int u_tilesX;   // tiles per atlas row

vec4 kernel(int t) {
  int x = t % u_width;
  int y = (t / u_width) % u_height;
  int n = t / (u_width * u_height);
  ivec2 tile = ivec2(n % u_tilesX, n / u_tilesX);
  return texelFetch(Atlas, tile * ivec2(u_width, u_height) + ivec2(x, y), 0);
}
