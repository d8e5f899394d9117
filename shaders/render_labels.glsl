// render_labels — G-buffer → class map at one part granularity (src/render/parts.ts):
//   code = GBuffer.x (0 background, else 1 + part24 + 32·part12),
//   class = 0 for the background; part12 when USE_PARTS12 (12 parts); else u_table[part24 + 1].
// Input GBuffer [N, H, W, 4] (render_gather). Output [N, H, W, 1], the class index as an exact
// float; lanes .yzw are 0. One fragment labels one pixel. Nothing is interpolated or blended.
uniform sampler2D GBuffer;
uniform int u_table[25];   // skinning part + 1 → class (entry 0: background → 0)

vec4 kernel(int t) {
  int code = int(fetchTexel(GBuffer, t).x + 0.5);
  if (code <= 0) return vec4(0.0);
#if USE_PARTS12
  int cls = (code - 1) >> 5;
#else
  int cls = u_table[((code - 1) & 31) + 1];
#endif
  return vec4(float(cls), 0.0, 0.0, 0.0);
}
