/**
 * Mesh invariants and measurements shared by the build script and the tests: closed 2-manifold,
 * consistent orientation, genus, signed volume, connected components of a vertex labelling, and a
 * triangle–triangle self-intersection search.
 */

export interface ManifoldReport {
  /** Undirected edges used by a number of faces other than 2. */
  nonManifoldEdges: number;
  /** Edges whose two faces traverse them in the same direction (inconsistent orientation). */
  misorientedEdges: number;
  /** Faces with a repeated vertex. */
  degenerateFaces: number;
  /** V − E + F (2 for a closed genus-0 surface). */
  euler: number;
  /** Connected components of the face graph. */
  components: number;
  /** Vertices used by no face. */
  unusedVertices: number;
}

export function checkManifold(vertexCount: number, faces: ArrayLike<number>): ManifoldReport {
  const F = faces.length / 3;
  const directed = new Map<number, number>();
  let degenerateFaces = 0;
  const used = new Uint8Array(vertexCount);
  for (let f = 0; f < F; f++) {
    const a = faces[3 * f], b = faces[3 * f + 1], c = faces[3 * f + 2];
    if (a === b || b === c || a === c) degenerateFaces++;
    for (const [i, j] of [[a, b], [b, c], [c, a]]) {
      const key = i * vertexCount + j;
      directed.set(key, (directed.get(key) ?? 0) + 1);
      used[i] = 1;
    }
  }
  let nonManifoldEdges = 0;
  let misorientedEdges = 0;
  let edges = 0;
  for (const [key, count] of directed) {
    const i = Math.floor(key / vertexCount);
    const j = key % vertexCount;
    const reverse = directed.get(j * vertexCount + i) ?? 0;
    if (reverse > 0 && j < i) continue; // this undirected edge is counted from its other direction
    edges++;
    if (count + reverse !== 2) nonManifoldEdges++;
    else if (count !== 1) misorientedEdges++; // two faces traverse it the same way
  }
  // Face components through shared vertices (union–find over vertices).
  const parent = Int32Array.from({ length: vertexCount }, (_, i) => i);
  const find = (x: number): number => {
    while (parent[x] !== x) x = parent[x] = parent[parent[x]];
    return x;
  };
  for (let f = 0; f < F; f++) {
    const r = find(faces[3 * f]);
    parent[find(faces[3 * f + 1])] = r;
    parent[find(faces[3 * f + 2])] = find(faces[3 * f]);
  }
  const roots = new Set<number>();
  let unusedVertices = 0;
  for (let v = 0; v < vertexCount; v++) {
    if (used[v]) roots.add(find(v));
    else unusedVertices++;
  }
  return {
    nonManifoldEdges,
    misorientedEdges,
    degenerateFaces,
    euler: vertexCount - unusedVertices - edges + F,
    components: roots.size,
    unusedVertices,
  };
}

/** Signed volume (positive when faces are counter-clockwise seen from outside). */
export function signedVolume(positions: ArrayLike<number>, faces: ArrayLike<number>): number {
  return signedVolumeAbout(positions, faces, [0, 0, 0], null);
}

/**
 * Σ over the selected faces of the signed volume of the tetrahedron (apex, triangle). For a closed mesh
 * it is the enclosed volume whatever the apex; for a patch around a joint with the apex at the joint it
 * measures the local volume, which is what collapses when skinning pinches a bent limb.
 */
export function signedVolumeAbout(positions: ArrayLike<number>, faces: ArrayLike<number>, apex: ArrayLike<number>, faceMask: Uint8Array | null): number {
  let sum = 0;
  for (let f = 0; f < faces.length / 3; f++) {
    if (faceMask && !faceMask[f]) continue;
    const o = [faces[3 * f] * 3, faces[3 * f + 1] * 3, faces[3 * f + 2] * 3];
    const ax = positions[o[0]] - apex[0], ay = positions[o[0] + 1] - apex[1], az = positions[o[0] + 2] - apex[2];
    const bx = positions[o[1]] - apex[0], by = positions[o[1] + 1] - apex[1], bz = positions[o[1] + 2] - apex[2];
    const cx = positions[o[2]] - apex[0], cy = positions[o[2] + 1] - apex[1], cz = positions[o[2] + 2] - apex[2];
    sum += (ax * (by * cz - bz * cy) - ay * (bx * cz - bz * cx) + az * (bx * cy - by * cx)) / 6;
  }
  return sum;
}

/** Vertex adjacency lists (sorted) from faces. */
export function vertexNeighbours(vertexCount: number, faces: ArrayLike<number>): Int32Array[] {
  const sets: Set<number>[] = Array.from({ length: vertexCount }, () => new Set());
  for (let f = 0; f < faces.length / 3; f++) {
    for (let c = 0; c < 3; c++) {
      const a = faces[3 * f + c];
      const b = faces[3 * f + ((c + 1) % 3)];
      sets[a].add(b);
      sets[b].add(a);
    }
  }
  return sets.map((s) => Int32Array.from([...s].sort((x, y) => x - y)));
}

