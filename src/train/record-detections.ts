/**
 * Recording a detector's joints on rendered synthetic people into a detections file's records
 * (detection-cache.ts has the format; scripts/detect-renders.ts runs this). Node-side: it converts
 * pictures through io/image.ts.
 */
import { NbfError } from '../runtime/errors.js';
import { HEATMAP_JOINTS } from '../nn/fitter-inputs.js';
import { disposeBatch, type SynthGenerator } from '../synth/generate.js';
import { NoPersonError, type PoseLandmarks } from '../landmarks/blazepose.js';
import { bodyJointTargets } from '../landmarks/to-body-joints.js';
import { rgbFloatsToImage, type RgbaImage } from '../io/image.js';
import { RECORD_FLOATS, type DetectionCache } from './detection-cache.js';

/** What recordDetections needs of a detector (PoseLandmarker has it); NoPersonError: no one found. */
export interface LandmarkDetector {
  detect(image: RgbaImage): PoseLandmarks;
}

/**
 * Renders examples cache.start + from … cache.start + to − 1 of cache.seed at cache.size (sampler
 * defaults, as fitter training draws them), runs the detector on each picture and writes records
 * from … to − 1 into cache.records (which must have room). Returns how many it found someone in.
 */
export function recordDetections(generator: SynthGenerator, detector: LandmarkDetector, cache: Pick<DetectionCache, 'seed' | 'start' | 'size' | 'records'>, from: number, to: number, chunk = 8): number {
  if (cache.records.length < to * RECORD_FLOATS) throw new NbfError(`detections: room for ${cache.records.length / RECORD_FLOATS} records, not ${to}`);
  const { size } = cache;
  let found = 0;
  for (let done = from; done < to; done += chunk) {
    const n = Math.min(chunk, to - done);
    const batch = generator.generateBatch(n, { size, seed: cache.seed, start: cache.start + done });
    let rgb: Float32Array;
    try {
      rgb = batch.inputs.rgb.readSync();
    } finally {
      disposeBatch(batch);
    }
    for (let i = 0; i < n; i++) {
      const r = cache.records.subarray((done + i) * RECORD_FLOATS, (done + i + 1) * RECORD_FLOATS);
      r.fill(0);
      try {
        const targets = bodyJointTargets(detector.detect(rgbFloatsToImage(rgb, size, size, i * size * size)));
        r[0] = 1;
        r.set(targets.joints2d, 1);
        r.set(targets.visibility, 1 + 2 * HEATMAP_JOINTS);
        found++;
      } catch (e) {
        if (!(e instanceof NoPersonError)) throw e;
      }
    }
  }
  return found;
}
