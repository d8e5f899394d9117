#!/usr/bin/env node
// `npm run docs:web-page [-- PICTURE] [--route landmarks|both|parts] [--out FILE]`: docs/web-page.png, the
// web page (examples/web/) after fitting a picture (default the page's sample, by NBF's route with
// BlazePose), the 3D view turned a little so that it shows depth. The page is served in-process by
// scripts/serve.mjs's server and opened in headless Chromium (SwiftShader, as test/web-page.test.ts;
// CHROMIUM_PATH names another binary). The timings in the picture are those of that software renderer.
import { chromium } from 'playwright-core';
import { existsSync } from 'node:fs';
import { buildBundle, createPageServer } from './serve.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'];
const ROUTES = ['landmarks', 'both', 'parts'];

function parseArgs(argv) {
  const options = { picture: null, route: 'both', out: 'docs/web-page.png' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--route') options.route = argv[++i];
    else if (a === '--out') options.out = argv[++i];
    else if (a.startsWith('--')) throw new Error(`unknown option "${a}"`);
    else options.picture = a;
  }
  if (!ROUTES.includes(options.route)) throw new Error(`--route must be one of ${ROUTES.join(', ')}; got "${options.route}"`);
  if (!options.out) throw new Error('--out needs a file');
  if (options.picture && !existsSync(options.picture)) throw new Error(`${options.picture}: no such file`);
  return options;
}

let options;
try {
  options = parseArgs(process.argv.slice(2));
} catch (e) {
  console.error(`docs-web-page: ${e.message}\nusage: npm run docs:web-page [-- PICTURE] [--route landmarks|both|parts] [--out FILE]`);
  process.exit(2);
}

const server = createPageServer(await buildBundle());
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 1000 } });
  page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
  await page.goto(`http://127.0.0.1:${server.address().port}/?route=${options.route}`);
  await page.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.state), undefined, { timeout: 120_000 });
  if (options.picture) await page.setInputFiles('#pick', options.picture);
  else await page.click('#sample');
  await page.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.state), undefined, { timeout: 300_000, polling: 200 });
  const [state, error, line] = await page.evaluate(() => [document.body.dataset.state, window.nbfError, document.getElementById('fit-progress').textContent]);
  if (state !== 'done') throw new Error(`the page did not fit the picture: ${error}`);
  // Turn the body a little: a view straight from the camera looks like the overlay beside it.
  const box = await page.locator('#view').boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width / 2 + 60, box.y + box.height / 2 + 10, { steps: 5 });
  await page.mouse.up();
  await page.waitForTimeout(300);
  await page.screenshot({ path: options.out, fullPage: true });
  console.log(`${line} → ${options.out}`);
} finally {
  await browser.close();
  server.close();
  server.closeAllConnections();
}
