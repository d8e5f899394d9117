/**
 * lib/divmod's FLOAT_DIVMOD switch: the kernels that decode a texel index with divisions do it with a
 * float quotient (llvmpipe has no vector integer division) while every index they divide is exact in
 * float32, i.e. below 2^24.
 */
export const FLOAT_INDEX_LIMIT = 2 ** 24;

