// render_palette — class map → colour-coded part map: out = palette[class]·u_scale + u_offset.
// With scale 1, offset 0 the values are the palette's 8-bit integers (exact floats 0..255); NBF's
// fitting network input is scale 2/255, offset −1. Classes outside 0..u_classes−1 come out as
// u_offset (black), never as a neighbouring colour.
// Input Labels [..., 1] (render_labels). Output [..., 3] (lane .w is 0). One fragment maps one pixel.
uniform sampler2D Labels;
uniform vec3 u_palette[25];
uniform int u_classes;
uniform float u_scale;
uniform float u_offset;

vec4 kernel(int t) {
  int cls = int(fetchTexel(Labels, t).x + 0.5);
  vec3 rgb = cls >= 0 && cls < u_classes ? u_palette[cls] : vec3(0.0);
  return vec4(rgb * u_scale + u_offset, 0.0);
}
