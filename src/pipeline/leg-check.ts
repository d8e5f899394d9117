/**
 * The legs' sides check. BlazePose sometimes takes one leg for the other on a rendered person — a
 * walker or runner seen from the side, a body turned away — and everything fitted to that reading
 * crosses its legs or twists its hips. The person's 2D outline is the same either way, so the check
 * reads the picture twice: BlazePose's landmarks as detected, and with the legs' landmarks (hips,
 * knees, ankles, heels, toes) exchanged left ↔ right; the networks answer each reading, and the
 * refinement's loss at each answer, before any step (refine.ts startLosses), says which agrees with
 * the picture. Only a clearly lower loss switches (LEG_SIDE_MARGIN), and only the reading kept is
 * refined. Used by both routes that read landmarks with a network: fit-picture.ts (`--route both`)
 * and fit-photo.ts (the landmarks route); docs/pipeline.md and docs/landmarks.md have the numbers.
 */
import { BLAZEPOSE_LANDMARKS, type PoseLandmarks } from '../landmarks/blazepose.js';

/** Whether the routes check the legs' sides unless told otherwise. */
export const LEG_SIDE_CHECK = true;
/**
 * The exchanged reading is kept when its start loss is below this times the detected one's. Chosen on
 * `--route both` (seeds 900101–900301, among ~20 rules) and never worse on the 5 seeds after; a margin
 * of 1 (any lower loss) switched wrongly about as often as rightly.
 */
export const LEG_SIDE_MARGIN = 0.8;

/** What a route reports of the check: each reading's start loss, and whether the exchanged one was kept. */
export interface LegSidesCheck {
  exchanged: boolean;
  /** [as detected, legs exchanged]. */
  startLosses: [number, number];
}

/** The decision from the two readings' start losses. */
export function legSidesCheck(asDetected: number, exchanged: number): LegSidesCheck {
  return { exchanged: exchanged < LEG_SIDE_MARGIN * asDetected, startLosses: [asDetected, exchanged] };
}

/**
 * The check as both routes run it: `read` turns landmarks into a reading (networks' answers and the
 * refinement's target), `startLoss` scores a reading's start; the exchanged reading is read and kept
 * when legSidesCheck says so. Returns the reading to refine, the exchanged one (for its timings) and
 * what the check found.
 */
export function checkLegSides<R>(landmarks: PoseLandmarks, asDetected: R, read: (landmarks: PoseLandmarks) => R, startLoss: (reading: R) => number): { chosen: R; exchanged: R; check: LegSidesCheck } {
  const exchanged = read(exchangeLandmarkSides(landmarks, 'legs'));
  const check = legSidesCheck(startLoss(asDetected), startLoss(exchanged));
  return { chosen: check.exchanged ? exchanged : asDetected, exchanged, check };
}

/** BlazePose's landmarks that have a left and a right twin, by name ('left_knee' ↔ 'right_knee', 'mouth_left' ↔ 'mouth_right'). */
export const BLAZEPOSE_TWINS: readonly (readonly [number, number])[] = BLAZEPOSE_LANDMARKS.flatMap((name, a) => {
  const b = (BLAZEPOSE_LANDMARKS as readonly string[]).indexOf(name.replace('left', 'right'));
  return name.includes('left') && b >= 0 ? [[a, b] as const] : [];
});
/** The legs' landmarks among them: hips, knees, ankles, heels, toes. */
const LEG_LANDMARK = /hip|knee|ankle|heel|foot/;

/**
 * The same landmarks with left and right exchanged: every twin pair (`'all'`: the body read as facing
 * the other way) or only the legs' (`'legs'`), picture and world points alike. Everything else
 * (score, box, mask) is the detection's.
 */
export function exchangeLandmarkSides(landmarks: PoseLandmarks, which: 'all' | 'legs'): PoseLandmarks {
  const keypoints = landmarks.keypoints.map((k) => [...k] as [number, number, number]);
  const world = landmarks.world.map((k) => [...k] as [number, number, number]);
  for (const [a, b] of BLAZEPOSE_TWINS) {
    if (which === 'legs' && !LEG_LANDMARK.test(BLAZEPOSE_LANDMARKS[a])) continue;
    [keypoints[a], keypoints[b]] = [keypoints[b], keypoints[a]];
    [world[a], world[b]] = [world[b], world[a]];
  }
  return { ...landmarks, keypoints, world };
}
