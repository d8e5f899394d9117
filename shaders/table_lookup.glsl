// table_lookup — out = table[k] where k = round(x), for k in [0, u_tableSize); 0 for any other x
// (NaN included). Elementwise: the segmenter loss's per-pixel class weights from its labels in one
// pass (the one-hot route took five passes over [pixels, classes]).
// Input X and output: the same shape [..., C], channel-packed; u_table: the table (≤ 64 entries,
// beyond u_tableSize unused). One fragment maps one texel (4 channels); lanes past C are 0.
uniform sampler2D X;
uniform float u_table[64];
uniform int u_tableSize;
uniform int u_channels;  // C

float lookUp(float x) {
  float k = floor(x + 0.5);
  // A NaN fails both comparisons, so it is 0 as well.
  if (!(k >= 0.0 && k < float(u_tableSize))) return 0.0;
  return u_table[int(k)];
}

vec4 kernel(int t) {
  int texelsPerRow = (u_channels + 3) / 4;
  vec4 x = fetchTexel(X, t);
  return keepLanes(vec4(lookUp(x.x), lookUp(x.y), lookUp(x.z), lookUp(x.w)), t % texelsPerRow, u_channels);
}
