// project_points — pinhole projection of 3D points onto a 2D grid, one affine map shared by all:
//   out[k, v] = (sx · X/Z + ox, sy · Y/Z + oy)     for P[k, v] = (X, Y, Z)
// The refinement projects the body's vertices (camera frame, metres) onto the part-evidence grid
// with sx = fx/s, ox = cx/s + margin (src/pipeline/refine.ts): one kernel instead of a chain of
// slices, divisions and scalings, whose many small draws cost more than their arithmetic here.
// Points [K, V, 3] (one texel per point: X, Y, Z). Output [K, V, 2]. Z must not be 0 (the body is in
// front of the camera). One fragment computes one point's projection.
uniform sampler2D Points;
uniform vec4 u_map; // sx, sy, ox, oy

vec4 kernel(int t) {
  vec3 p = fetchTexel(Points, t).xyz;
  return vec4(u_map.xy * p.xy / p.z + u_map.zw, 0.0, 0.0);
}
