/**
 * The template mesh: polygonise the mean body's implicit surface on a fine grid, then decimate and
 * relax it to an even mesh of the requested vertex count, every vertex on the surface.
 */
import type { BodyGeometry } from './body.js';
import { fieldValue, projectToSurface } from './field.js';
import { marchingTetrahedra, type TriangleMesh } from './polygonise.js';
import { decimate, isotropicRemesh } from './remesh.js';

export interface TemplateOptions {
  /** Grid spacing of the first polygonisation, metres (fine enough to resolve the mittens). */
  gridSpacing: number;
  targetVertices: number;
  /** Rounds of isotropic remeshing (split, collapse, flip, smooth). */
  remeshRounds: number;
}

export const DEFAULT_TEMPLATE_OPTIONS: TemplateOptions = { gridSpacing: 0.01, targetVertices: 6890, remeshRounds: 10 };

export function buildTemplateMesh(body: BodyGeometry, options: TemplateOptions = DEFAULT_TEMPLATE_OPTIONS): TriangleMesh {
  const { packed, blend } = body;
  const lo = [Infinity, Infinity, Infinity];
  const hi = [-Infinity, -Infinity, -Infinity];
  for (const q of body.primitives) {
    const reach = Math.max(q.ra, q.rb) * Math.max(q.su, q.sv, q.sw) + 0.03;
    for (const p of [q.a, q.b]) {
      for (let axis = 0; axis < 3; axis++) {
        lo[axis] = Math.min(lo[axis], p[axis] - reach);
        hi[axis] = Math.max(hi[axis], p[axis] + reach);
      }
    }
  }
  const h = options.gridSpacing;
  // Offset the grid by an irrational-looking fraction of a cell so no sample lands on a symmetry plane.
  const origin: [number, number, number] = [lo[0] - 0.37 * h, lo[1] - 0.41 * h, lo[2] - 0.29 * h];
  const grid = {
    origin,
    spacing: h,
    nx: Math.ceil((hi[0] - origin[0]) / h) + 1,
    ny: Math.ceil((hi[1] - origin[1]) / h) + 1,
    nz: Math.ceil((hi[2] - origin[2]) / h) + 1,
  };
  const dense = marchingTetrahedra(grid, (x, y, z) => fieldValue(packed, blend, x, y, z));
  const project = (p: Float64Array, o: number): void => {
    projectToSurface(packed, blend, p, o);
  };
  // Cheap shortest-edge-first decimation first, then isotropic remeshing at the edge length that
  // gives about `targetVertices` (an even triangulation has A ≈ 0.866·V·L² for area A).
  const coarse = decimate(dense, 2 * options.targetVertices, project);
  const area = surfaceArea(coarse);
  const edge = Math.sqrt(area / (0.866 * options.targetVertices));
  return isotropicRemesh(coarse, edge, options.remeshRounds, project);
}

function surfaceArea(mesh: TriangleMesh): number {
  const P = mesh.positions;
  const F = mesh.faces;
  let area = 0;
  for (let f = 0; f < F.length / 3; f++) {
    const i = 3 * F[3 * f], j = 3 * F[3 * f + 1], k = 3 * F[3 * f + 2];
    const ax = P[j] - P[i], ay = P[j + 1] - P[i + 1], az = P[j + 2] - P[i + 2];
    const bx = P[k] - P[i], by = P[k + 1] - P[i + 1], bz = P[k + 2] - P[i + 2];
    area += 0.5 * Math.hypot(ay * bz - az * by, az * bx - ax * bz, ax * by - ay * bx);
  }
  return area;
}
