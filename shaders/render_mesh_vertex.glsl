// render_mesh_vertex — vertex shader of the mesh rasteriser (src/render/renderer.ts); not a tensor kernel.
// Reads vertex positions straight from the SMPL layer's output tensor, no round trip through JS:
//   Vertices [N, V, 3] channel-packed: vertex v of body n is texel t = n·V + v at (t mod W, t div W).
//   Camera   [N, 4] = (fx, fy, cx, cy) per body, texel n — the SMPL layer's perspective camera:
//            u = fx·X/Z + cx, v = fy·Y/Z + cy (pixels, origin top-left, y down), Z forward.
// The index buffer holds the faces, so gl_VertexID is the vertex index v. One draw per body (u_body)
// into that body's tile of the atlas (the viewport). Clip coordinates with w = Z:
//   x_clip = (2u/W − 1)·Z,  y_clip = (2v/H − 1)·Z  (framebuffer row y = image row v from the top),
//   z_clip = (Z·(f + n) − 2fn) / (f − n)  (standard perspective depth, near n, far f).
// a_label: the vertex's label code (1 + skinning part + 32·12-part class); passed `flat`, never
// interpolated, so the provoking (last) vertex of each face labels it.
// a_rest: the vertex's rest-pose (template) position in the body's own frame (metres; Y up, facing
// +Z); passed on as v_rest and interpolated perspective-correctly, for the surface pass
// (render_surface.glsl). The G-buffer pass (render_mesh.glsl) ignores it. Both passes run this same
// shader, so they place every vertex identically (gl_Position is also declared invariant) and the
// surface pass can reuse the G-buffer pass's depth buffer with an LEQUAL test.
// Output: gl_Position (clip coordinates above), v_label, v_position (camera space), v_rest.
precision highp float;
precision highp int;
precision highp sampler2D;

uniform sampler2D Vertices;
uniform sampler2D Camera;
uniform int u_body;
uniform int u_vertexCount;
uniform vec2 u_imageSize;   // (W, H) in pixels
uniform vec2 u_depthRange;  // (near, far) in metres

layout(location = 0) in float a_label;   // fixed locations: both programs share one vertex array
layout(location = 1) in vec3 a_rest;
flat out float v_label;
out vec3 v_position;        // camera-space position (metres)
out vec3 v_rest;            // rest-pose position (metres, body frame)
invariant gl_Position;

vec4 texelAt(sampler2D s, int t) {
  int w = textureSize(s, 0).x;
  return texelFetch(s, ivec2(t % w, t / w), 0);
}

void main() {
  vec3 p = texelAt(Vertices, u_body * u_vertexCount + gl_VertexID).xyz;
  vec4 camera = texelAt(Camera, u_body);
  vec2 pixelTimesZ = camera.xy * p.xy + camera.zw * p.z;   // (u·Z, v·Z)
  vec2 clip = 2.0 * pixelTimesZ / u_imageSize - p.z;
  float near = u_depthRange.x;
  float far = u_depthRange.y;
  float zClip = (p.z * (far + near) - 2.0 * far * near) / (far - near);
  gl_Position = vec4(clip, zClip, p.z);
  v_label = a_label;
  v_position = p;
  v_rest = a_rest;
}
