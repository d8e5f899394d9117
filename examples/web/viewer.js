// A small WebGL2 mesh viewer for the fitted body: per-vertex part colours, flat shading from screen-space
// derivatives, a perspective camera orbiting the middle of the body. Drag to turn, wheel to zoom, double-click to
// face the body again. Survives a lost context (re-uploads on 'webglcontextrestored').

const VERTEX = `#version 300 es
in vec3 a_position;
in vec3 a_color;
uniform mat4 u_view;
uniform mat4 u_projection;
out vec3 v_color;
out vec3 v_eye;
void main() {
  vec4 eye = u_view * vec4(a_position, 1.0);
  v_eye = eye.xyz;
  v_color = a_color;
  gl_Position = u_projection * eye;
}`;

const FRAGMENT = `#version 300 es
precision highp float;
in vec3 v_color;
in vec3 v_eye;
out vec4 o_color;
void main() {
  vec3 n = normalize(cross(dFdx(v_eye), dFdy(v_eye)));
  vec3 light = normalize(vec3(0.4, 0.7, 1.0));
  float diffuse = abs(dot(n, light));
  float rim = pow(1.0 - abs(n.z), 3.0);
  o_color = vec4(v_color * (0.35 + 0.65 * diffuse) + 0.15 * rim, 1.0);
}`;

function multiply(a, b) {
  const out = new Float32Array(16);
  for (let c = 0; c < 4; c++) for (let r = 0; r < 4; r++) {
    let s = 0;
    for (let k = 0; k < 4; k++) s += a[4 * k + r] * b[4 * c + k];
    out[4 * c + r] = s;
  }
  return out;
}

const rotationY = (t) => new Float32Array([Math.cos(t), 0, -Math.sin(t), 0, 0, 1, 0, 0, Math.sin(t), 0, Math.cos(t), 0, 0, 0, 0, 1]);
const rotationX = (t) => new Float32Array([1, 0, 0, 0, 0, Math.cos(t), Math.sin(t), 0, 0, -Math.sin(t), Math.cos(t), 0, 0, 0, 0, 1]);
const translation = (x, y, z) => new Float32Array([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, x, y, z, 1]);

function perspective(fovY, aspect, near, far) {
  const f = 1 / Math.tan(fovY / 2);
  return new Float32Array([f / aspect, 0, 0, 0, 0, f, 0, 0, 0, 0, (far + near) / (near - far), -1, 0, 0, (2 * far * near) / (near - far), 0]);
}

export class BodyViewer {
  /** @param {HTMLCanvasElement} canvas */
  constructor(canvas) {
    this.canvas = canvas;
    this.yaw = 0;
    this.pitch = 0.1;
    this.zoom = 1;
    this.mesh = null;
    this.lost = false;
    this.gl = canvas.getContext('webgl2', { antialias: true });
    if (this.gl) this.setup();
    canvas.addEventListener('webglcontextlost', (e) => {
      e.preventDefault();
      this.lost = true;
    });
    canvas.addEventListener('webglcontextrestored', () => {
      this.lost = false;
      this.setup();
      if (this.mesh) this.upload(this.mesh);
      this.draw();
    });
    let drag = null;
    canvas.addEventListener('pointerdown', (e) => {
      drag = { x: e.clientX, y: e.clientY, yaw: this.yaw, pitch: this.pitch };
      canvas.setPointerCapture(e.pointerId);
    });
    canvas.addEventListener('pointermove', (e) => {
      if (!drag) return;
      this.yaw = drag.yaw + (e.clientX - drag.x) * 0.01;
      this.pitch = Math.max(-1.5, Math.min(1.5, drag.pitch + (e.clientY - drag.y) * 0.01));
      this.requestDraw();
    });
    const end = () => { drag = null; };
    canvas.addEventListener('pointerup', end);
    canvas.addEventListener('pointercancel', end);
    canvas.addEventListener('wheel', (e) => {
      e.preventDefault();
      this.zoom = Math.max(0.3, Math.min(4, this.zoom * Math.exp(-e.deltaY * 0.001)));
      this.requestDraw();
    }, { passive: false });
    canvas.addEventListener('dblclick', () => {
      this.yaw = 0;
      this.pitch = 0.1;
      this.zoom = 1;
      this.requestDraw();
    });
  }

  get available() {
    return !!this.gl;
  }

