/**
 * Turns the dense, sliver-rich marching-tetrahedra mesh into an even triangle mesh with edges close to
 * a target length (isotropic remeshing in the manner of Botsch & Kobbelt 2004): split long edges,
 * collapse short ones, flip edges towards valence 6, and slide vertices towards the centroid of their
 * neighbours within the tangent plane. Every moved or new vertex is put back on the implicit surface by
 * `project`. All operations keep the mesh a closed, consistently oriented manifold and refuse to fold
 * triangles.
 */
import type { TriangleMesh } from './polygonise.js';

export type Projector = (p: Float64Array, offset: number) => void;

/** A triangle mesh with vertex→face incidence, editable in place (split, collapse, flip). */
class EditableMesh {
  pos: number[];
  /** 3 entries per face; −1 marks a deleted face. */
  faces: number[];
  vertexFaces: number[][];
  liveVertices: number;

  constructor(mesh: TriangleMesh) {
    this.pos = Array.from(mesh.positions);
    this.faces = Array.from(mesh.faces);
    const V = mesh.positions.length / 3;
    this.vertexFaces = Array.from({ length: V }, () => []);
    for (let f = 0; f < this.faces.length / 3; f++) {
      for (let c = 0; c < 3; c++) this.vertexFaces[this.faces[3 * f + c]].push(f);
    }
    this.liveVertices = V;
  }

  get faceSlots(): number {
    return this.faces.length / 3;
  }

  neighbours(v: number): number[] {
    const out: number[] = [];
    for (const f of this.vertexFaces[v]) {
      for (let c = 0; c < 3; c++) {
        const u = this.faces[3 * f + c];
        if (u !== v && !out.includes(u)) out.push(u);
      }
    }
    return out;
  }

  edgeFaces(a: number, b: number): number[] {
    return this.vertexFaces[a].filter((f) => this.vertexFaces[b].includes(f));
  }

  /** The vertex of face f that is neither a nor b. */
  opposite(f: number, a: number, b: number): number {
    for (let c = 0; c < 3; c++) {
      const v = this.faces[3 * f + c];
      if (v !== a && v !== b) return v;
    }
    return -1;
  }

  point(v: number, moved: number, p: ArrayLike<number> | null, axis: number): number {
    return v === moved && p ? p[axis] : this.pos[3 * v + axis];
  }

  /** Unnormalised normal of face f with vertex `moved` (if any) placed at p. */
  faceNormal(f: number, moved: number, p: ArrayLike<number> | null, out: Float64Array): Float64Array {
    const v0 = this.faces[3 * f], v1 = this.faces[3 * f + 1], v2 = this.faces[3 * f + 2];
    const ax = this.point(v1, moved, p, 0) - this.point(v0, moved, p, 0);
    const ay = this.point(v1, moved, p, 1) - this.point(v0, moved, p, 1);
    const az = this.point(v1, moved, p, 2) - this.point(v0, moved, p, 2);
    const bx = this.point(v2, moved, p, 0) - this.point(v0, moved, p, 0);
    const by = this.point(v2, moved, p, 1) - this.point(v0, moved, p, 1);
    const bz = this.point(v2, moved, p, 2) - this.point(v0, moved, p, 2);
    out[0] = ay * bz - az * by;
    out[1] = az * bx - ax * bz;
    out[2] = ax * by - ay * bx;
    return out;
  }

  /**
   * Longest squared edge of face f (with vertex `moved` at p); |cross| / this is the triangle's shape
   * quality, 0.866 for an equilateral triangle and 0 for a needle.
   */
  longestSquaredEdge(f: number, moved: number, p: ArrayLike<number> | null): number {
    let longest = 0;
    for (let c = 0; c < 3; c++) {
      const i = this.faces[3 * f + c];
      const j = this.faces[3 * f + ((c + 1) % 3)];
      let d2 = 0;
      for (let axis = 0; axis < 3; axis++) d2 += (this.point(i, moved, p, axis) - this.point(j, moved, p, axis)) ** 2;
      longest = Math.max(longest, d2);
    }
    return longest;
  }

