// smpl_rodrigues_backward — gradient of a loss with respect to the axis-angle input of smpl_rodrigues:
//   dθ_i = <G, ∂R/∂θ_i>,  ∂R/∂θ_i = θ_i·(C·K + D·K²) + A·E_i + B·(E_i·K + K·E_i),
//   E_i = [e_i]×, K = [θ]×, C = A'(a)/a = (cos a − A)/a², D = B'(a)/a = (A − 2B)/a²,
//   <X, Y> = Σ X_rc·Y_rc. For a < 1, A, B, C, D all come from their series in a² (stable at a = 0:
//   C → −1/3, D → −1/12), so the gradient at the zero pose is exact.
// Inputs: Pose (same layout as smpl_rodrigues' input), Grad [N·J, u_gradChannels] whose channels
//   0..8 hold dL/dR row-major (a 9-channel tensor, or the 12-channel output of
//   smpl_chain_backward_local whose channels 9..11 are rest-joint gradients and ignored here).
// Output: the pose's own shape; one fragment computes one texel = 4 consecutive pose elements (their
//   joints may differ: each lane finds its own joint).
uniform sampler2D Pose;
uniform sampler2D Grad;
uniform int u_poseChannels;
uniform int u_gradChannels;
uniform int u_poseElements;  // N·J·3

float poseElement(int e) {
  int row = e / u_poseChannels;
  return fetchElement(Pose, row, e - row * u_poseChannels, (u_poseChannels + 3) / 4);
}

mat3 skew(vec3 v) {
  return mat3(0.0, v.z, -v.y, -v.z, 0.0, v.x, v.y, -v.x, 0.0);
}

// (A, B, C, D) as functions of x = a².
vec4 rodriguesCoefficients(float x) {
  if (x < 1.0) {
    float a = 1.0 - x / 6.0 * (1.0 - x / 20.0 * (1.0 - x / 42.0 * (1.0 - x / 72.0 * (1.0 - x / 110.0))));
    float b = 0.5 * (1.0 - x / 12.0 * (1.0 - x / 30.0 * (1.0 - x / 56.0 * (1.0 - x / 90.0 * (1.0 - x / 132.0)))));
    float c = -1.0 / 3.0 * (1.0 - x / 10.0 * (1.0 - x / 28.0 * (1.0 - x / 54.0 * (1.0 - x / 88.0))));
    float d = -1.0 / 12.0 + x * (1.0 / 180.0 + x * (-1.0 / 6720.0 + x * (1.0 / 453600.0 - x / 47900160.0)));
    return vec4(a, b, c, d);
  }
  float angle = sqrt(x);
  float half_ = sin(0.5 * angle) / (0.5 * angle);
  float a = sin(angle) / angle;
  float b = 0.5 * half_ * half_;
  return vec4(a, b, (cos(angle) - a) / x, (a - 2.0 * b) / x);
}

float inner(mat3 x, mat3 y) {
  mat3 p = matrixCompMult(x, y);
  return dot(p[0] + p[1] + p[2], vec3(1.0));
}

// dL/dR of one joint (row-major channels 0..8 of its Grad row).
#include "lib/matrix3"

mat3 loadGrad(int joint) { return fetchMatrix3(Grad, joint * ((u_gradChannels + 3) / 4)); }

float thetaGradient(int e) {
  if (e >= u_poseElements) return 0.0;
  int joint = e / 3;
  int i = e - 3 * joint;
  vec3 theta = vec3(poseElement(3 * joint), poseElement(3 * joint + 1), poseElement(3 * joint + 2));
  vec4 coef = rodriguesCoefficients(dot(theta, theta));
  mat3 g = loadGrad(joint);
  mat3 k = skew(theta);
  vec3 unit = vec3(equal(ivec3(0, 1, 2), ivec3(i)));
  mat3 ei = skew(unit);
  return theta[i] * (coef.z * inner(g, k) + coef.w * inner(g, k * k)) + coef.x * inner(g, ei) + coef.y * inner(g, ei * k + k * ei);
}

vec4 kernel(int t) {
  int texelsPerRow = (u_poseChannels + 3) / 4;
  int row = t / texelsPerRow;
  int c4 = t - row * texelsPerRow;
  int e = row * u_poseChannels + 4 * c4;
  vec4 out_ = vec4(thetaGradient(e), thetaGradient(e + 1), thetaGradient(e + 2), thetaGradient(e + 3));
  return keepLanes(out_, c4, u_poseChannels);
}
