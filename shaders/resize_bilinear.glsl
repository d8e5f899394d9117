// resize_bilinear — bilinear resize of NHWC images with TensorFlow's coordinate rules.
//   Source coordinate of output row o: s = (o·A + B) / D, an exact fraction of integers set per mode:
//     half-pixel centres  s = (o + ½)·in/out − ½   → A = 2·in,   B = in − out, D = 2·out
//     align corners       s = o·(in − 1)/(out − 1) → A = in − 1, B = 0,        D = out − 1
//     legacy (neither)    s = o·in/out             → A = in,     B = 0,        D = out
//   lower = min(⌊s⌋, in − 1), upper = min(⌈s⌉, in − 1), f = s − ⌊s⌋ (s < 0 only occurs in (−½, 0) and
//   reads pixel 0, as TF). Same for columns. Then, as TF:
//     top = X[y0,x0] + (X[y0,x1] − X[y0,x0])·fx,  bottom likewise on row y1,  out = top + (bottom − top)·fy
//   Integer arithmetic keeps ⌊s⌋ exact and f correct to one float32 rounding at any image size.
// Input X [N, H, W, C], output [N, OH, OW, C], both channel-packed (row = pixel). One fragment computes
// one output texel: 4 channels of one output pixel from 4 input texels.
uniform sampler2D X;
uniform ivec3 u_inSize;  // H, W, C
uniform ivec2 u_outSize; // OH, OW
uniform ivec3 u_mapY;    // A, B, D for rows
uniform ivec3 u_mapX;    // A, B, D for columns

// The two source indices and the weight of the upper one, for output index o along one axis.
void sourceSpan(int o, ivec3 map, int size, out int lower, out int upper, out float frac) {
  int num = max(o * map.x + map.y, 0);
  int whole = num / map.z;
  int rem = num - whole * map.z;
  lower = min(whole, size - 1);
  upper = min(whole + (rem > 0 ? 1 : 0), size - 1);
  frac = float(rem) / float(map.z);
}

vec4 kernel(int t) {
  int channels = u_inSize.z;
  int texelsPerRow = (channels + 3) / 4;
  int row = t / texelsPerRow;
  int c4 = t - row * texelsPerRow;
  int ox = row % u_outSize.y;
  int rest = row / u_outSize.y;
  int oy = rest % u_outSize.x;
  int n = rest / u_outSize.x;
  int y0, y1, x0, x1;
  float fy, fx;
  sourceSpan(oy, u_mapY, u_inSize.x, y0, y1, fy);
  sourceSpan(ox, u_mapX, u_inSize.y, x0, x1, fx);
  int row0 = (n * u_inSize.x + y0) * u_inSize.y;
  int row1 = (n * u_inSize.x + y1) * u_inSize.y;
  vec4 topLeft = fetchTexel(X, (row0 + x0) * texelsPerRow + c4);
  vec4 topRight = fetchTexel(X, (row0 + x1) * texelsPerRow + c4);
  vec4 bottomLeft = fetchTexel(X, (row1 + x0) * texelsPerRow + c4);
  vec4 bottomRight = fetchTexel(X, (row1 + x1) * texelsPerRow + c4);
  vec4 top = topLeft + (topRight - topLeft) * fx;
  vec4 bottom = bottomLeft + (bottomRight - bottomLeft) * fx;
  return keepLanes(top + (bottom - top) * fy, c4, channels);
}
