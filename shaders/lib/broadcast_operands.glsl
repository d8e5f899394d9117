// Shared helper (#include "lib/broadcast_operands"): reads the two operands of a broadcasting binary
// op (binary.glsl and its backward) at output texel t of a channel-packed [..., C] result. The
// output row is split into coordinates over the leading dims (u_outDims, right-aligned, padded with
// 1s) and mapped to each operand's row through its row strides (0 along broadcast dims); an operand
// whose last dim is 1 while C > 1 is read as one element and splatted over the 4 lanes. Uniforms are
// set by src/kernels/elementwise.ts.
uniform sampler2D A;
uniform sampler2D B;
uniform int u_channels;       // C
uniform int u_outDims[5];     // output dims except the last, right-aligned
uniform int u_aRowStrides[5]; // rows of A per step of each output dim (0 = broadcast)
uniform int u_bRowStrides[5];
uniform int u_aTexelsPerRow;  // ceil(C_A / 4)
uniform int u_bTexelsPerRow;
uniform bool u_aSplat;        // A's last dim is 1 and C > 1
uniform bool u_bSplat;

void broadcastOperands(int row, int c4, out vec4 a, out vec4 b) {
  int aRow = 0;
  int bRow = 0;
  int rest = row;
  for (int i = 4; i >= 0; i--) {
    int coord = rest % u_outDims[i];
    rest /= u_outDims[i];
    aRow += coord * u_aRowStrides[i];
    bRow += coord * u_bRowStrides[i];
  }
  a = u_aSplat ? vec4(fetchTexel(A, aRow * u_aTexelsPerRow).x) : fetchTexel(A, aRow * u_aTexelsPerRow + c4);
  b = u_bSplat ? vec4(fetchTexel(B, bRow * u_bTexelsPerRow).x) : fetchTexel(B, bRow * u_bTexelsPerRow + c4);
}