  length(a: number, b: number): number {
    const p = this.pos;
    return Math.hypot(p[3 * a] - p[3 * b], p[3 * a + 1] - p[3 * b + 1], p[3 * a + 2] - p[3 * b + 2]);
  }

  /**
   * Collapses edge a–b into a, placed at p. Refused (returns false) when the result would not be a
   * manifold (link condition), would leave a vertex of valence < 3, would create an edge longer than
   * `maxEdge`, or would turn a well-shaped triangle by more than 60° or create a needle.
   */
  tryCollapse(a: number, b: number, p: Float64Array, maxEdge = Infinity): boolean {
    const shared = this.edgeFaces(a, b);
    if (shared.length !== 2) return false;
    const na = this.neighbours(a);
    const nb = this.neighbours(b);
    const common = na.filter((v) => nb.includes(v));
    if (common.length !== 2) return false;
    for (const c of common) if (this.vertexFaces[c].length <= 3) return false;
    if (na.length + nb.length - 4 < 3) return false;
    if (maxEdge < Infinity) {
      for (const n of [...na, ...nb]) {
        if (n === a || n === b) continue;
        if (Math.hypot(this.pos[3 * n] - p[0], this.pos[3 * n + 1] - p[1], this.pos[3 * n + 2] - p[2]) > maxEdge) return false;
      }
    }
    const before = new Float64Array(3);
    const after = new Float64Array(3);
    for (const v of [a, b]) {
      for (const f of this.vertexFaces[v]) {
        if (shared.includes(f)) continue;
        this.faceNormal(f, -1, null, before);
        this.faceNormal(f, v, p, after);
        const lb = Math.hypot(before[0], before[1], before[2]);
        const la = Math.hypot(after[0], after[1], after[2]);
        if (la === 0) return false;
        const qualityBefore = lb / this.longestSquaredEdge(f, -1, null);
        const qualityAfter = la / this.longestSquaredEdge(f, v, p);
        // A sliver's normal is noise, so only well-shaped triangles vote on folding.
        if (qualityBefore > 0.05 && (before[0] * after[0] + before[1] * after[1] + before[2] * after[2]) / (lb * la) < 0.5) return false;
        if (qualityBefore <= 0.05 && (before[0] * after[0] + before[1] * after[1] + before[2] * after[2]) < 0) return false;
        // Needles: refuse to create one, but do not block collapses that merely keep an old one.
        if (qualityAfter < 0.05 && qualityAfter < qualityBefore) return false;
      }
    }
    for (const f of shared) {
      for (let c = 0; c < 3; c++) {
        const v = this.faces[3 * f + c];
        const list = this.vertexFaces[v];
        list.splice(list.indexOf(f), 1);
        this.faces[3 * f + c] = -1;
      }
    }
    for (const f of this.vertexFaces[b]) {
      for (let c = 0; c < 3; c++) if (this.faces[3 * f + c] === b) this.faces[3 * f + c] = a;
      this.vertexFaces[a].push(f);
    }
    this.vertexFaces[b] = [];
    for (let axis = 0; axis < 3; axis++) this.pos[3 * a + axis] = p[axis];
    this.liveVertices--;
    return true;
  }

  /**
   * Splits edge a–b at p: its two triangles (a, b, c) and (b, a, d) become four around the new vertex,
   * orientation preserved. Returns the new vertex.
   */
  split(a: number, b: number, p: Float64Array): number {
    const [f, g] = this.edgeFaces(a, b);
    const m = this.vertexFaces.length;
    this.pos.push(p[0], p[1], p[2]);
    this.vertexFaces.push([]);
    this.liveVertices++;
    for (const face of [f, g]) {
      // Rotate the face so it reads (x, y, z) with x→y the split edge.
      let x = -1, y = -1, z = -1;
      for (let c = 0; c < 3; c++) {
        const i = this.faces[3 * face + c];
        const j = this.faces[3 * face + ((c + 1) % 3)];
        if ((i === a && j === b) || (i === b && j === a)) {
          x = i;
          y = j;
          z = this.faces[3 * face + ((c + 2) % 3)];
        }
      }
      // (x, y, z) → (x, m, z) in place, plus a new face (m, y, z).
      this.faces[3 * face] = x;
      this.faces[3 * face + 1] = m;
      this.faces[3 * face + 2] = z;
      const list = this.vertexFaces[y];
      list.splice(list.indexOf(face), 1);
      this.vertexFaces[m].push(face);
      const h = this.faceSlots;
      this.faces.push(m, y, z);
      this.vertexFaces[m].push(h);
      this.vertexFaces[y].push(h);
      this.vertexFaces[z].push(h);
    }
    return m;
  }

