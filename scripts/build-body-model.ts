/**
 * Regenerates weights/nbf-open-body.nbfm, nbf-gl's own body model (SMPL's parameterisation, none of its
 * data), and prints the measurements quoted in weights/README.md.
 *
 *   node --import tsx scripts/build-body-model.ts [--out FILE] [--report FILE.json]
 */
import { writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { encodeBodyModel } from '../src/smpl/format.js';
import { parseArgs, stringFlag } from '../src/cli/args.js';
import { buildOpenBodyModel, DEFAULT_BUILD_OPTIONS } from '../src/smpl/open-model/build.js';

function parseOptions(): { out: string; reportPath: string } {
  try {
    const args = parseArgs(process.argv.slice(2), ['out', 'report']);
    return { out: stringFlag(args, 'out') ?? 'weights/nbf-open-body.nbfm', reportPath: stringFlag(args, 'report') ?? '' };
  } catch (e) {
    console.error(`build-body-model: ${(e as Error).message}\nusage: build-body-model.ts [--out FILE.nbfm] [--report FILE.json]`);
    process.exit(2);
  }
}

const { out, reportPath } = parseOptions();
const started = performance.now();
console.log('building the open body model…');
const { model, report } = buildOpenBodyModel(DEFAULT_BUILD_OPTIONS, (line) => console.log(line));
const bytes = encodeBodyModel(model);
writeFileSync(out, bytes);
const pct = (x: number): string => `${(100 * x).toFixed(2)} %`;
console.log(`\nwrote ${out}: ${(bytes.length / 1024).toFixed(0)} KiB, sha256 ${createHash('sha256').update(bytes).digest('hex')}`);
console.log(`mesh: ${report.vertices} vertices, ${report.faces} faces, Euler characteristic ${report.manifold.euler}, ` +
  `non-manifold edges ${report.manifold.nonManifoldEdges}, mis-oriented edges ${report.manifold.misorientedEdges}, self-intersections ${report.selfIntersections}`);
console.log(`self-intersecting bodies: ${report.heldOutSelfIntersecting} of ${DEFAULT_BUILD_OPTIONS.heldOutSamples} held-out samples, ` +
  `${report.betaExtremesSelfIntersecting} of ${2 * DEFAULT_BUILD_OPTIONS.shapeCount} bodies at β = ±2 on one component (worst ${report.betaExtremesWorstPairs} triangle pairs)`);
console.log(`β = 0: stature ${report.statureAtZero.toFixed(3)} m, volume ${report.templateVolumeLitres.toFixed(1)} l; ` +
  `sampled statures ${report.statureRange[0].toFixed(3)}–${report.statureRange[1].toFixed(3)} m`);
console.log(`variance explained by the first k components: ${report.varianceExplained.map(pct).join(', ')}`);
console.log('correlation of components with stature / girth / femininity: ' +
  report.componentCorrelations.slice(0, 4).map((c, i) => `β${i + 1} ${c.stature.toFixed(2)} / ${c.girth.toFixed(2)} / ${c.femininity.toFixed(2)}`).join(', '));
console.log(`joint regressor: ${report.regressorEntries} entries; error train mean ${report.regressorTrainMm.mean.toFixed(2)} mm / max ${report.regressorTrainMm.max.toFixed(2)} mm, ` +
  `held-out mean ${report.regressorHeldOutMm.mean.toFixed(2)} mm / max ${report.regressorHeldOutMm.max.toFixed(2)} mm`);
console.log(`90° bends, local volume kept: ${report.bends.map((b) => `${b.joint} ${pct(b.localVolumeRatio)}`).join(', ')}; whole body ${pct(report.wholeVolumeRatioBent)}`);
console.log(`total ${((performance.now() - started) / 1000).toFixed(1)} s`);
if (reportPath) writeFileSync(reportPath, JSON.stringify(report, null, 2) + '\n');
