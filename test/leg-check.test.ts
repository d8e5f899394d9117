/**
 * The legs' sides check (src/pipeline/leg-check.ts): BlazePose's landmarks with left and right
 * exchanged (the legs', or all), and the decision from two start losses. The routes that use it are
 * tested where they are (landmark-fitter.test.ts, part-refine.test.ts, fit-photo.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { BLAZEPOSE_TWINS, checkLegSides, exchangeLandmarkSides, LEG_SIDE_MARGIN, legSidesCheck } from '../src/pipeline/leg-check.js';
import { BLAZEPOSE_LANDMARKS, type PoseLandmarks } from '../src/landmarks/blazepose.js';

describe('exchangeLandmarkSides', () => {
  const landmarks = {
    keypoints: Array.from({ length: 33 }, (_, k) => [k, 100 + k, k / 33]),
    world: Array.from({ length: 33 }, (_, k) => [-k, 2 * k, 3 * k]),
    score: 0.9, box: [1, 2, 3, 4], mask: new Float32Array(4), width: 2, height: 2,
  } as unknown as PoseLandmarks;
  /** Which landmark each output landmark came from (keypoint x holds the index). */
  const origin = (l: PoseLandmarks) => l.keypoints.map((k) => k[0]);

  it('finds BlazePose\'s 16 left/right twins by name', () => {
    expect(BLAZEPOSE_TWINS).toHaveLength(16);
    for (const [a, b] of BLAZEPOSE_TWINS) expect(BLAZEPOSE_LANDMARKS[b]).toBe(BLAZEPOSE_LANDMARKS[a].replace('left', 'right'));
  });

  it('legs: exchanges hips, knees, ankles, heels and toes (23–32) and nothing else, picture and world points alike', () => {
    const out = exchangeLandmarkSides(landmarks, 'legs');
    const want = Array.from({ length: 33 }, (_, k) => (k >= 23 ? (k % 2 ? k + 1 : k - 1) : k));
    expect(origin(out)).toEqual(want);
    out.world.forEach((w, k) => expect(w).toEqual(landmarks.world[want[k]]));
    expect([out.score, out.box, out.mask]).toEqual([landmarks.score, landmarks.box, landmarks.mask]);
    // The input is left as it was, and exchanging twice gives it back.
    expect(origin(landmarks)).toEqual(Array.from({ length: 33 }, (_, k) => k));
    expect(exchangeLandmarkSides(out, 'legs').keypoints).toEqual(landmarks.keypoints);
  });

  it('all: every twin exchanged, the nose stays', () => {
    const out = origin(exchangeLandmarkSides(landmarks, 'all'));
    expect(out[0]).toBe(0);
    expect(out[11]).toBe(12);
    expect(out[2]).toBe(5); // left_eye ↔ right_eye
    expect(out[9]).toBe(10); // mouth_left ↔ mouth_right
    expect(out.filter((v, k) => v !== k)).toHaveLength(32);
  });
});

describe('legSidesCheck', () => {
  it('keeps the exchanged reading only when its start loss is below the margin times the other\'s', () => {
    expect(LEG_SIDE_MARGIN).toBeGreaterThan(0);
    expect(LEG_SIDE_MARGIN).toBeLessThan(1);
    expect(legSidesCheck(1, 0.99)).toEqual({ exchanged: false, startLosses: [1, 0.99] });
    expect(legSidesCheck(1, LEG_SIDE_MARGIN * 0.999).exchanged).toBe(true);
    expect(legSidesCheck(1, LEG_SIDE_MARGIN).exchanged).toBe(false);
    expect(legSidesCheck(2e-3, 5e-3).exchanged).toBe(false);
    expect(legSidesCheck(1, Number.NaN).exchanged).toBe(false);
  });
});

describe('checkLegSides', () => {
  const landmarks = {
    keypoints: Array.from({ length: 33 }, (_, k) => [k, 0, 1]),
    world: Array.from({ length: 33 }, () => [0, 0, 0]),
    score: 0.9, box: [0, 0, 1, 1], mask: new Float32Array(1), width: 1, height: 1,
  } as unknown as PoseLandmarks;
  // A reading here is the landmark the left knee's slot holds (25 as detected, 26 exchanged).
  const read = (l: PoseLandmarks) => ({ leftKnee: l.keypoints[25][0] });

  it('reads the legs exchanged and keeps that reading only when its start loss is clearly lower', () => {
    const asDetected = read(landmarks);
    const clearly = checkLegSides(landmarks, asDetected, read, (r) => (r.leftKnee === 25 ? 1 : 0.5));
    expect(clearly.exchanged.leftKnee).toBe(26);
    expect(clearly.chosen).toBe(clearly.exchanged);
    expect(clearly.check).toEqual({ exchanged: true, startLosses: [1, 0.5] });
    const barely = checkLegSides(landmarks, asDetected, read, (r) => (r.leftKnee === 25 ? 1 : 0.95));
    expect(barely.chosen).toBe(asDetected);
    expect(barely.check).toEqual({ exchanged: false, startLosses: [1, 0.95] });
  });
});
