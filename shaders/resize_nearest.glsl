// resize_nearest — nearest-neighbour resize of NHWC images with TensorFlow's index rules.
//   Source index of output row o: min(⌊(o·A + B) / D⌋, in − 1), integers set per mode:
//     half-pixel centres  ⌊(o + ½)·in/out⌋             → A = 2·in,       B = in,      D = 2·out
//     align corners       round(o·(in − 1)/(out − 1))  → A = 2·(in − 1), B = out − 1, D = 2·(out − 1)
//                         (round half up = TF's roundf for these non-negative values)
//     legacy (neither)    ⌊o·in/out⌋                   → A = in,         B = 0,       D = out
//   Same for columns. Integer arithmetic makes the choice exact: a sample exactly on a pixel boundary
//   never flips with float rounding.
// Input X [N, H, W, C], output [N, OH, OW, C], both channel-packed (row = pixel). One fragment copies
// one texel: 4 channels of the chosen source pixel.
uniform sampler2D X;
uniform ivec3 u_inSize;  // H, W, C
uniform ivec2 u_outSize; // OH, OW
uniform ivec3 u_mapY;    // A, B, D for rows
uniform ivec3 u_mapX;    // A, B, D for columns

int sourceIndex(int o, ivec3 map, int size) {
  return min((o * map.x + map.y) / map.z, size - 1);
}

vec4 kernel(int t) {
  int texelsPerRow = (u_inSize.z + 3) / 4;
  int row = t / texelsPerRow;
  int c4 = t - row * texelsPerRow;
  int ox = row % u_outSize.y;
  int rest = row / u_outSize.y;
  int oy = rest % u_outSize.x;
  int n = rest / u_outSize.x;
  int y = sourceIndex(oy, u_mapY, u_inSize.x);
  int x = sourceIndex(ox, u_mapX, u_inSize.y);
  // The source texel's padding lanes are already 0; keepLanes guards against a stale texel anyway.
  return keepLanes(fetchTexel(X, ((n * u_inSize.x + y) * u_inSize.y + x) * texelsPerRow + c4), c4, u_inSize.z);
}
