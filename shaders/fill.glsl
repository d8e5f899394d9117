// fill — every element of the output is u_value.
// Output: any tensor [..., C], channel-packed. One fragment writes one texel (4 channels), with lanes
// past C set to 0.
uniform float u_value;
uniform int u_channels;   // C, the output's last dimension

vec4 kernel(int t) {
  int texelsPerRow = (u_channels + 3) / 4;
  return keepLanes(vec4(u_value), t % texelsPerRow, u_channels);
}