  setup() {
    const gl = this.gl;
    const shader = (type, text) => {
      const s = gl.createShader(type);
      gl.shaderSource(s, text);
      gl.compileShader(s);
      if (!gl.getShaderParameter(s, gl.COMPILE_STATUS) && !gl.isContextLost()) throw new Error(`viewer shader: ${gl.getShaderInfoLog(s)}`);
      return s;
    };
    const program = gl.createProgram();
    gl.attachShader(program, shader(gl.VERTEX_SHADER, VERTEX));
    gl.attachShader(program, shader(gl.FRAGMENT_SHADER, FRAGMENT));
    gl.bindAttribLocation(program, 0, 'a_position');
    gl.bindAttribLocation(program, 1, 'a_color');
    gl.linkProgram(program);
    this.program = program;
    this.uView = gl.getUniformLocation(program, 'u_view');
    this.uProjection = gl.getUniformLocation(program, 'u_projection');
    this.vao = gl.createVertexArray();
    this.positionBuffer = gl.createBuffer();
    this.colorBuffer = gl.createBuffer();
    this.indexBuffer = gl.createBuffer();
  }

  /**
   * @param {{positions: Float32Array, colors: Uint8Array, faces: Uint32Array}} mesh positions in metres,
   *   centred on the pelvis, y up, z towards the viewer (cameraToViewerPositions); colours 0..255.
   */
  setMesh(mesh) {
    const firstOrNewFaces = !this.mesh || this.mesh.faces !== mesh.faces;
    this.mesh = mesh;
    // Turn about the middle of the body's bounding box, and frame the sphere around it.
    const lo = [Infinity, Infinity, Infinity];
    const hi = [-Infinity, -Infinity, -Infinity];
    for (let i = 0; i < mesh.positions.length; i++) {
      lo[i % 3] = Math.min(lo[i % 3], mesh.positions[i]);
      hi[i % 3] = Math.max(hi[i % 3], mesh.positions[i]);
    }
    this.centre = lo.map((v, a) => (v + hi[a]) / 2);
    let r = 0;
    for (let i = 0; i < mesh.positions.length; i += 3) {
      r = Math.max(r, Math.hypot(mesh.positions[i] - this.centre[0], mesh.positions[i + 1] - this.centre[1], mesh.positions[i + 2] - this.centre[2]));
    }
    this.radius = r || 1;
    if (this.gl && !this.lost) this.upload(mesh, firstOrNewFaces);
    this.requestDraw();
  }

  upload(mesh, all = true) {
    const gl = this.gl;
    gl.bindVertexArray(this.vao);
    gl.bindBuffer(gl.ARRAY_BUFFER, this.positionBuffer);
    gl.bufferData(gl.ARRAY_BUFFER, mesh.positions, gl.DYNAMIC_DRAW);
    gl.enableVertexAttribArray(0);
    gl.vertexAttribPointer(0, 3, gl.FLOAT, false, 0, 0);
    if (all) {
      gl.bindBuffer(gl.ARRAY_BUFFER, this.colorBuffer);
      gl.bufferData(gl.ARRAY_BUFFER, mesh.colors, gl.STATIC_DRAW);
      gl.enableVertexAttribArray(1);
      gl.vertexAttribPointer(1, 3, gl.UNSIGNED_BYTE, true, 0, 0);
      gl.bindBuffer(gl.ELEMENT_ARRAY_BUFFER, this.indexBuffer);
      gl.bufferData(gl.ELEMENT_ARRAY_BUFFER, mesh.faces, gl.STATIC_DRAW);
    }
    gl.bindVertexArray(null);
  }

  requestDraw() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.draw();
    });
  }

  draw() {
    const gl = this.gl;
    if (!gl || this.lost) return;
    const dpr = Math.min(2, window.devicePixelRatio || 1);
    const width = Math.max(1, Math.round(this.canvas.clientWidth * dpr));
    const height = Math.max(1, Math.round(this.canvas.clientHeight * dpr));
    if (this.canvas.width !== width || this.canvas.height !== height) {
      this.canvas.width = width;
      this.canvas.height = height;
    }
    gl.viewport(0, 0, width, height);
    gl.clearColor(0.13, 0.14, 0.16, 1);
    gl.clear(gl.COLOR_BUFFER_BIT | gl.DEPTH_BUFFER_BIT);
    if (!this.mesh) return;
    gl.enable(gl.DEPTH_TEST);
    gl.useProgram(this.program);
    const fov = (30 * Math.PI) / 180;
    const distance = (1.05 * this.radius) / Math.sin(fov / 2) / this.zoom;
    const [cx, cy, cz] = this.centre;
    const view = multiply(translation(0, 0, -distance), multiply(rotationX(this.pitch), multiply(rotationY(this.yaw), translation(-cx, -cy, -cz))));
    gl.uniformMatrix4fv(this.uView, false, view);
    gl.uniformMatrix4fv(this.uProjection, false, perspective(fov, width / height, distance / 20, distance * 4));
    gl.bindVertexArray(this.vao);
    gl.drawElements(gl.TRIANGLES, this.mesh.faces.length, gl.UNSIGNED_INT, 0);
    gl.bindVertexArray(null);
  }
}
