// Default entry point: one fragment computes one output texel via the kernel's `vec4 kernel(int t)`.
// Texels past the tensor's end (the tail of the last texture row) are written as 0.
#ifndef CUSTOM_MAIN
void main() {
  int t = outputTexelIndex();
  outColor = t < u_outTexels ? kernel(t) : vec4(0.0);
}
#endif

#ifdef NBF_OUTPUT
#undef main
void main() {
  nbf_kernelMain();
  nbf_fragOut = NBF_OUTPUT == 0 ? outColor : NBF_OUTPUT == 1 ? outColor1 : NBF_OUTPUT == 2 ? outColor2 : outColor3;
}
#endif
