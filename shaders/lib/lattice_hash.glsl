// Shared helper (#include "lib/lattice_hash"): integer hashing for the procedural textures and noise
// of the synthetic-data kernels (synth_shade, synth_augment), so both draw from one hash.
uint hashUint(uint x) {
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}
// Uniform in [0, 1) of a lattice point and a seed: 24 bits, exact in float32. The offset keeps the
// ints non-negative before the conversion to uint (done in integers, so no precision is lost).
float latticeHash(int x, int y, int seed) {
  return float(hashUint(uint(x + 1048576) ^ hashUint(uint(y + 1048576) ^ hashUint(uint(seed)))) >> 8) / 16777216.0;
}
// The same for a 3D lattice point (textures on the rest-pose surface, synth_shade): the coordinates
// mixed by odd multipliers, one hash per point after the seed's (cheaper than nesting: llvmpipe runs
// every branch of a shader, so each noise call costs every pixel).
float latticeHash3(int x, int y, int z, int seed) {
  uint h = uint(x + 1048576) * 0x8da6b343u ^ uint(y + 1048576) * 0xd8163841u ^ uint(z + 1048576) * 0xcb1ab31fu;
  return float(hashUint(h ^ hashUint(uint(seed))) >> 8) / 16777216.0;
}