/** Connected components of each label over the vertex graph: label → component sizes (largest first). */
export function labelComponents(labels: ArrayLike<number>, neighbours: Int32Array[]): Map<number, number[]> {
  const V = labels.length;
  const seen = new Uint8Array(V);
  const out = new Map<number, number[]>();
  const stack: number[] = [];
  for (let s = 0; s < V; s++) {
    if (seen[s]) continue;
    const label = labels[s];
    let size = 0;
    seen[s] = 1;
    stack.push(s);
    while (stack.length) {
      const v = stack.pop()!;
      size++;
      for (const u of neighbours[v]) {
        if (!seen[u] && labels[u] === label) {
          seen[u] = 1;
          stack.push(u);
        }
      }
    }
    if (!out.has(label)) out.set(label, []);
    out.get(label)!.push(size);
  }
  for (const sizes of out.values()) sizes.sort((a, b) => b - a);
  return out;
}

/** Does segment p→q cross triangle (a, b, c) strictly inside both? (Möller–Trumbore on the segment.) */
function segmentHitsTriangle(P: ArrayLike<number>, p: number, q: number, a: number, b: number, c: number): boolean {
  const px = P[3 * p], py = P[3 * p + 1], pz = P[3 * p + 2];
  const dx = P[3 * q] - px, dy = P[3 * q + 1] - py, dz = P[3 * q + 2] - pz;
  const ax = P[3 * a], ay = P[3 * a + 1], az = P[3 * a + 2];
  const e1x = P[3 * b] - ax, e1y = P[3 * b + 1] - ay, e1z = P[3 * b + 2] - az;
  const e2x = P[3 * c] - ax, e2y = P[3 * c + 1] - ay, e2z = P[3 * c + 2] - az;
  const hx = dy * e2z - dz * e2y, hy = dz * e2x - dx * e2z, hz = dx * e2y - dy * e2x;
  const det = e1x * hx + e1y * hy + e1z * hz;
  if (Math.abs(det) < 1e-18) return false;
  const inv = 1 / det;
  const sx = px - ax, sy = py - ay, sz = pz - az;
  const u = (sx * hx + sy * hy + sz * hz) * inv;
  if (u <= 0 || u >= 1) return false;
  const qx = sy * e1z - sz * e1y, qy = sz * e1x - sx * e1z, qz = sx * e1y - sy * e1x;
  const v = (dx * qx + dy * qy + dz * qz) * inv;
  if (v <= 0 || u + v >= 1) return false;
  const t = (e2x * qx + e2y * qy + e2z * qz) * inv;
  return t > 0 && t < 1;
}

/**
 * Pairs of triangles that share no vertex and intersect (an edge of one crosses the other). Uses a
 * uniform hash grid over triangle bounding boxes; returns the number of intersecting pairs.
 */
export function countSelfIntersections(positions: ArrayLike<number>, faces: ArrayLike<number>, cell = 0.02, onHit?: (f: number, g: number) => void): number {
  const F = faces.length / 3;
  const buckets = new Map<string, number[]>();
  const lo = new Float64Array(3);
  const hi = new Float64Array(3);
  const boxes = new Float64Array(F * 6);
  for (let f = 0; f < F; f++) {
    for (let axis = 0; axis < 3; axis++) {
      const v0 = positions[3 * faces[3 * f] + axis], v1 = positions[3 * faces[3 * f + 1] + axis], v2 = positions[3 * faces[3 * f + 2] + axis];
      lo[axis] = Math.min(v0, v1, v2);
      hi[axis] = Math.max(v0, v1, v2);
      boxes[6 * f + axis] = lo[axis];
      boxes[6 * f + 3 + axis] = hi[axis];
    }
    for (let i = Math.floor(lo[0] / cell); i <= Math.floor(hi[0] / cell); i++) {
      for (let j = Math.floor(lo[1] / cell); j <= Math.floor(hi[1] / cell); j++) {
        for (let k = Math.floor(lo[2] / cell); k <= Math.floor(hi[2] / cell); k++) {
          const key = `${i},${j},${k}`;
          let list = buckets.get(key);
          if (!list) buckets.set(key, (list = []));
          list.push(f);
        }
      }
    }
  }
  const tested = new Set<number>();
  let hits = 0;
  for (const list of buckets.values()) {
    for (let x = 0; x < list.length; x++) {
      for (let y = x + 1; y < list.length; y++) {
        const f = Math.min(list[x], list[y]);
        const g = Math.max(list[x], list[y]);
        const key = f * F + g;
        if (tested.has(key)) continue;
        tested.add(key);
        let overlap = true;
        for (let axis = 0; axis < 3; axis++) {
          if (boxes[6 * f + axis] > boxes[6 * g + 3 + axis] || boxes[6 * g + axis] > boxes[6 * f + 3 + axis]) overlap = false;
        }
        if (!overlap) continue;
        const A = [faces[3 * f], faces[3 * f + 1], faces[3 * f + 2]];
        const B = [faces[3 * g], faces[3 * g + 1], faces[3 * g + 2]];
        if (A.some((v) => B.includes(v))) continue;
        let crosses = false;
        for (let e = 0; e < 3 && !crosses; e++) {
          crosses = segmentHitsTriangle(positions, A[e], A[(e + 1) % 3], B[0], B[1], B[2]) ||
            segmentHitsTriangle(positions, B[e], B[(e + 1) % 3], A[0], A[1], A[2]);
        }
        if (crosses) {
          hits++;
          onHit?.(f, g);
        }
      }
    }
  }
  return hits;
}
