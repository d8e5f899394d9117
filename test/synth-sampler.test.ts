import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Rng } from '../src/util/random.js';
import { decodeBodyModel } from '../src/smpl/format.js';
import { rodrigues } from '../src/smpl/cpu-forward.js';
import {
  clampToLimits, eulerToMatrix, eulersToAxisAngle, familyMean, globalRotation, JOINT_LIMITS, JOINT_NAMES, matMul, POSE_FAMILIES, sampleBodyPose,
} from '../src/synth/pose.js';
import { firstPenetration, restPoseContacts, segmentDistance, Skeleton } from '../src/synth/skeleton.js';
import { exampleSeed, facingYaw, nbfFocalLength, sampleExample, truncatedNormal } from '../src/synth/sampler.js';
import { sampleAppearance } from '../src/synth/appearance.js';

const model = decodeBodyModel(new Uint8Array(readFileSync('weights/nbf-open-body.nbfm')), 'weights/nbf-open-body.nbfm');
const skeleton = new Skeleton(model);
const restMean = skeleton.restJoints(new Float64Array(model.shapeCount));

function jointsOfEulers(eulers: Float64Array): Float64Array {
  const rotations = new Float64Array(24 * 9);
  for (let j = 0; j < 24; j++) rotations.set(j === 0 ? [1, 0, 0, 0, 1, 0, 0, 0, 1] : eulerToMatrix([eulers[3 * j], eulers[3 * j + 1], eulers[3 * j + 2]]), 9 * j);
  return skeleton.posedJoints(restMean, rotations);
}
const joint = (p: Float64Array, name: string) => {
  const j = JOINT_NAMES.indexOf(name as never);
  return [p[3 * j], p[3 * j + 1], p[3 * j + 2]];
};

