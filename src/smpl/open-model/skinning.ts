/**
 * Part labels and skinning weights of the template.
 *
 * Segmentation: each vertex takes the bone of the primitive that dominates the soft union there, then
 * stray islands are merged into the surrounding part so every part is one connected region. Weights:
 * the one-hot segmentation diffused over the mesh (repeated neighbour averaging), so weights change
 * smoothly across each joint, then cut to the 4 largest influences and renormalised.
 */
import type { BodyGeometry } from './body.js';
import { blendWeights } from './field.js';
import { PARTS24_TO_PARTS12 } from '../parts.js';
import type { SkinWeights } from '../types.js';

export const INFLUENCES = 4;

/** Dominant bone per vertex, with islands (components smaller than the part's largest) merged away. */
export function segmentByBone(body: BodyGeometry, positions: Float64Array, neighbours: Int32Array[]): Uint8Array {
  const V = positions.length / 3;
  const P = body.primitives.length;
  const w = new Float64Array(P);
  const jointWeight = new Float64Array(24);
  const labels = new Uint8Array(V);
  for (let v = 0; v < V; v++) {
    blendWeights(body.packed, body.blend, positions[3 * v], positions[3 * v + 1], positions[3 * v + 2], w);
    jointWeight.fill(0);
    for (let i = 0; i < P; i++) jointWeight[body.primitives[i].bone] += w[i];
    let best = 0;
    for (let j = 1; j < 24; j++) if (jointWeight[j] > jointWeight[best]) best = j;
    labels[v] = best;
  }
  smoothLabels(labels, neighbours, 3);
  mergeIslands(labels, neighbours);
  return labels;
}

/**
 * Majority filter: a vertex whose neighbours mostly (more than half) carry one other label takes that
 * label. Straightens the zig-zag boundaries that a per-vertex argmax leaves between parts.
 */
export function smoothLabels(labels: Uint8Array, neighbours: Int32Array[], passes: number): void {
  for (let pass = 0; pass < passes; pass++) {
    const next = Uint8Array.from(labels);
    for (let v = 0; v < labels.length; v++) {
      const ring = neighbours[v];
      const votes = new Map<number, number>();
      for (const u of ring) votes.set(labels[u], (votes.get(labels[u]) ?? 0) + 1);
      for (const [label, n] of votes) if (label !== labels[v] && 2 * n > ring.length) next[v] = label;
    }
    labels.set(next);
  }
}

/**
 * Relabels every vertex outside its label's largest connected region with the most common label among
 * its neighbours, repeating until each label is one region.
 */
export function mergeIslands(labels: Uint8Array, neighbours: Int32Array[]): void {
  const V = labels.length;
  for (let pass = 0; pass < 50; pass++) {
    const region = new Int32Array(V).fill(-1);
    const regionSize: number[] = [];
    const regionLabel: number[] = [];
    const stack: number[] = [];
    for (let s = 0; s < V; s++) {
      if (region[s] >= 0) continue;
      const id = regionSize.length;
      let size = 0;
      region[s] = id;
      stack.push(s);
      while (stack.length) {
        const v = stack.pop()!;
        size++;
        for (const u of neighbours[v]) if (region[u] < 0 && labels[u] === labels[s]) {
          region[u] = id;
          stack.push(u);
        }
      }
      regionSize.push(size);
      regionLabel.push(labels[s]);
    }
    const largest = new Map<number, number>();
    regionSize.forEach((size, id) => {
      const l = regionLabel[id];
      const cur = largest.get(l);
      if (cur === undefined || regionSize[cur] < size) largest.set(l, id);
    });
    let changed = false;
    const next = Uint8Array.from(labels);
    for (let v = 0; v < V; v++) {
      if (largest.get(labels[v]) === region[v]) continue;
      const votes = new Map<number, number>();
      for (const u of neighbours[v]) if (labels[u] !== labels[v]) votes.set(labels[u], (votes.get(labels[u]) ?? 0) + 1);
      let best = -1;
      let bestVotes = 0;
      for (const [l, n] of [...votes].sort((a, b) => a[0] - b[0])) if (n > bestVotes) {
        best = l;
        bestVotes = n;
      }
      if (best >= 0) {
        next[v] = best;
        changed = true;
      }
    }
    labels.set(next);
    if (!changed) break;
  }
}

/** NBF 12-part labels from the 24 skinning parts, with any island merged into its surroundings. */
export function parts12Of(parts24: Uint8Array, neighbours: Int32Array[]): Uint8Array {
  const labels = Uint8Array.from(parts24, (p) => PARTS24_TO_PARTS12[p]);
  mergeIslands(labels, neighbours);
  return labels;
}

/**
 * Skinning weights: one-hot parts diffused by `iterations` rounds of averaging each vertex with its
 * neighbours (half self, half neighbours), then the 4 largest kept and renormalised.
 */
export function diffuseWeights(parts24: Uint8Array, neighbours: Int32Array[], iterations: number): SkinWeights {
  const V = parts24.length;
  const J = 24;
  let w = new Float64Array(V * J);
  for (let v = 0; v < V; v++) w[v * J + parts24[v]] = 1;
  for (let it = 0; it < iterations; it++) {
    const next = new Float64Array(V * J);
    for (let v = 0; v < V; v++) {
      const ring = neighbours[v];
      for (let j = 0; j < J; j++) {
        let s = 0;
        for (const u of ring) s += w[u * J + j];
        next[v * J + j] = 0.5 * w[v * J + j] + (0.5 * s) / ring.length;
      }
    }
    w = next;
  }
  const joints = new Int32Array(V * INFLUENCES);
  const weights = new Float64Array(V * INFLUENCES);
  const order = Array.from({ length: J }, (_, j) => j);
  for (let v = 0; v < V; v++) {
    order.sort((a, b) => w[v * J + b] - w[v * J + a] || a - b);
    // Influences under 0.1 % are noise from the diffusion's tails: drop them.
    for (let k = 0; k < INFLUENCES; k++) if (w[v * J + order[k]] < 1e-3) w[v * J + order[k]] = 0;
    let total = 0;
    for (let k = 0; k < INFLUENCES; k++) total += w[v * J + order[k]];
    // Ascending joint order inside each vertex's slots keeps the file layout canonical.
    const kept = order.slice(0, INFLUENCES).map((j) => [j, w[v * J + j] / total] as const).sort((a, b) => a[0] - b[0]);
    kept.forEach(([j, x], k) => {
      joints[v * INFLUENCES + k] = x > 0 ? j : 0;
      weights[v * INFLUENCES + k] = x;
    });
  }
  return { influences: INFLUENCES, joints, weights };
}