  /**
   * Flips edge a–b (faces (a, b, c) and (b, a, d)) to c–d when that brings the four valences closer to
   * 6 and the two new triangles lie within ~35° of the old pair's mean normal.
   */
  tryFlip(a: number, b: number): boolean {
    const shared = this.edgeFaces(a, b);
    if (shared.length !== 2) return false;
    let [f, g] = shared;
    // Make f the face that traverses a→b.
    let forward = false;
    for (let c = 0; c < 3; c++) if (this.faces[3 * f + c] === a && this.faces[3 * f + ((c + 1) % 3)] === b) forward = true;
    if (!forward) [f, g] = [g, f];
    const c = this.opposite(f, a, b);
    const d = this.opposite(g, a, b);
    if (c === d || this.neighbours(c).includes(d)) return false;
    const va = this.vertexFaces[a].length, vb = this.vertexFaces[b].length;
    const vc = this.vertexFaces[c].length, vd = this.vertexFaces[d].length;
    if (va <= 3 || vb <= 3) return false;
    const before = Math.abs(va - 6) + Math.abs(vb - 6) + Math.abs(vc - 6) + Math.abs(vd - 6);
    const after = Math.abs(va - 7) + Math.abs(vb - 7) + Math.abs(vc - 5) + Math.abs(vd - 5);
    if (after >= before) return false;
    const n1 = new Float64Array(3);
    const n2 = new Float64Array(3);
    this.faceNormal(f, -1, null, n1);
    this.faceNormal(g, -1, null, n2);
    const l1 = Math.hypot(n1[0], n1[1], n1[2]) || 1;
    const l2 = Math.hypot(n2[0], n2[1], n2[2]) || 1;
    const mean = [n1[0] / l1 + n2[0] / l2, n1[1] / l1 + n2[1] / l2, n1[2] / l1 + n2[2] / l2];
    const lm = Math.hypot(mean[0], mean[1], mean[2]) || 1;
    const oldF = this.faces.slice(3 * f, 3 * f + 3);
    const oldG = this.faces.slice(3 * g, 3 * g + 3);
    this.faces.splice(3 * f, 3, a, d, c);
    this.faces.splice(3 * g, 3, d, b, c);
    for (const h of [f, g]) {
      this.faceNormal(h, -1, null, n1);
      const l = Math.hypot(n1[0], n1[1], n1[2]);
      const quality = l / this.longestSquaredEdge(h, -1, null);
      if (l === 0 || quality < 0.05 || (n1[0] * mean[0] + n1[1] * mean[1] + n1[2] * mean[2]) / (l * lm) < 0.82) {
        this.faces.splice(3 * f, 3, ...oldF);
        this.faces.splice(3 * g, 3, ...oldG);
        return false;
      }
    }
    this.vertexFaces[b].splice(this.vertexFaces[b].indexOf(f), 1);
    this.vertexFaces[d].push(f);
    this.vertexFaces[a].splice(this.vertexFaces[a].indexOf(g), 1);
    this.vertexFaces[c].push(g);
    return true;
  }

  /** Current undirected edges (a < b), in face order: deterministic. */
  edges(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (let f = 0; f < this.faceSlots; f++) {
      if (this.faces[3 * f] < 0) continue;
      for (let c = 0; c < 3; c++) {
        const a = this.faces[3 * f + c];
        const b = this.faces[3 * f + ((c + 1) % 3)];
        // Each edge appears once in each direction; keep the direction with a < b.
        if (a < b) out.push([a, b]);
      }
    }
    return out;
  }

