// Shared helper (#include "lib/batch_matrices"): a batched product's batch index → the index of its
// A matrix and of its B matrix (x, y), for batch dims that broadcast (stride 0). The output's batch
// dims are right-aligned in u_batchDims, padded with 1. Used by matmul and matmul_quad.
uniform int u_batchDims[4];       // output batch dims, right-aligned, padded with 1
uniform int u_aBatchStrides[4];   // matrices of A per step of each batch dim (0 = broadcast)
uniform int u_bBatchStrides[4];

ivec2 batchMatrices(int batch) {
  ivec2 ab = ivec2(0);
  for (int i = 3; i >= 0; i--) {
    int coord = batch % u_batchDims[i];
    batch /= u_batchDims[i];
    ab += coord * ivec2(u_aBatchStrides[i], u_bBatchStrides[i]);
  }
  return ab;
}