describe('joint limits and pose families', () => {
  it('limits are ordered ranges; the right side mirrors the left', () => {
    for (const [lo, hi] of JOINT_LIMITS) for (let a = 0; a < 3; a++) expect(lo[a]).toBeLessThanOrEqual(hi[a]);
    const l = JOINT_LIMITS[JOINT_NAMES.indexOf('left_shoulder')];
    const r = JOINT_LIMITS[JOINT_NAMES.indexOf('right_shoulder')];
    expect(r[0]).toEqual([l[0][0], -l[1][1], -l[1][2]]);
    expect(r[1]).toEqual([l[1][0], -l[0][1], -l[0][2]]);
  });

  it('every family mean lies within the limits and is free of self-penetration', () => {
    for (const f of POSE_FAMILIES) {
      const mean = familyMean(f);
      expect(Array.from(clampToLimits(Float64Array.from(mean))), f.name).toEqual(Array.from(mean));
      expect(firstPenetration(jointsOfEulers(mean)), f.name).toBeNull();
    }
  });

  it('sign conventions: hip flexion brings the knee forward, shoulder z < 0 lowers the left arm, arms raised lifts both hands', () => {
    const walking = jointsOfEulers(familyMean(POSE_FAMILIES.find((f) => f.name === 'walking')!));
    expect(joint(walking, 'left_knee')[2]).toBeGreaterThan(joint(walking, 'left_hip')[2] + 0.05);
    const standing = jointsOfEulers(familyMean(POSE_FAMILIES.find((f) => f.name === 'standing')!));
    expect(joint(standing, 'left_wrist')[1]).toBeLessThan(joint(standing, 'left_shoulder')[1] - 0.3);
    expect(joint(standing, 'right_wrist')[1]).toBeLessThan(joint(standing, 'right_shoulder')[1] - 0.3);
    const raised = jointsOfEulers(familyMean(POSE_FAMILIES.find((f) => f.name === 'arms raised')!));
    expect(joint(raised, 'left_wrist')[1]).toBeGreaterThan(joint(raised, 'head')[1]);
    expect(joint(raised, 'right_wrist')[1]).toBeGreaterThan(joint(raised, 'head')[1]);
    const sitting = jointsOfEulers(familyMean(POSE_FAMILIES.find((f) => f.name === 'sitting')!));
    expect(joint(sitting, 'left_knee')[2]).toBeGreaterThan(0.3); // thighs forward
    expect(joint(sitting, 'left_ankle')[1]).toBeLessThan(joint(sitting, 'left_knee')[1] - 0.3); // shins down
  });

  it('the penetration check catches a forearm through the torso and crossed shins', () => {
    const eulers = familyMean(POSE_FAMILIES[0]);
    const left = JOINT_NAMES.indexOf('left_shoulder');
    const elbow = JOINT_NAMES.indexOf('left_elbow');
    eulers.set([0, -1.5, -0.2], 3 * left); // arm forward
    eulers.set([0, -2.5, 0], 3 * elbow); // forearm folded back across the chest
    const hit = firstPenetration(jointsOfEulers(eulers));
    expect(hit).not.toBeNull();
    const legs = familyMean(POSE_FAMILIES[0]);
    legs.set([0, 0, -0.35], 3 * JOINT_NAMES.indexOf('left_hip'));
    legs.set([0, 0, 0.35], 3 * JOINT_NAMES.indexOf('right_hip'));
    expect(firstPenetration(jointsOfEulers(legs))?.join(' ')).toMatch(/shin|foot|thigh/);
    expect(segmentDistance([0, 0, 0], [1, 0, 0], [0.5, 1, -1], [0.5, 1, 1])).toBeCloseTo(1, 12);
    expect(segmentDistance([0, 0, 0], [1, 0, 0], [2, 0, 0], [3, 0, 0])).toBeCloseTo(1, 12);
  });

  it('sampled poses stay within the limits, rarely need redrawing, and cover every family', () => {
    const rng = new Rng(3);
    const seen = new Set<string>();
    let rejected = 0;
    for (let i = 0; i < 300; i++) {
      const s = sampleBodyPose(rng, (e) => firstPenetration(jointsOfEulers(e)) !== null);
      seen.add(s.family);
      rejected += s.rejected;
      // Mirroring swaps sides and negates y, z: the mirrored pose lies within the (mirrored) limits.
      expect(Array.from(clampToLimits(Float64Array.from(s.eulers)))).toEqual(Array.from(s.eulers));
      expect(firstPenetration(jointsOfEulers(s.eulers))).toBeNull();
    }
    expect(seen.size).toBe(POSE_FAMILIES.length);
    expect(rejected / 300).toBeLessThan(1);
  });

  it('full examples (random shapes too) never fall back to a family mean; rest-pose contacts are exempt, not ignored', () => {
    let redraws = 0;
    for (let i = 0; i < 200; i++) {
      const e = sampleExample(skeleton, 4, i, { size: 64 });
      expect(e.rejected).toBeLessThan(20);
      redraws += e.rejected;
    }
    expect(redraws / 200).toBeLessThan(1);
    // A shape whose thighs touch at rest: that contact is exempt, the others are still checked.
    const rest = Float64Array.from(restMean);
    for (const j of [1, 4, 7, 10]) rest[3 * j] -= 0.05; // left leg moved towards the right one
    const exempt = restPoseContacts(rest);
    expect([...exempt].some((p) => p.includes('thigh'))).toBe(true);
    expect(firstPenetration(rest, exempt)).toBeNull();
    const crossed = Float64Array.from(rest);
    crossed[3 * 20] = 0; // left wrist pulled to the body's midline, inside the torso
    crossed[3 * 20 + 2] = 0;
    expect(firstPenetration(crossed, exempt)).not.toBeNull();
  });

  it('Euler angles become SMPL axis-angle with the same rotation', () => {
    const e = Float64Array.from({ length: 72 }, (_, i) => (i < 3 ? 0 : ((i * 0.37) % 1) - 0.5));
    const pose = eulersToAxisAngle(e);
    for (let j = 1; j < 24; j++) {
      const want = eulerToMatrix([e[3 * j], e[3 * j + 1], e[3 * j + 2]]);
      const got = rodrigues(pose[3 * j], pose[3 * j + 1], pose[3 * j + 2]);
      for (let k = 0; k < 9; k++) expect(got[k]).toBeCloseTo(want[k], 12);
    }
  });

  it('global rotation: upright in the image (body up → image up, y down) and facing the camera at yaw 0', () => {
    const R = globalRotation(0, 0, 0, 0);
    const apply = (v: number[]) => [0, 1, 2].map((r) => R[3 * r] * v[0] + R[3 * r + 1] * v[1] + R[3 * r + 2] * v[2]);
    expect(apply([0, 1, 0])[1]).toBeCloseTo(-1, 12); // up → −y (image up)
    expect(apply([0, 0, 1])[2]).toBeCloseTo(-1, 12); // facing → −z (towards the camera)
    // The spin (rotation augmentation) turns the picture about the optical axis, after everything else.
    const spun = globalRotation(0.4, 0.1, -0.05, 0.3);
    const unspun = matMul(rodrigues(0, 0, 0.3), globalRotation(0.4, 0.1, -0.05, 0));
    for (let k = 0; k < 9; k++) expect(spun[k]).toBeCloseTo(unspun[k], 12);
  });
});