  /** Drops dead vertices and faces; vertex order follows the old order (deterministic). */
  compact(): TriangleMesh {
    const V = this.vertexFaces.length;
    const remap = new Int32Array(V).fill(-1);
    let n = 0;
    for (let v = 0; v < V; v++) if (this.vertexFaces[v].length > 0) remap[v] = n++;
    const positions = new Float64Array(n * 3);
    for (let v = 0; v < V; v++) if (remap[v] >= 0) for (let axis = 0; axis < 3; axis++) positions[3 * remap[v] + axis] = this.pos[3 * v + axis];
    const faces: number[] = [];
    for (let f = 0; f < this.faceSlots; f++) {
      if (this.faces[3 * f] < 0) continue;
      faces.push(remap[this.faces[3 * f]], remap[this.faces[3 * f + 1]], remap[this.faces[3 * f + 2]]);
    }
    return { positions, faces: Uint32Array.from(faces) };
  }
}

/** Binary min-heap of (key, a, b) triples, ties broken by a for determinism. */
class EdgeHeap {
  private keys: number[] = [];
  private as: number[] = [];
  private bs: number[] = [];
  get size(): number {
    return this.keys.length;
  }
  private less(i: number, key: number, a: number): boolean {
    return this.keys[i] < key || (this.keys[i] === key && this.as[i] < a);
  }
  push(key: number, a: number, b: number): void {
    let i = this.keys.length;
    this.keys.push(key);
    this.as.push(a);
    this.bs.push(b);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.less(parent, key, a) || (this.keys[parent] === key && this.as[parent] === a)) break;
      this.keys[i] = this.keys[parent];
      this.as[i] = this.as[parent];
      this.bs[i] = this.bs[parent];
      i = parent;
    }
    this.keys[i] = key;
    this.as[i] = a;
    this.bs[i] = b;
  }
  pop(): [number, number, number] {
    const top: [number, number, number] = [this.keys[0], this.as[0], this.bs[0]];
    const key = this.keys.pop()!;
    const a = this.as.pop()!;
    const b = this.bs.pop()!;
    const n = this.keys.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        let child = 2 * i + 1;
        if (child >= n) break;
        if (child + 1 < n && this.less(child + 1, this.keys[child], this.as[child])) child++;
        if (!this.less(child, key, a)) break;
        this.keys[i] = this.keys[child];
        this.as[i] = this.as[child];
        this.bs[i] = this.bs[child];
        i = child;
      }
      this.keys[i] = key;
      this.as[i] = a;
      this.bs[i] = b;
    }
    return top;
  }
}

/**
 * Collapses shortest edges first until no edge is shorter than `minEdge` (or `targetVertices` remain),
 * sweeping again while sweeps make progress: refused collapses often become possible once their
 * neighbourhood has changed.
 */
function collapseShortEdges(m: EditableMesh, minEdge: number, maxEdge: number, targetVertices: number, project: Projector): void {
  const p = new Float64Array(3);
  for (let sweep = 0; sweep < 20 && m.liveVertices > targetVertices; sweep++) {
    const startCount = m.liveVertices;
    const heap = new EdgeHeap();
    for (const [a, b] of m.edges()) {
      const len = m.length(a, b);
      if (len < minEdge) heap.push(len, a, b);
    }
    while (m.liveVertices > targetVertices && heap.size > 0) {
      const [key, a, b] = heap.pop();
      if (m.vertexFaces[a].length === 0 || m.vertexFaces[b].length === 0) continue;
      if (m.length(a, b) !== key) continue; // stale entry: the edge changed and was queued again
      for (let axis = 0; axis < 3; axis++) p[axis] = 0.5 * (m.pos[3 * a + axis] + m.pos[3 * b + axis]);
      project(p, 0);
      if (!m.tryCollapse(a, b, p, maxEdge)) continue;
      for (const n of m.neighbours(a)) {
        const len = m.length(a, n);
        if (len < minEdge) heap.push(len, Math.min(a, n), Math.max(a, n));
      }
    }
    if (m.liveVertices === startCount) break;
  }
}

function splitLongEdges(m: EditableMesh, maxEdge: number, project: Projector): void {
  const p = new Float64Array(3);
  for (let pass = 0; pass < 10; pass++) {
    let splits = 0;
    for (const [a, b] of m.edges()) {
      if (m.length(a, b) <= maxEdge || m.edgeFaces(a, b).length !== 2) continue;
      for (let axis = 0; axis < 3; axis++) p[axis] = 0.5 * (m.pos[3 * a + axis] + m.pos[3 * b + axis]);
      project(p, 0);
      m.split(a, b, p);
      splits++;
    }
    if (splits === 0) break;
  }
}

