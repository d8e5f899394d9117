/**
 * Wavefront OBJ text: `v x y z [r g b]`, `vn x y z`, `f a//a b//b c//c` (1-based), metres.
 * Colours use the common `v x y z r g b` extension (MeshLab, Blender, Open3D read it), in 0..1.
 */
import { checkMesh, vertexNormals, type Mesh } from './mesh.js';

export interface ObjOptions {
  /** Comment lines written at the top (e.g. the command and body model). */
  comments?: string[];
  /** Decimal places for coordinates (default 6: micrometres). */
  precision?: number;
}

export function encodeObj(mesh: Mesh, options: ObjOptions = {}): string {
  const { vertexCount, faceCount } = checkMesh(mesh);
  const digits = options.precision ?? 6;
  const normals = mesh.normals ?? vertexNormals(mesh.positions, mesh.faces);
  const p = mesh.positions;
  const fmt = (x: number) => {
    const s = x.toFixed(digits);
    return s === `-${(0).toFixed(digits)}` ? s.slice(1) : s;
  };
  const lines: string[] = [];
  for (const c of options.comments ?? []) lines.push(`# ${c.replace(/\n/g, ' ')}`);
  lines.push(`# ${vertexCount} vertices, ${faceCount} triangles; units: metres, Y up`);
  for (let v = 0; v < vertexCount; v++) {
    let line = `v ${fmt(p[3 * v])} ${fmt(p[3 * v + 1])} ${fmt(p[3 * v + 2])}`;
    if (mesh.colors) line += ` ${(mesh.colors[3 * v] / 255).toFixed(4)} ${(mesh.colors[3 * v + 1] / 255).toFixed(4)} ${(mesh.colors[3 * v + 2] / 255).toFixed(4)}`;
    lines.push(line);
  }
  for (let v = 0; v < vertexCount; v++) lines.push(`vn ${normals[3 * v].toFixed(6)} ${normals[3 * v + 1].toFixed(6)} ${normals[3 * v + 2].toFixed(6)}`);
  for (let f = 0; f < faceCount; f++) {
    const [a, b, c] = [mesh.faces[3 * f] + 1, mesh.faces[3 * f + 1] + 1, mesh.faces[3 * f + 2] + 1];
    lines.push(`f ${a}//${a} ${b}//${b} ${c}//${c}`);
  }
  return lines.join('\n') + '\n';
}