describe('facing: the share of people seen from behind', () => {
  it('facingYaw maps a uniform draw onto the front and back halves in the asked proportion', () => {
    for (const u of [-0.99, -0.6, -0.1, 0, 0.3, 0.75, 0.999]) expect(facingYaw(u, 0.5)).toBeCloseTo(u * Math.PI, 12);
    const draws = Array.from({ length: 2001 }, (_, i) => -1 + i / 1000);
    for (const rate of [0, 0.1, 0.25, 0.9]) {
      const back = draws.filter((u) => Math.abs(facingYaw(u, rate)) > Math.PI / 2).length / draws.length;
      expect(Math.abs(back - rate)).toBeLessThan(0.002);
      // Monotone in u and within the full turn.
      for (let i = 1; i < draws.length; i++) expect(facingYaw(draws[i], rate)).toBeGreaterThanOrEqual(facingYaw(draws[i - 1], rate));
      for (const u of draws) expect(Math.abs(facingYaw(u, rate))).toBeLessThanOrEqual(Math.PI + 1e-12);
    }
    expect(() => facingYaw(0.2, 1.5)).toThrow(/backViewRate/);
    expect(() => facingYaw(0.2, Number.NaN)).toThrow(/backViewRate/);
  });

  it('sampleExample with backViewRate: that share of bodies face away; 0.5 is the uniform turn as before', () => {
    const facesAway = (pose: Float64Array) => {
      const R = rodrigues(pose[0], pose[1], pose[2]);
      return R[8] > 0; // the body's forward axis (0, 0, 1) points away from the camera (+z)
    };
    const n = 400;
    let away = 0;
    let awayUniform = 0;
    for (let i = 0; i < n; i++) {
      const biased = sampleExample(skeleton, 11, i, { size: 64, backViewRate: 0.2 });
      const uniform = sampleExample(skeleton, 11, i, { size: 64 });
      const half = sampleExample(skeleton, 11, i, { size: 64, backViewRate: 0.5 });
      if (facesAway(biased.pose)) away++;
      if (facesAway(uniform.pose)) awayUniform++;
      // Same draws otherwise: shape identical, and rate 0.5 the same pose as no rate (up to rounding).
      expect(Array.from(biased.betas)).toEqual(Array.from(uniform.betas));
      for (let k = 0; k < 72; k++) expect(half.pose[k]).toBeCloseTo(uniform.pose[k], 9);
    }
    // The tilt moves the facing a little off the yaw: allow a few points either way.
    expect(Math.abs(away / n - 0.2)).toBeLessThan(0.06);
    expect(Math.abs(awayUniform / n - 0.5)).toBeLessThan(0.08);
  });
});

describe('shape and camera sampling', () => {
  it('β ~ N(0, 1) truncated at ±3', () => {
    const rng = new Rng(9);
    const xs = Array.from({ length: 20000 }, () => truncatedNormal(rng, 3));
    expect(Math.max(...xs.map(Math.abs))).toBeLessThanOrEqual(3);
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const std = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(std).toBeGreaterThan(0.95);
    expect(std).toBeLessThan(1.0);
  });

  it('NBF focal length scaled with the crop; person fills about 0.8 of the crop; NBF-like depth', () => {
    expect(nbfFocalLength(512)).toBe(5000);
    expect(nbfFocalLength(224)).toBe(2187.5);
    for (let i = 0; i < 40; i++) {
      const e = sampleExample(skeleton, 5, i, { size: 224, scaleJitter: 0, centreJitter: 0, maxSpin: 0 });
      expect(Array.from(e.camera)).toEqual([2187.5, 2187.5, 112, 112]);
      expect(e.trans[2]).toBeGreaterThan(8);
      expect(e.trans[2]).toBeLessThan(40);
      for (const b of e.betas) expect(Math.abs(b)).toBeLessThanOrEqual(3);
    }
  });

  it('every example is a function of (seed, index): same parameters in any batch, different seeds differ', () => {
    const a = sampleExample(skeleton, 11, 7, { size: 64 });
    const b = sampleExample(skeleton, 11, 7, { size: 64 });
    expect(b).toEqual(a);
    const c = sampleExample(skeleton, 12, 7, { size: 64 });
    expect(Array.from(c.pose)).not.toEqual(Array.from(a.pose));
    expect(exampleSeed(1, 2)).not.toBe(exampleSeed(2, 1));
    expect(new Set(Array.from({ length: 1000 }, (_, i) => exampleSeed(0, i))).size).toBe(1000);
  });
});

