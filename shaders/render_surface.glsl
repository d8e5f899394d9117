// render_surface — fragment shader of the rasteriser's surface pass (src/render/renderer.ts); not a
// tensor kernel. Writes the surface texel of one pixel of one body's tile: where on the body's own
// rest-pose (template) surface the visible point lies, so textures can follow the body:
//   .xyz = rest-pose position (metres; the body model's frame: Y up, facing +Z, the subject's left at
//          +X), interpolated perspective-correctly from the vertices' template positions (a_rest),
//   .w   = 1 (coverage; the cleared atlas holds 0 for the background).
// Drawn after the G-buffer pass (render_mesh.glsl) with the same vertex shader into a second atlas,
// reusing its depth buffer with depth test LEQUAL and depth writes off, so a pixel shows the same
// surface point in both passes. One sample per pixel, no blending.
precision highp float;
precision highp int;

in vec3 v_rest;
layout(location = 0) out vec4 outColor;

void main() {
  outColor = vec4(v_rest, 1.0);
}
