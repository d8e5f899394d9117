/**
 * The npm package as a user gets it: `npm pack` (which builds dist/ through prepack) holds the built
 * library, CLI, types and the shipped weights and nothing of the tests, sources or training records;
 * unpacked into a project, `import 'nbf-gl'` fits a picture and `nbf` runs from dist/.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// Inside the checkout, so the unpacked package resolves its dependencies (gl, pngjs, …) from this
// checkout's node_modules, as an npm install would from the project's.
mkdirSync('out', { recursive: true });
const root = mkdtempSync(join(process.cwd(), 'out', 'pack-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('npm package', () => {
  it('packs dist, types, bin and the shipped weights only; unpacked, it imports and fits a picture', () => {
    const json = execFileSync('npm', ['pack', '--json', '--pack-destination', root], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const [info] = JSON.parse(json.slice(json.indexOf('['))) as { filename: string; files: { path: string }[]; size: number }[];
    const files = info.files.map((f) => f.path);
    for (const f of ['dist/index.js', 'dist/cli.js', 'dist/nbf-gl.browser.js', 'dist/nbf-gl.browser-full.js', 'dist/types/node.d.ts',
      'dist/types/browser.d.ts', 'dist/types/browser-full.d.ts', 'bin/nbf.mjs',
      'weights/nbf-open-body.nbfm', 'weights/nbf-fitter-compact.nbfw', 'weights/nbf-fitter-landmarks.nbfw', 'weights/blazepose/blazepose-lite.bin', 'weights/blazepose/blazepose-full.bin', 'weights/blazepose/blazepose-detector.bin', 'weights/README.md']) {
      expect(files, f).toContain(f);
    }
    for (const prefix of ['src/', 'test/', 'bench/', 'weights/training/', 'shaders/', 'docs/']) {
      expect(files.filter((f) => f.startsWith(prefix)), prefix).toEqual([]);
    }
    expect(info.size).toBeLessThan(26e6); // 22.1 MB at stop 26, nearly all of it weights (BlazePose full 6.0 MB of it)

    const project = join(root, 'project');
    const unpacked = join(project, 'node_modules', 'nbf-gl');
    mkdirSync(unpacked, { recursive: true });
    execFileSync('tar', ['xzf', join(root, info.filename), '-C', unpacked, '--strip-components=1']);
    writeFileSync(join(project, 'package.json'), '{ "type": "module" }\n');
    const sample = readFileSync('examples/web/sample.png');
    writeFileSync(join(project, 'sample.png'), sample);
    writeFileSync(join(project, 'fit.mjs'), [
      "import { createContext, createNodePipeline, decodeImage } from 'nbf-gl';",
      "import { readFileSync } from 'node:fs';",
      'const rt = createContext();',
      'const pipeline = createNodePipeline(rt);',
      "const result = pipeline.fit(decodeImage(readFileSync('sample.png'), 'sample.png'), { steps: 10 });",
      'console.log(JSON.stringify({ joints: result.joints2d.length, pose: result.pose.length, score: result.landmarks.score }));',
      'pipeline.dispose();',
      'rt.destroy();',
    ].join('\n'));
    const run = spawnSync(process.execPath, ['fit.mjs'], { cwd: project, encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toMatchObject({ joints: 48, pose: 72 });
    // The browser bundles by their export paths (imported here only to list what they export): the
    // inference API in nbf-gl/browser, all of it in nbf-gl/browser-full.
    writeFileSync(join(project, 'exports.mjs'), [
      "const small = await import('nbf-gl/browser');",
      "const full = await import('nbf-gl/browser-full');",
      'const has = (m) => ({ createContext: typeof m.createContext, NbfPipeline: typeof m.NbfPipeline, add: typeof m.add, ad: typeof m.ad, adam: typeof m.adam });',
      'console.log(JSON.stringify({ small: has(small), full: has(full) }));',
    ].join('\n'));
    const exported = spawnSync(process.execPath, ['exports.mjs'], { cwd: project, encoding: 'utf8' });
    expect(exported.stderr).toBe('');
    expect(JSON.parse(exported.stdout)).toEqual({
      small: { createContext: 'function', NbfPipeline: 'function', add: 'function', ad: 'undefined', adam: 'undefined' },
      full: { createContext: 'function', NbfPipeline: 'function', add: 'function', ad: 'object', adam: 'function' },
    });
    // The CLI from dist/ (no sources in the package).
    const cli = spawnSync(process.execPath, [join(unpacked, 'bin', 'nbf.mjs'), 'landmarks', 'sample.png', '--out', 'out'], { cwd: project, encoding: 'utf8' });
    expect(cli.status, cli.stderr).toBe(0);
    expect(readFileSync(join(project, 'out', 'sample', 'landmarks.json'), 'utf8')).toContain('"keypoints"');
  }, 180_000);
});
