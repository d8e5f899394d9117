// Shared helper (#include "lib/symmetric_eigen"): cyclic Jacobi eigen-decomposition of a symmetric
// 3×3 matrix. smpl_orthogonalise and its backward kernel both include it, so the backward pass
// differentiates exactly the decomposition the forward pass ran.
// Eigen-decomposition of a symmetric S: S = V·diag(lambda)·Vᵀ, eigenvalues in decreasing order.
void symmetricEigen(mat3 s, out mat3 v, out vec3 lambda) {
  v = mat3(1.0);
  for (int sweep = 0; sweep < 6; sweep++) {
    for (int pair = 0; pair < 3; pair++) {
      int p = pair == 2 ? 1 : 0;
      int q = pair == 0 ? 1 : 2;
      float apq = s[q][p];
      if (apq == 0.0) continue;
      float theta = (s[q][q] - s[p][p]) / (2.0 * apq);
      float t = (theta >= 0.0 ? 1.0 : -1.0) / (abs(theta) + sqrt(theta * theta + 1.0));
      float c = inversesqrt(t * t + 1.0);
      float sn = t * c;
      mat3 rot = mat3(1.0);
      rot[p][p] = c;
      rot[q][q] = c;
      rot[q][p] = sn;
      rot[p][q] = -sn;
      s = transpose(rot) * s * rot;
      v = v * rot;
    }
  }
  lambda = vec3(s[0][0], s[1][1], s[2][2]);
  // Sort descending (three compare-and-swaps), keeping columns with their eigenvalues.
  if (lambda.x < lambda.y) { lambda.xy = lambda.yx; mat3 w = v; v[0] = w[1]; v[1] = w[0]; }
  if (lambda.y < lambda.z) { lambda.yz = lambda.zy; mat3 w = v; v[1] = w[2]; v[2] = w[1]; }
  if (lambda.x < lambda.y) { lambda.xy = lambda.yx; mat3 w = v; v[0] = w[1]; v[1] = w[0]; }
}
