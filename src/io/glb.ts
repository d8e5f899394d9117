/**
 * Binary glTF 2.0 (.glb) of one triangle mesh: POSITION and NORMAL (float32), COLOR_0 (normalised
 * unsigned bytes, RGBA so each element is 4-byte aligned as vertex attributes require) and uint32
 * indices. glTF's conventions are ours: metres, Y up, the model facing +Z.
 *
 * Layout: 12-byte header ("glTF", version 2, total length), a JSON chunk (padded with spaces to 4
 * bytes), a BIN chunk (padded with zeros): positions | normals | colours | indices.
 */
import { checkMesh, vertexNormals, type Mesh } from './mesh.js';

export interface GlbOptions {
  /** Node and mesh name. */
  name?: string;
  /** asset.extras: free-form strings (e.g. the body model and parameters used). */
  extras?: Record<string, string>;
}

const ARRAY_BUFFER = 34962;
const ELEMENT_ARRAY_BUFFER = 34963;
const FLOAT = 5126;
const UNSIGNED_BYTE = 5121;
const UNSIGNED_INT = 5125;
const TRIANGLES = 4;

const pad4 = (n: number) => (n + 3) & ~3;

export function encodeGlb(mesh: Mesh, options: GlbOptions = {}): Uint8Array {
  const { vertexCount, faceCount } = checkMesh(mesh);
  const normals = mesh.normals ?? vertexNormals(mesh.positions, mesh.faces);
  const positions = Float32Array.from(mesh.positions);
  const normals32 = Float32Array.from(normals);
  const min = [Infinity, Infinity, Infinity];
  const max = [-Infinity, -Infinity, -Infinity];
  for (let v = 0; v < vertexCount; v++) {
    for (let a = 0; a < 3; a++) {
      // Bounds of the float32 values actually stored, as validators compare them exactly.
      min[a] = Math.min(min[a], positions[3 * v + a]);
      max[a] = Math.max(max[a], positions[3 * v + a]);
    }
  }
  const views: Array<{ data: Uint8Array; target: number }> = [
    { data: new Uint8Array(positions.buffer), target: ARRAY_BUFFER },
    { data: new Uint8Array(normals32.buffer), target: ARRAY_BUFFER },
  ];
  const accessors: object[] = [
    { bufferView: 0, componentType: FLOAT, count: vertexCount, type: 'VEC3', min, max },
    { bufferView: 1, componentType: FLOAT, count: vertexCount, type: 'VEC3' },
  ];
  const attributes: Record<string, number> = { POSITION: 0, NORMAL: 1 };
  if (mesh.colors) {
    const rgba = new Uint8Array(vertexCount * 4);
    for (let v = 0; v < vertexCount; v++) {
      rgba[4 * v] = mesh.colors[3 * v];
      rgba[4 * v + 1] = mesh.colors[3 * v + 1];
      rgba[4 * v + 2] = mesh.colors[3 * v + 2];
      rgba[4 * v + 3] = 255;
    }
    attributes.COLOR_0 = accessors.length;
    accessors.push({ bufferView: views.length, componentType: UNSIGNED_BYTE, normalized: true, count: vertexCount, type: 'VEC4' });
    views.push({ data: rgba, target: ARRAY_BUFFER });
  }
  const indices = Uint32Array.from(mesh.faces);
  const indicesAccessor = accessors.length;
  accessors.push({ bufferView: views.length, componentType: UNSIGNED_INT, count: faceCount * 3, type: 'SCALAR' });
  views.push({ data: new Uint8Array(indices.buffer), target: ELEMENT_ARRAY_BUFFER });

  let binLength = 0;
  const bufferViews = views.map((v) => {
    const view = { buffer: 0, byteOffset: binLength, byteLength: v.data.length, target: v.target };
    binLength = pad4(binLength + v.data.length);
    return view;
  });
  const name = options.name ?? 'body';
  const json = {
    asset: { version: '2.0', generator: 'nbf-gl', ...(options.extras ? { extras: options.extras } : {}) },
    scene: 0,
    scenes: [{ nodes: [0] }],
    nodes: [{ mesh: 0, name }],
    meshes: [{ name, primitives: [{ attributes, indices: indicesAccessor, mode: TRIANGLES }] }],
    buffers: [{ byteLength: binLength }],
    bufferViews,
    accessors,
  };
  const jsonBytes = new TextEncoder().encode(JSON.stringify(json));
  const jsonLength = pad4(jsonBytes.length);
  const total = 12 + 8 + jsonLength + 8 + binLength;
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, 0x46546c67, true); // "glTF"
  dv.setUint32(4, 2, true);
  dv.setUint32(8, total, true);
  dv.setUint32(12, jsonLength, true);
  dv.setUint32(16, 0x4e4f534a, true); // "JSON"
  out.set(jsonBytes, 20);
  out.fill(0x20, 20 + jsonBytes.length, 20 + jsonLength);
  const binStart = 20 + jsonLength;
  dv.setUint32(binStart, binLength, true);
  dv.setUint32(binStart + 4, 0x004e4942, true); // "BIN\0"
  views.forEach((v, i) => out.set(v.data, binStart + 8 + bufferViews[i].byteOffset));
  return out;
}