describe('appearance details and second persons come from streams of their own', () => {
  it('the example stream is drawn as before surface textures: 49 numbers for the look, whatever the details', () => {
    const a = new Rng(5);
    const b = new Rng(5);
    const lookA = sampleAppearance(a, true, new Rng(1));
    const lookB = sampleAppearance(b, true, new Rng(2));
    expect(a.getState()).toBe(b.getState());
    const c = new Rng(5);
    for (let i = 0; i < 49; i++) c.next();
    expect(a.getState()).toBe(c.getState());
    // The older draws agree; the details differ.
    expect(lookA.skin).toEqual(lookB.skin);
    expect(lookA.top.colourA).toEqual(lookB.top.colourA);
    expect(lookA.hairSide).not.toBe(lookB.hairSide);
  });

  it('a second person: none by default, at the rate asked, the main example unchanged, entering from a side', () => {
    const S = 96;
    let count = 0;
    for (let i = 0; i < 200; i++) {
      const plain = sampleExample(skeleton, 3, i, { size: S });
      expect(plain.other).toBeUndefined();
      const withOther = sampleExample(skeleton, 3, i, { size: S, otherPersonRate: 0.3 });
      const { other, ...main } = withOther;
      expect(main).toEqual(plain);
      if (!other) continue;
      count++;
      // Its pelvis projects beyond or near the left or right edge, at a depth near the main person's.
      const pelvis = skeleton.posedJoints(skeleton.restJoints(other.betas), Array.from({ length: 24 }, (_, j) => Array.from(rodrigues(other.pose[3 * j], other.pose[3 * j + 1], other.pose[3 * j + 2]))).flat()).subarray(0, 3);
      const z = pelvis[2] + other.trans[2];
      const u = (plain.camera[0] * (pelvis[0] + other.trans[0])) / z + S / 2;
      expect(u < 0.13 * S || u > 0.87 * S).toBe(true);
      expect(z / plain.trans[2]).toBeGreaterThan(0.5);
      expect(z / plain.trans[2]).toBeLessThan(1.45);
      // Its stream does not depend on the rate: where both rates draw one, it is the same person.
      const always = sampleExample(skeleton, 3, i, { size: S, otherPersonRate: 1 }).other;
      expect(always).toEqual(other);
    }
    expect(count).toBeGreaterThan(40);
    expect(count).toBeLessThan(80);
    expect(sampleExample(skeleton, 3, 0, { size: S, otherPersonRate: 1, appearance: false }).other).toBeUndefined();
  });

  it('close-ups: none by default, at the rate asked, the rest of the example unchanged, the upper body filling the frame', () => {
    const S = 128;
    const project = (e: ReturnType<typeof sampleExample>) => {
      const rotations = Array.from({ length: 24 }, (_, j) => Array.from(rodrigues(e.pose[3 * j], e.pose[3 * j + 1], e.pose[3 * j + 2]))).flat();
      const p = skeleton.posedJoints(skeleton.restJoints(e.betas), rotations);
      return Array.from({ length: 24 }, (_, j) => {
        const z = p[3 * j + 2] + e.trans[2];
        return [(e.camera[0] * (p[3 * j] + e.trans[0])) / z + S / 2, (e.camera[1] * (p[3 * j + 1] + e.trans[1])) / z + S / 2];
      });
    };
    let count = 0;
    let anklesOut = 0;
    for (let i = 0; i < 200; i++) {
      const plain = sampleExample(skeleton, 9, i, { size: S });
      expect(plain.closeUp).toBeUndefined();
      expect(sampleExample(skeleton, 9, i, { size: S, closeUpRate: 0 })).toEqual(plain);
      const e = sampleExample(skeleton, 9, i, { size: S, closeUpRate: 0.3 });
      const { trans, closeUp, ...rest } = e;
      const { trans: plainTrans, ...plainRest } = plain;
      expect(rest).toEqual(plainRest);
      if (!closeUp) {
        expect(Array.from(trans)).toEqual(Array.from(plainTrans));
        continue;
      }
      count++;
      // Closer to the camera than the whole-body framing; the head and shoulders inside the picture.
      expect(trans[2]).toBeLessThan(plainTrans[2]);
      const uv = project(e);
      for (const j of [12, 15, 16, 17]) {
        expect(uv[j][0]).toBeGreaterThan(-0.1 * S);
        expect(uv[j][0]).toBeLessThan(1.1 * S);
        expect(uv[j][1]).toBeGreaterThan(-0.1 * S);
        expect(uv[j][1]).toBeLessThan(1.1 * S);
      }
      if ([7, 8].every((j) => uv[j][1] > S || uv[j][1] < 0 || uv[j][0] < 0 || uv[j][0] > S)) anklesOut++;
      // Its stream does not depend on the rate.
      expect(sampleExample(skeleton, 9, i, { size: S, closeUpRate: 1 })).toEqual(e);
    }
    expect(count).toBeGreaterThan(40);
    expect(count).toBeLessThan(80);
    // Most close-ups leave both feet out of the picture.
    expect(anklesOut / count).toBeGreaterThan(0.6);
    expect(sampleExample(skeleton, 9, 0, { size: S, closeUpRate: 1, appearance: false }).closeUp).toBeUndefined();
  });
});
