// optim_sgd — one SGD step with momentum (PyTorch's rule, no dampening):
//   g' = g + λ·w            (λ: coupled weight decay, 0 for none)
//   v' = μ·v + g'
//   w' = w − lr·(nesterov ? g' + μ·v' : v')
// With μ = 0 (MOMENTUM 0) there is no velocity: w' = w − lr·g'.
// Inputs W (parameter), G (its gradient), V (velocity, MOMENTUM 1 only): all the parameter's shape,
// channel-packed. Output: w' (u_output = 0) or v' (u_output = 1), one draw each because multiple
// render targets fail in headless-gl 9.0.0-rc.10; both draws compute the same v', so they agree.
// One fragment computes one texel.
uniform sampler2D W;
uniform sampler2D G;
#if MOMENTUM
uniform sampler2D V;
#endif
uniform float u_lr;
uniform float u_momentum;
uniform float u_weightDecay;
uniform bool u_nesterov;
uniform int u_output;
uniform int u_channels;

vec4 kernel(int t) {
  vec4 w = fetchTexel(W, t);
  vec4 g = fetchTexel(G, t) + u_weightDecay * w;
  vec4 result;
#if MOMENTUM
  vec4 v = u_momentum * fetchTexel(V, t) + g;
  vec4 step = u_nesterov ? g + u_momentum * v : v;
  result = u_output == 0 ? w - u_lr * step : v;
#else
  result = w - u_lr * g;
#endif
  return keepLanes(result, t % ((u_channels + 3) / 4), u_channels);
}
