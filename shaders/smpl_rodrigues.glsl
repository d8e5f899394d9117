// smpl_rodrigues — axis-angle → rotation matrix, per joint:
//   R = I + A(a)·K + B(a)·K²,  K = [θ]× (skew matrix of θ itself, not of the unit axis), a = |θ|,
//   A = sin(a)/a,  B = (1 − cos a)/a² = ½·(sin(a/2)/(a/2))².
// For a < 1 both coefficients come from their Taylor series in a² (truncation < 1e-9), so the map is
// exact and smooth at a = 0 (no 0/0) — the backward kernel uses the same series for its derivatives.
//
// Input Pose: any tensor holding N·J axis-angle triplets in order (n, joint, xyz) — e.g. [N, J, 3] or
//   [N, J·3]; element e sits at (row e / u_poseChannels, channel e mod u_poseChannels).
// Output: [N·J, 9] — R row-major (r00 r01 r02 r10 | r11 r12 r20 r21 | r22 0 0 0), 3 texels per joint.
// One fragment computes one output texel; it rebuilds the whole matrix and keeps its 4 entries.
uniform sampler2D Pose;
uniform int u_poseChannels;

float poseElement(int e) {
  int row = e / u_poseChannels;
  return fetchElement(Pose, row, e - row * u_poseChannels, (u_poseChannels + 3) / 4);
}

mat3 skew(vec3 v) {
  // Columns of [v]×, so that skew(v) * w = cross(v, w).
  return mat3(0.0, v.z, -v.y, -v.z, 0.0, v.x, v.y, -v.x, 0.0);
}

// (A, B) as a function of x = a².
vec2 rodriguesCoefficients(float x) {
  if (x < 1.0) {
    float a = 1.0 - x / 6.0 * (1.0 - x / 20.0 * (1.0 - x / 42.0 * (1.0 - x / 72.0 * (1.0 - x / 110.0))));
    float b = 0.5 * (1.0 - x / 12.0 * (1.0 - x / 30.0 * (1.0 - x / 56.0 * (1.0 - x / 90.0 * (1.0 - x / 132.0)))));
    return vec2(a, b);
  }
  float angle = sqrt(x);
  float half_ = sin(0.5 * angle) / (0.5 * angle);
  return vec2(sin(angle) / angle, 0.5 * half_ * half_);
}

// Row-major entry e (0..8) of m; 0 past the matrix.
float entry(mat3 m, int e) {
  return e < 9 ? m[e % 3][e / 3] : 0.0;
}

vec4 kernel(int t) {
  int joint = t / 3;
  int texel = t - joint * 3;
  vec3 theta = vec3(poseElement(3 * joint), poseElement(3 * joint + 1), poseElement(3 * joint + 2));
  vec2 ab = rodriguesCoefficients(dot(theta, theta));
  mat3 k = skew(theta);
  mat3 r = mat3(1.0) + ab.x * k + ab.y * (k * k);
  int e = 4 * texel;
  return vec4(entry(r, e), entry(r, e + 1), entry(r, e + 2), entry(r, e + 3));
}
