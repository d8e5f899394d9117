// optim_adam — one Adam / AdamW step (Kingma & Ba; Loshchilov & Hutter for decoupled decay):
//   g' = g + λ·w                      (coupled L2 decay, Adam with weight decay; skipped if DECOUPLED)
//   m' = β1·m + (1−β1)·g'
//   v' = β2·v + (1−β2)·g'²
//   w' = w·(1 − lr·λ [DECOUPLED]) − lr · (m'/c1) / (√(v'/c2) + ε),  c1 = 1−β1^t, c2 = 1−β2^t
// c1, c2 come from the step count t, computed in float64 on the CPU (no GPU data is read back).
// Inputs W, G, M, V: the parameter's shape, channel-packed. Output: w' (u_output 0), m' (1) or v' (2),
// one draw each (multiple render targets fail in headless-gl 9.0.0-rc.10); the draws compute the same
// m', v'. One fragment computes one texel; lanes past C stay 0.
uniform sampler2D W;
uniform sampler2D G;
uniform sampler2D M;
uniform sampler2D V;
uniform float u_lr;
uniform float u_beta1;
uniform float u_beta2;
uniform float u_epsilon;
uniform float u_weightDecay;
uniform float u_biasCorrection1;  // 1 − β1^t
uniform float u_biasCorrection2;  // 1 − β2^t
uniform int u_output;
uniform int u_channels;

vec4 kernel(int t) {
  vec4 w = fetchTexel(W, t);
  vec4 g = fetchTexel(G, t);
#if !DECOUPLED
  g += u_weightDecay * w;
#endif
  vec4 m = u_beta1 * fetchTexel(M, t) + (1.0 - u_beta1) * g;
  vec4 v = u_beta2 * fetchTexel(V, t) + (1.0 - u_beta2) * g * g;
  vec4 result;
  if (u_output == 0) {
#if DECOUPLED
    w *= 1.0 - u_lr * u_weightDecay;
#endif
    result = w - u_lr * (m / u_biasCorrection1) / (sqrt(v / u_biasCorrection2) + u_epsilon);
  } else {
    result = u_output == 1 ? m : v;
  }
  return keepLanes(result, t % ((u_channels + 3) / 4), u_channels);
}
