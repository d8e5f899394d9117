/**
 * Marching tetrahedra on a regular grid. Each cube is split into the six tetrahedra around its main
 * diagonal (the Freudenthal split), which every cube shares by translation, so neighbouring cubes cut
 * their common faces along the same diagonal: the output is a closed 2-manifold as long as no grid value
 * is exactly zero (we nudge zeros). Vertices live on grid edges and are shared through an edge key.
 */

export interface TriangleMesh {
  /** V·3 positions. */
  positions: Float64Array;
  /** F·3 vertex indices, counter-clockwise seen from outside. */
  faces: Uint32Array;
}

export interface Grid {
  origin: [number, number, number];
  spacing: number;
  /** Points per axis. */
  nx: number;
  ny: number;
  nz: number;
}

/** The 6 tetrahedra of a cube; corners as bit masks (1 = +x, 2 = +y, 4 = +z). */
const TETRAHEDRA: ReadonlyArray<readonly [number, number, number, number]> = [
  [0, 1, 3, 7], [0, 1, 5, 7], [0, 2, 3, 7], [0, 2, 6, 7], [0, 4, 5, 7], [0, 4, 6, 7],
];

/**
 * Samples `field` (negative inside) on the grid and extracts its zero set. Triangles are oriented with
 * their normal pointing from the inside corners to the outside corners of their tetrahedron.
 */
export function marchingTetrahedra(grid: Grid, field: (x: number, y: number, z: number) => number): TriangleMesh {
  const { nx, ny, nz, spacing: h, origin } = grid;
  const values = new Float64Array(nx * ny * nz);
  const index = (i: number, j: number, k: number): number => (k * ny + j) * nx + i;
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        let f = field(origin[0] + i * h, origin[1] + j * h, origin[2] + k * h);
        if (f === 0) f = 1e-12; // a zero would put a vertex on a grid point and break manifoldness
        values[index(i, j, k)] = f;
      }
    }
  }
  const positions: number[] = [];
  const faces: number[] = [];
  const vertexOfEdge = new Map<number, number>();
  const total = nx * ny * nz;
  const pointXYZ = (g: number): [number, number, number] => {
    const i = g % nx;
    const j = Math.floor(g / nx) % ny;
    const k = Math.floor(g / (nx * ny));
    return [origin[0] + i * h, origin[1] + j * h, origin[2] + k * h];
  };
  const edgeVertex = (g0: number, g1: number): number => {
    const a = Math.min(g0, g1);
    const b = Math.max(g0, g1);
    const key = a * total + b;
    let v = vertexOfEdge.get(key);
    if (v === undefined) {
      const fa = values[a];
      const fb = values[b];
      const t = fa / (fa - fb);
      const pa = pointXYZ(a);
      const pb = pointXYZ(b);
      v = positions.length / 3;
      positions.push(pa[0] + t * (pb[0] - pa[0]), pa[1] + t * (pb[1] - pa[1]), pa[2] + t * (pb[2] - pa[2]));
      vertexOfEdge.set(key, v);
    }
    return v;
  };
  const corner = new Int32Array(8);
  const emit = (v0: number, v1: number, v2: number, inside: number[], outside: number[]): void => {
    if (v0 === v1 || v1 === v2 || v0 === v2) return;
    // Orient so the normal points from the inside corners towards the outside corners.
    let gx = 0;
    let gy = 0;
    let gz = 0;
    for (const c of outside) {
      const p = pointXYZ(c);
      gx += p[0] / outside.length;
      gy += p[1] / outside.length;
      gz += p[2] / outside.length;
    }
    for (const c of inside) {
      const p = pointXYZ(c);
      gx -= p[0] / inside.length;
      gy -= p[1] / inside.length;
      gz -= p[2] / inside.length;
    }
    const ax = positions[3 * v1] - positions[3 * v0];
    const ay = positions[3 * v1 + 1] - positions[3 * v0 + 1];
    const az = positions[3 * v1 + 2] - positions[3 * v0 + 2];
    const bx = positions[3 * v2] - positions[3 * v0];
    const by = positions[3 * v2 + 1] - positions[3 * v0 + 1];
    const bz = positions[3 * v2 + 2] - positions[3 * v0 + 2];
    const nxv = ay * bz - az * by;
    const nyv = az * bx - ax * bz;
    const nzv = ax * by - ay * bx;
    if (nxv * gx + nyv * gy + nzv * gz >= 0) faces.push(v0, v1, v2);
    else faces.push(v0, v2, v1);
  };
  for (let k = 0; k + 1 < nz; k++) {
    for (let j = 0; j + 1 < ny; j++) {
      for (let i = 0; i + 1 < nx; i++) {
        let negatives = 0;
        for (let c = 0; c < 8; c++) {
          corner[c] = index(i + (c & 1), j + ((c >> 1) & 1), k + ((c >> 2) & 1));
          if (values[corner[c]] < 0) negatives++;
        }
        if (negatives === 0 || negatives === 8) continue;
        for (const tet of TETRAHEDRA) {
          const inside: number[] = [];
          const outside: number[] = [];
          for (const c of tet) (values[corner[c]] < 0 ? inside : outside).push(corner[c]);
          if (inside.length === 0 || outside.length === 0) continue;
          if (inside.length === 1 || outside.length === 1) {
            const lone = inside.length === 1 ? inside[0] : outside[0];
            const others = inside.length === 1 ? outside : inside;
            emit(edgeVertex(lone, others[0]), edgeVertex(lone, others[1]), edgeVertex(lone, others[2]), inside, outside);
          } else {
            const [i0, i1] = inside;
            const [o0, o1] = outside;
            // The cut is the quad (i0o0, i0o1, i1o1, i1o0), split along one diagonal.
            const q0 = edgeVertex(i0, o0);
            const q1 = edgeVertex(i0, o1);
            const q2 = edgeVertex(i1, o1);
            const q3 = edgeVertex(i1, o0);
            emit(q0, q1, q2, inside, outside);
            emit(q0, q2, q3, inside, outside);
          }
        }
      }
    }
  }
  return { positions: Float64Array.from(positions), faces: Uint32Array.from(faces) };
}