function flipForValence(m: EditableMesh): void {
  for (const [a, b] of m.edges()) m.tryFlip(a, b);
}

/** Moves each vertex half-way to the area-weighted centroid of its one-ring, within its tangent plane. */
function tangentialSmooth(m: EditableMesh, project: Projector): void {
  const V = m.vertexFaces.length;
  const next = Float64Array.from(m.pos);
  const normal = new Float64Array(3);
  for (let v = 0; v < V; v++) {
    const ring = m.vertexFaces[v];
    if (ring.length === 0) continue;
    let cx = 0, cy = 0, cz = 0, wsum = 0;
    let nx = 0, ny = 0, nz = 0;
    for (const f of ring) {
      m.faceNormal(f, -1, null, normal);
      const area = Math.hypot(normal[0], normal[1], normal[2]);
      nx += normal[0];
      ny += normal[1];
      nz += normal[2];
      for (let c = 0; c < 3; c++) {
        const u = m.faces[3 * f + c];
        cx += (area * m.pos[3 * u]) / 3;
        cy += (area * m.pos[3 * u + 1]) / 3;
        cz += (area * m.pos[3 * u + 2]) / 3;
      }
      wsum += area;
    }
    if (!(wsum > 0)) continue;
    cx /= wsum; cy /= wsum; cz /= wsum;
    const l = Math.hypot(nx, ny, nz) || 1;
    nx /= l; ny /= l; nz /= l;
    let dx = cx - m.pos[3 * v], dy = cy - m.pos[3 * v + 1], dz = cz - m.pos[3 * v + 2];
    const along = dx * nx + dy * ny + dz * nz;
    dx -= along * nx; dy -= along * ny; dz -= along * nz;
    next[3 * v] += 0.5 * dx;
    next[3 * v + 1] += 0.5 * dy;
    next[3 * v + 2] += 0.5 * dz;
    project(next, 3 * v);
  }
  // Keep a move only if none of the vertex's triangles flips over (compared with the old positions).
  const normalOf = (P: ArrayLike<number>, f: number): [number, number, number] => {
    const i = 3 * m.faces[3 * f], j = 3 * m.faces[3 * f + 1], k = 3 * m.faces[3 * f + 2];
    const ax = P[j] - P[i], ay = P[j + 1] - P[i + 1], az = P[j + 2] - P[i + 2];
    const bx = P[k] - P[i], by = P[k + 1] - P[i + 1], bz = P[k + 2] - P[i + 2];
    return [ay * bz - az * by, az * bx - ax * bz, ax * by - ay * bx];
  };
  for (let v = 0; v < V; v++) {
    for (const f of m.vertexFaces[v]) {
      const before = normalOf(m.pos, f);
      const after = normalOf(next, f);
      if (before[0] * after[0] + before[1] * after[1] + before[2] * after[2] <= 0) {
        for (let axis = 0; axis < 3; axis++) next[3 * v + axis] = m.pos[3 * v + axis];
        break;
      }
    }
  }
  m.pos = Array.from(next);
}

/** Shortest-edge-first decimation down to `targetVertices` (no length bounds). */
export function decimate(mesh: TriangleMesh, targetVertices: number, project: Projector): TriangleMesh {
  const m = new EditableMesh(mesh);
  collapseShortEdges(m, Infinity, Infinity, targetVertices, project);
  return m.compact();
}

/** Isotropic remeshing towards edge length `edge`, `iterations` rounds of split/collapse/flip/smooth. */
export function isotropicRemesh(mesh: TriangleMesh, edge: number, iterations: number, project: Projector): TriangleMesh {
  const m = new EditableMesh(mesh);
  for (let it = 0; it < iterations; it++) {
    splitLongEdges(m, (4 / 3) * edge, project);
    collapseShortEdges(m, (4 / 5) * edge, (4 / 3) * edge, 0, project);
    flipForValence(m);
    tangentialSmooth(m, project);
  }
  return m.compact();
}
