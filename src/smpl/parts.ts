/** Part labels derived from skinning: SMPL's 24 skinning parts and NBF's 12 parts. */
import { ShapeError } from '../runtime/errors.js';
import type { SkinWeights } from './types.js';

/**
 * NBF class (1..12, see NBF_PARTS) of each of SMPL's 24 skinning parts. nbf.md's approximate mapping,
 * in SMPL joint names: pelvis, spine1 → lower torso; spine2, spine3 → upper torso; neck → neck;
 * head → head; collar + shoulder → upper arm (NBF's upper-arm classes include the shoulder);
 * elbow (forearm), wrist, hand → lower arm + hand; hip → upper leg; knee, ankle, foot → lower leg + foot.
 * SMPL's spine3 region reaches a little below the chest where NBF draws lower torso; a user's SMPL
 * file carries no 12-part labels, so this derived labelling is what we have.
 */
export const PARTS24_TO_PARTS12: readonly number[] = [
  8, // 0 pelvis → lower torso
  5, // 1 left_hip → left upper leg
  6, // 2 right_hip → right upper leg
  8, // 3 spine1 → lower torso
  11, // 4 left_knee → left lower leg + foot
  12, // 5 right_knee → right lower leg + foot
  2, // 6 spine2 → upper torso
  11, // 7 left_ankle
  12, // 8 right_ankle
  2, // 9 spine3 → upper torso
  11, // 10 left_foot
  12, // 11 right_foot
  7, // 12 neck
  9, // 13 left_collar → left upper arm
  4, // 14 right_collar → right upper arm
  1, // 15 head
  9, // 16 left_shoulder → left upper arm
  4, // 17 right_shoulder → right upper arm
  3, // 18 left_elbow → left lower arm + hand
  10, // 19 right_elbow → right lower arm + hand
  3, // 20 left_wrist
  10, // 21 right_wrist
  3, // 22 left_hand
  10, // 23 right_hand
];

/** Per-vertex skinning part: the joint with the largest weight (ties: lowest joint index). */
export function partsFromWeights(skin: SkinWeights, vertexCount: number): Uint8Array {
  const K = skin.influences;
  const parts = new Uint8Array(vertexCount);
  for (let v = 0; v < vertexCount; v++) {
    let best = -1;
    let bestJoint = 0;
    for (let k = 0; k < K; k++) {
      const w = skin.weights[v * K + k];
      const j = skin.joints[v * K + k];
      if (w > best || (w === best && j < bestJoint)) {
        best = w;
        bestJoint = j;
      }
    }
    if (bestJoint > 255) throw new ShapeError(`partsFromWeights: joint ${bestJoint} does not fit a byte`);
    parts[v] = bestJoint;
  }
  return parts;
}

/** NBF's 12-part label of each vertex from its 24-part label (SMPL topology only). */
export function parts12FromParts24(parts24: Uint8Array): Uint8Array {
  const out = new Uint8Array(parts24.length);
  for (let v = 0; v < parts24.length; v++) {
    const p = PARTS24_TO_PARTS12[parts24[v]];
    if (p === undefined) throw new ShapeError(`parts12FromParts24: vertex ${v} has 24-part label ${parts24[v]}, outside 0..23`);
    out[v] = p;
  }
  return out;
}
