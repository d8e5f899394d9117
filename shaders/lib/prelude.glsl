// Prelude of every kernel (the runtime puts `#version 300 es` and the kernel's #defines before it).
// Layout (see src/runtime/layout.ts): a tensor [..., C] is rows of
// C4 = ceil(C/4) RGBA texels; texel t = row*C4 + c4 sits at (t mod W, t div W) of a texture of width W.
// Lanes past C are 0 in every tensor, and every kernel must keep them 0.
precision highp float;
precision highp int;
precision highp sampler2D;

uniform int u_outWidth;   // physical width of the output texture(s)
uniform int u_outTexels;  // logical texel count of the output tensor

// Kernels with several outputs (runtime.runMulti) write outColor, outColor1, outColor2, outColor3 from
// their own main(). headless-gl cannot draw to several buffers (drawBuffers with more than one fails),
// so the runtime draws once per output with NBF_OUTPUT = i and this prelude routes that output to the
// single render target. Kernels never declare outputs themselves.
#ifdef NBF_OUTPUT
layout(location = 0) out vec4 nbf_fragOut;
vec4 outColor;
vec4 outColor1;
vec4 outColor2;
vec4 outColor3;
#define main nbf_kernelMain
#else
layout(location = 0) out vec4 outColor;
#endif

// log2 of a power of two, exactly, from the float's exponent bits (texture widths are powers of two).
int log2PowerOfTwo(int w) {
  return (floatBitsToInt(float(w)) >> 23) - 127;
}

// Texel t of a tensor stored in texture s. Mask and shift, not % and /: llvmpipe has no vector integer
// division, and this is the innermost read of every kernel. textureLod at the texel centre (textures
// use NEAREST filtering) measured 1.75x faster than texelFetch on llvmpipe.
vec4 fetchTexel(sampler2D s, int t) {
  ivec2 size = textureSize(s, 0);
  vec2 texel = vec2(t & (size.x - 1), t >> log2PowerOfTwo(size.x));
  return textureLod(s, (texel + 0.5) / vec2(size), 0.0);
}

// Element at (row, channel c) of a tensor with C4 texels per row.
float fetchElement(sampler2D s, int row, int c, int texelsPerRow) {
  vec4 v = fetchTexel(s, row * texelsPerRow + (c >> 2));
  int lane = c & 3;
  return lane == 0 ? v.x : lane == 1 ? v.y : lane == 2 ? v.z : v.w;
}

// Texel index this fragment writes.
int outputTexelIndex() {
  ivec2 p = ivec2(gl_FragCoord.xy);
  return p.y * u_outWidth + p.x;
}

// 1.0 for lanes whose channel 4*c4+i is < channels, else 0.0.
vec4 laneMask(int c4, int channels) {
  return vec4(lessThan(ivec4(0, 1, 2, 3), ivec4(channels - 4 * c4)));
}

// v with lanes past `channels` set to 0 (a select, so NaN or inf there cannot leak through).
vec4 keepLanes(vec4 v, int c4, int channels) {
  return mix(vec4(0.0), v, lessThan(ivec4(0, 1, 2, 3), ivec4(channels - 4 * c4)));
}
