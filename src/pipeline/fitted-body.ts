/** What every route from a picture to a body returns (fit-photo.ts, fit-picture.ts). */
export interface FittedBody {
  width: number;
  height: number;
  /** fx, fy, cx, cy in the picture's pixels. */
  camera: [number, number, number, number];
  betas: Float32Array;
  /** 72 parent-relative axis-angle numbers (SMPL's θ; joint 0 in the camera frame). */
  pose: Float32Array;
  trans: Float32Array;
  vertices: Float32Array;
  /** 24 × 3, camera frame, metres. */
  joints3d: Float32Array;
  /** 24 × 2, picture pixels. */
  joints2d: Float32Array;
}
