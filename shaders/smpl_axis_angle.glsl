// smpl_axis_angle — rotation matrix → axis-angle θ (angle in [0, π]), the inverse of smpl_rodrigues:
//   w = (R21 − R12, R02 − R20, R10 − R01)/2 = sin(a)·n,  cos a = (tr R − 1)/2,  a = atan(|w|, cos a).
//   Away from π: θ = w·a/sin(a) (a/sin a from its series 1 + a²/6 + 7a⁴/360 when a < 1e-2).
//   Near π (cos a ≤ −0.9) w vanishes, so the axis comes from the symmetric part
//   (R + Rᵀ)/2 − cos(a)·I = (1 − cos a)·n·nᵀ: its largest-diagonal column, signed to agree with w.
// Input Rotations: [N·J, 9] row-major. Output: [N·J, 3]; one fragment computes one joint.
uniform sampler2D Rotations;

#include "lib/matrix3"

mat3 loadRotation(int row) { return fetchMatrix3(Rotations, 3 * row); }

vec4 kernel(int t) {
  mat3 r = loadRotation(t);
  // GLSL r[col][row]: R_ij = r[j][i].
  vec3 w = 0.5 * vec3(r[1][2] - r[2][1], r[2][0] - r[0][2], r[0][1] - r[1][0]);
  float sinA = length(w);
  float cosA = 0.5 * (r[0][0] + r[1][1] + r[2][2] - 1.0);
  float angle = atan(sinA, cosA);
  if (cosA > -0.9) {
    float a2 = angle * angle;
    float scale = angle < 1e-2 ? 1.0 + a2 / 6.0 + 7.0 * a2 * a2 / 360.0 : angle / sinA;
    return vec4(w * scale, 0.0);
  }
  float oneMinusCos = 1.0 - cosA;
  mat3 sym = (0.5 * (r + transpose(r)) - cosA * mat3(1.0)) / oneMinusCos;
  vec3 diag = vec3(sym[0][0], sym[1][1], sym[2][2]);
  vec3 axis = diag.x >= diag.y && diag.x >= diag.z ? sym[0] : diag.y >= diag.z ? sym[1] : sym[2];
  axis = normalize(axis);
  if (dot(axis, w) < 0.0) axis = -axis;
  return vec4(axis * angle, 0.0);
}
