/** Triangle meshes for export: positions, faces, smooth normals and per-vertex part colours. */
import { ShapeError } from '../runtime/errors.js';
import { NBF_PARTS, type BodyModel } from '../smpl/types.js';

export interface Mesh {
  /** V·3 positions in metres. */
  positions: ArrayLike<number>;
  /** F·3 vertex indices, counter-clockwise seen from outside. */
  faces: ArrayLike<number>;
  /** V·3 unit normals; computed from the faces when absent. */
  normals?: ArrayLike<number>;
  /** V·3 colours, 0..255 per channel. */
  colors?: ArrayLike<number>;
}

/** Checks sizes and indices, naming what is wrong. */
export function checkMesh(mesh: Mesh): { vertexCount: number; faceCount: number } {
  if (mesh.positions.length % 3 !== 0) throw new ShapeError(`mesh: ${mesh.positions.length} position values is not a list of 3D points`);
  if (mesh.faces.length % 3 !== 0) throw new ShapeError(`mesh: ${mesh.faces.length} face indices is not a list of triangles`);
  const vertexCount = mesh.positions.length / 3;
  for (let i = 0; i < mesh.faces.length; i++) {
    const f = mesh.faces[i];
    if (!(Number.isInteger(f) && f >= 0 && f < vertexCount)) throw new ShapeError(`mesh: triangle ${Math.floor(i / 3)} uses vertex ${f}, outside 0..${vertexCount - 1}`);
  }
  for (let i = 0; i < mesh.positions.length; i++) {
    if (!Number.isFinite(mesh.positions[i])) throw new ShapeError(`mesh: vertex ${Math.floor(i / 3)} has a non-finite coordinate (${mesh.positions[i]})`);
  }
  if (mesh.normals && mesh.normals.length !== mesh.positions.length) throw new ShapeError(`mesh: ${mesh.normals.length / 3} normals for ${vertexCount} vertices`);
  if (mesh.colors && mesh.colors.length !== mesh.positions.length) throw new ShapeError(`mesh: ${mesh.colors.length / 3} colours for ${vertexCount} vertices`);
  return { vertexCount, faceCount: mesh.faces.length / 3 };
}

/**
 * Smooth vertex normals: the sum of the (area-weighted) normals of the triangles around each vertex,
 * normalised. A vertex on no triangle, or only on degenerate ones, gets +Y so every normal is unit length.
 */
export function vertexNormals(positions: ArrayLike<number>, faces: ArrayLike<number>): Float64Array {
  const n = new Float64Array(positions.length);
  for (let f = 0; f < faces.length; f += 3) {
    const a = 3 * faces[f], b = 3 * faces[f + 1], c = 3 * faces[f + 2];
    const ux = positions[b] - positions[a], uy = positions[b + 1] - positions[a + 1], uz = positions[b + 2] - positions[a + 2];
    const vx = positions[c] - positions[a], vy = positions[c + 1] - positions[a + 1], vz = positions[c + 2] - positions[a + 2];
    // u × v has length twice the triangle's area: larger triangles weigh more.
    const nx = uy * vz - uz * vy, ny = uz * vx - ux * vz, nz = ux * vy - uy * vx;
    for (const p of [a, b, c]) {
      n[p] += nx;
      n[p + 1] += ny;
      n[p + 2] += nz;
    }
  }
  for (let i = 0; i < n.length; i += 3) {
    const len = Math.hypot(n[i], n[i + 1], n[i + 2]);
    if (len > 1e-30) {
      n[i] /= len;
      n[i + 1] /= len;
      n[i + 2] /= len;
    } else {
      n[i] = 0;
      n[i + 1] = 1;
      n[i + 2] = 0;
    }
  }
  return n;
}

/** Per-vertex RGB (0..255) of NBF's 12-part palette. */
export function partColors(parts12: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(parts12.length * 3);
  for (let v = 0; v < parts12.length; v++) {
    const part = NBF_PARTS[parts12[v]];
    if (!part) throw new ShapeError(`partColors: vertex ${v} has part ${parts12[v]}, outside 0..12`);
    out.set(part.rgb, 3 * v);
  }
  return out;
}

/**
 * Camera-frame vertices (x right, y down, z forward) as a viewer's mesh: centred on `origin` (e.g.
 * the pelvis joint) and turned a half turn about x into glTF's frame (y up, z towards the viewer),
 * so a viewer sees the body as the camera did.
 */
export function cameraToViewerPositions(vertices: ArrayLike<number>, origin: ArrayLike<number>): Float32Array {
  const positions = new Float32Array(vertices.length);
  const [ox, oy, oz] = [origin[0], origin[1], origin[2]];
  for (let i = 0; i < vertices.length; i += 3) {
    positions[i] = vertices[i] - ox;
    positions[i + 1] = -(vertices[i + 1] - oy);
    positions[i + 2] = -(vertices[i + 2] - oz);
  }
  return positions;
}

/**
 * A fitted body as an exportable mesh: in glTF's frame (y up, z towards the viewer), centred on the
 * pelvis (cameraToViewerPositions), with the model's faces and 12-part colours.
 */
export function fittedBodyMesh(model: Pick<BodyModel, 'faces' | 'parts12'>, body: { vertices: ArrayLike<number>; joints3d: ArrayLike<number> }): Mesh {
  return { positions: cameraToViewerPositions(body.vertices, body.joints3d), faces: model.faces, colors: partColors(model.parts12) };
}
