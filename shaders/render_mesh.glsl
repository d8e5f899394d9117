// render_mesh — fragment shader of the mesh rasteriser (src/render/renderer.ts); not a tensor kernel.
// Writes the G-buffer texel of one pixel of one body's tile (depth-tested, nearest surface wins):
//   .x = label code of the face (flat: its provoking vertex's; 0 is left for the background),
//   .y = camera-space depth Z in metres (perspective-correct, exact on the face's plane),
//   .zw = (nx, ny) of the face's unit normal turned towards the camera (nz = −sqrt(1 − nx² − ny²)),
//         from screen-space derivatives of the position (flat shading).
// One sample per pixel, no anti-aliasing: labels are never blended.
precision highp float;
precision highp int;

flat in float v_label;
in vec3 v_position;
layout(location = 0) out vec4 outColor;

void main() {
  vec3 n = cross(dFdx(v_position), dFdy(v_position));
  float len = length(n);
  n = len > 0.0 ? n / len : vec3(0.0, 0.0, -1.0);
  if (n.z > 0.0) n = -n;   // the camera looks down +Z: a visible face's normal points to −Z
  outColor = vec4(v_label, v_position.z, n.xy);
}
