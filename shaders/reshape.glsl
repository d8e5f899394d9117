// reshape — repacks a tensor whose last dim changes: out element e = X element e in row-major order.
// Input X [.., Cin] and output [.., Cout], channel-packed, equal element counts. One fragment computes
// one output texel: each lane (row, c) has flat index e = row·Cout + c and reads X at
// (e div Cin, e mod Cin). (When Cin and Cout are both multiples of 4 the texel streams coincide and
// src/kernels/reshape.ts copies texels instead; when Cin = Cout it is a free view.)
uniform sampler2D X;
uniform int u_inChannels;   // Cin
uniform int u_outChannels;  // Cout

vec4 kernel(int t) {
  int outTexelsPerRow = (u_outChannels + 3) / 4;
  int inTexelsPerRow = (u_inChannels + 3) / 4;
  int row = t / outTexelsPerRow;
  int c4 = t - row * outTexelsPerRow;
  vec4 v = vec4(0.0);
  for (int lane = 0; lane < 4; lane++) {
    int channel = 4 * c4 + lane;
    if (channel < u_outChannels) {
      int flatIndex = row * u_outChannels + channel;
      int inRow = flatIndex / u_inChannels;
      v[lane] = fetchElement(X, inRow, flatIndex - inRow * u_inChannels, inTexelsPerRow);
    }
  }
  return v;
}
