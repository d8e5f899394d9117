// reduce_to_shape_backward — out = G broadcast to a larger shape (numpy rules): the gradient of
// reduce_to_shape, and of every sum over broadcast dims. out[i] = G[index of i in G's shape].
// Input G: channel-packed [..., C_G], broadcastable to the output. Output: channel-packed [..., C].
// C_G is C or 1 (then the one value is splatted over the row's lanes).
// One fragment computes one output texel: its row is split into coordinates over the output's
// leading dims and mapped to G's row through G's row strides (0 along broadcast dims).
uniform sampler2D G;
uniform int u_channels;        // C of the output
uniform int u_outDims[5];      // output leading dims, right-aligned into 5 slots, padded with 1
uniform int u_gRowStrides[5];  // G rows per step of each output dim (0 where broadcast)
uniform int u_gTexelsPerRow;   // ceil(C_G / 4)
uniform bool u_splat;          // C_G = 1 < C

vec4 kernel(int t) {
  int texelsPerRow = (u_channels + 3) / 4;
  int row = t / texelsPerRow;
  int c4 = t - row * texelsPerRow;
  int gRow = 0;
  int rest = row;
  for (int i = 4; i >= 0; i--) {
    int coord = rest % u_outDims[i];
    rest /= u_outDims[i];
    gRow += coord * u_gRowStrides[i];
  }
  vec4 g = u_splat ? vec4(fetchTexel(G, gRow * u_gTexelsPerRow).x) : fetchTexel(G, gRow * u_gTexelsPerRow + c4);
  return keepLanes(g, c4, u_channels);
}
