// reduce_backward — gradient of a max / min reduction, which goes to the elements equal to the
// result, split evenly among ties (as TensorFlow):
//   MODE 0 (tie mask)  out = [X == Y]
//   MODE 1 (gradient)  out = [X == Y] · DY / COUNT,   COUNT = Σ over the reduced axes of the tie mask
// Inputs: X [..., C] (the forward input) and Y, DY, COUNT (MODE 1) in the reduction's keepDims shape,
// broadcast to X's shape as in binary.glsl (row strides 0 along reduced dims; a reduced last dim is
// splatted over the lanes). Output: X's shape, channel-packed. One fragment computes one texel.
uniform sampler2D X;
uniform sampler2D Y;
#if MODE == 1
uniform sampler2D DY;
uniform sampler2D COUNT;
#endif
uniform int u_channels;        // C of X
uniform int u_outDims[5];      // X's leading dims, right-aligned, padded with 1
uniform int u_yRowStrides[5];  // rows of the keepDims tensors per step of each dim (0 = reduced)
uniform int u_yTexelsPerRow;
uniform bool u_ySplat;         // the last axis is reduced

vec4 fetchReduced(sampler2D s, int yRow, int c4) {
  return u_ySplat ? vec4(fetchTexel(s, yRow * u_yTexelsPerRow).x) : fetchTexel(s, yRow * u_yTexelsPerRow + c4);
}

vec4 kernel(int t) {
  int texelsPerRow = (u_channels + 3) / 4;
  int row = t / texelsPerRow;
  int c4 = t - row * texelsPerRow;
  int yRow = 0;
  int rest = row;
  for (int i = 4; i >= 0; i--) {
    int coord = rest % u_outDims[i];
    rest /= u_outDims[i];
    yRow += coord * u_yRowStrides[i];
  }
  vec4 ties = vec4(equal(fetchTexel(X, t), fetchReduced(Y, yRow, c4)));
#if MODE == 0
  return keepLanes(ties, c4, u_channels);
#else
  return keepLanes(ties * fetchReduced(DY, yRow, c4) / fetchReduced(COUNT, yRow, c4), c4, u_channels);
#endif
}
