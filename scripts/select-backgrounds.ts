/**
 * Picks the photographs among the wallpapers of unpacked Debian packages (scripts/fetch-backgrounds.sh
 * runs it), stores each kept one as a PNG whose shorter side is 512 px, and writes manifest.json with
 * every image seen: package, file, licence (from /usr/share/doc/<package>/copyright), measures and
 * decision. Prints a per-package summary.
 *
 *   node --import tsx scripts/select-backgrounds.ts --source SRC --out DIR
 *
 * SRC holds one folder per package (`dpkg -x` output) named after it, and optionally
 * SRC/<package>.version (the .deb's version).
 *
 * Candidates: every .png/.jpg/.jpeg file under usr/share except symlinks, empty files, screenshot.*
 * previews and usr/share/doc; of a KDE wallpaper (usr/share/wallpapers/<Name>/contents/images*), only
 * its largest file, preferring images/ over images_dark/ (the others are the same picture at other
 * sizes or a dark variant).
 *
 * The rule (PHOTO_RULE), measured on a copy area-averaged so its shorter side is 256 px, with luma
 * Y = 0.299 R + 0.587 G + 0.114 B in grey levels 0–255: a pixel is flat when Y changes by less than one
 * grey level to its right and to its lower neighbour; the picture is a photograph when fewer than 35 %
 * of its pixels are flat (and its shorter side is at least 512 px). Vector art and renders are made of
 * flat areas and smooth gradients (a gradient spread over a wallpaper changes by < 1 level per pixel);
 * photographs have texture, grain and sensor noise almost everywhere. Its outcome on the three packages
 * (docs/synth.md): it keeps 21 of 57 pictures, 18 photographs by eye and 3 textured paintings/renders,
 * and rejects 7 smooth photographs (mist, sky, sunset) with the 29 abstract pictures.
 */
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { decodeImage, encodePng, type RgbaImage } from '../src/io/image.js';
import { resizeArea } from '../src/synth/backgrounds.js';

/** Short side of the analysis copy, the flat-pixel threshold (grey levels) and the largest flat fraction of a photograph. */
export const PHOTO_RULE = { analysisSide: 256, flatLevels: 1, maxFlatFraction: 0.35, minShortSide: 512 } as const;
/** Short side of the stored photos. */
export const STORED_SIDE = 512;

export interface ImageMeasures {
  width: number;
  height: number;
  /** Fraction of flat pixels (see the header) on the analysis copy: the rule's measure. */
  flatFraction: number;
  /** Distinct colours at 6 bits per channel on the analysis copy (recorded, not used by the rule). */
  colours: number;
  /** Median |4·Y − the four neighbours| on the analysis copy, grey levels (recorded, not used). */
  texture: number;
}

/** The rule's measures of a picture. */
export function measureImage(image: RgbaImage): ImageMeasures {
  const side = Math.min(image.width, image.height);
  const W = Math.max(1, Math.round((image.width * PHOTO_RULE.analysisSide) / side));
  const H = Math.max(1, Math.round((image.height * PHOTO_RULE.analysisSide) / side));
  const rgb = resizeArea(image, W, H);
  const Y = new Float64Array(W * H);
  const colours = new Set<number>();
  for (let p = 0; p < W * H; p++) {
    const [r, g, b] = [rgb[3 * p], rgb[3 * p + 1], rgb[3 * p + 2]];
    Y[p] = 255 * (0.299 * r + 0.587 * g + 0.114 * b);
    const q = (v: number) => Math.min(63, Math.floor(v * 64));
    colours.add((q(r) << 12) | (q(g) << 6) | q(b));
  }
  let flat = 0;
  let count = 0;
  const laplacian: number[] = [];
  for (let y = 0; y < H - 1; y++) {
    for (let x = 0; x < W - 1; x++) {
      const p = y * W + x;
      if (Math.abs(Y[p + 1] - Y[p]) < PHOTO_RULE.flatLevels && Math.abs(Y[p + W] - Y[p]) < PHOTO_RULE.flatLevels) flat++;
      count++;
      if (x > 0 && y > 0) laplacian.push(Math.abs(4 * Y[p] - Y[p - 1] - Y[p + 1] - Y[p - W] - Y[p + W]));
    }
  }
  laplacian.sort((a, b) => a - b);
  return {
    width: image.width,
    height: image.height,
    flatFraction: count ? flat / count : 1,
    colours: colours.size,
    texture: laplacian.length ? laplacian[laplacian.length >> 1] : 0,
  };
}

/** The decision and its reason. */
export function isPhotograph(m: ImageMeasures): { photo: boolean; reason: string } {
  const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
  if (Math.min(m.width, m.height) < PHOTO_RULE.minShortSide) return { photo: false, reason: `shorter side ${Math.min(m.width, m.height)} px < ${PHOTO_RULE.minShortSide}` };
  if (m.flatFraction < PHOTO_RULE.maxFlatFraction) return { photo: true, reason: `flat ${pct(m.flatFraction)} < ${pct(PHOTO_RULE.maxFlatFraction)}` };
  return { photo: false, reason: `flat ${pct(m.flatFraction)} ≥ ${pct(PHOTO_RULE.maxFlatFraction)}: flat areas or smooth gradients (art)` };
}

// ---- licences (Debian machine-readable copyright files) ----------------------------------------------

export interface CopyrightStanza {
  files: string[];
  copyright: string;
  license: string;
}

/** The Files stanzas of a DEP-5 copyright file. */
export function parseCopyright(text: string): CopyrightStanza[] {
  const stanzas: CopyrightStanza[] = [];
  for (const block of text.split(/\n\s*\n/)) {
    const fields: Record<string, string> = {};
    let key = '';
    for (const line of block.split('\n')) {
      const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
      if (m) {
        key = m[1].toLowerCase();
        fields[key] = m[2];
      } else if (key && /^\s/.test(line)) fields[key] += ` ${line.trim()}`;
    }
    if (fields.files !== undefined) {
      stanzas.push({ files: fields.files.split(/\s+/).filter(Boolean), copyright: (fields.copyright ?? '').trim(), license: (fields.license ?? '').split(/\s+/)[0] ?? '' });
    }
  }
  return stanzas;
}

function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
}

/**
 * The stanza that covers a file of the binary package: a pattern whose last component matches the file's
 * name (the copyright file names source paths, e.g. 16.04/x.jpg for /usr/share/backgrounds/x.jpg), the
 * longest such pattern first; else `Files: *`. debian/* stanzas never apply.
 */
export function licenceOf(stanzas: readonly CopyrightStanza[], file: string): CopyrightStanza | undefined {
  const name = basename(file);
  let best: { stanza: CopyrightStanza; score: number } | undefined;
  for (const s of stanzas) {
    for (const pattern of s.files) {
      if (pattern.startsWith('debian/')) continue;
      const last = pattern.split('/').pop() ?? pattern;
      const score = pattern === '*' ? 0 : globToRegExp(last).test(name) ? pattern.replace(/\*/g, '').length : -1;
      if (score >= 0 && (!best || score > best.score)) best = { stanza: s, score };
    }
  }
  return best?.stanza;
}

/** Licence and author a KDE wallpaper's own metadata gives (metadata.json or metadata.desktop), if any. */
function kdeMetadata(wallpaperDir: string): { license?: string; author?: string } {
  const json = join(wallpaperDir, 'metadata.json');
  if (existsSync(json)) {
    const k = (JSON.parse(readFileSync(json, 'utf8')) as { KPlugin?: { License?: string; Authors?: { Name?: string }[] } }).KPlugin;
    return { license: k?.License, author: k?.Authors?.map((a) => a.Name).filter(Boolean).join(', ') };
  }
  const desktop = join(wallpaperDir, 'metadata.desktop');
  if (existsSync(desktop)) {
    const text = readFileSync(desktop, 'utf8');
    return { license: /^X-KDE-PluginInfo-License=(.*)$/m.exec(text)?.[1], author: /^X-KDE-PluginInfo-Author=(.*)$/m.exec(text)?.[1] };
  }
  return {};
}

// ---- candidates --------------------------------------------------------------------------------------

function walk(dir: string): string[] {
  return readdirSync(dir).sort().flatMap((n) => {
    const full = join(dir, n);
    const st = lstatSync(full);
    if (st.isSymbolicLink()) return [];
    return st.isDirectory() ? walk(full) : [full];
  });
}

/** Candidate pictures of one unpacked package, paths relative to its root (see the header). */
export function candidates(root: string): string[] {
  const share = join(root, 'usr', 'share');
  if (!existsSync(share)) return [];
  const files = walk(share)
    .map((f) => relative(root, f))
    .filter((f) => /\.(png|jpe?g)$/i.test(f) && !f.startsWith('usr/share/doc/') && !/^screenshot\./i.test(basename(f)) && statSync(join(root, f)).size > 0);
  const byKey = new Map<string, string>();
  const rank = (f: string) => [/\/contents\/images\//.test(f) ? 1 : 0, statSync(join(root, f)).size];
  for (const f of files) {
    const m = /^usr\/share\/wallpapers\/([^/]+)\/contents\/images[^/]*\//.exec(f);
    const key = m ? `kde:${m[1]}` : f;
    const have = byKey.get(key);
    if (!have) byKey.set(key, f);
    else {
      const [a, b] = [rank(f), rank(have)];
      if (a[0] > b[0] || (a[0] === b[0] && a[1] > b[1])) byKey.set(key, f);
    }
  }
  return [...byKey.values()].sort();
}

// ---- main --------------------------------------------------------------------------------------------

export interface ManifestEntry {
  package: string;
  version: string;
  /** Path inside the package. */
  source: string;
  /** Stored PNG in the output directory (kept photos only). */
  file?: string;
  photo: boolean;
  reason: string;
  width: number;
  height: number;
  flatFraction: number;
  colours: number;
  texture: number;
  /** From /usr/share/doc/<package>/copyright (the stanza covering the file). */
  license: string;
  copyright: string;
  /** KDE wallpapers: what the wallpaper's own metadata says. */
  upstreamLicense?: string;
  author?: string;
}

function storedName(pkg: string, source: string): string {
  const m = /^usr\/share\/wallpapers\/([^/]+)\//.exec(source);
  const stem = m ? m[1] : basename(source).replace(/\.[^.]+$/, '');
  return `${pkg}--${stem}`.replace(/[^A-Za-z0-9._-]+/g, '_') + '.png';
}

function main(): void {
  const argv = process.argv.slice(2);
  const flag = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const source = flag('source');
  const out = flag('out');
  if (!source || !out) {
    console.error('usage: select-backgrounds.ts --source SRC --out DIR');
    process.exit(2);
  }
  mkdirSync(out, { recursive: true });
  const packages = readdirSync(source).filter((n) => statSync(join(source, n)).isDirectory()).sort();
  const entries: ManifestEntry[] = [];
  for (const pkg of packages) {
    const root = join(source, pkg);
    const versionFile = join(source, `${pkg}.version`);
    const version = existsSync(versionFile) ? readFileSync(versionFile, 'utf8').trim() : '';
    const copyrightFile = join(root, 'usr', 'share', 'doc', pkg, 'copyright');
    const stanzas = existsSync(copyrightFile) ? parseCopyright(readFileSync(copyrightFile, 'utf8')) : [];
    for (const rel of candidates(root)) {
      const image = decodeImage(readFileSync(join(root, rel)), `${pkg}:/${rel}`, { maxPixels: 60e6 });
      const m = measureImage(image);
      const decision = isPhotograph(m);
      const lic = licenceOf(stanzas, rel);
      const wallpaper = /^(usr\/share\/wallpapers\/[^/]+)\//.exec(rel);
      const kde = wallpaper ? kdeMetadata(join(root, wallpaper[1])) : {};
      const entry: ManifestEntry = {
        package: pkg, version, source: `/${rel}`, photo: decision.photo, reason: decision.reason,
        width: m.width, height: m.height, flatFraction: Number(m.flatFraction.toFixed(4)), colours: m.colours, texture: Number(m.texture.toFixed(3)),
        license: lic?.license ?? 'unknown', copyright: lic?.copyright ?? '',
        ...(kde.license ? { upstreamLicense: kde.license } : {}), ...(kde.author ? { author: kde.author } : {}),
      };
      if (decision.photo) {
        const scale = STORED_SIDE / Math.min(image.width, image.height);
        const W = Math.round(image.width * scale);
        const H = Math.round(image.height * scale);
        const rgb = resizeArea(image, W, H);
        const data = new Uint8Array(W * H * 4);
        for (let p = 0; p < W * H; p++) {
          for (let c = 0; c < 3; c++) data[4 * p + c] = Math.round(rgb[3 * p + c] * 255);
          data[4 * p + 3] = 255;
        }
        entry.file = storedName(pkg, rel);
        writeFileSync(join(out, entry.file), encodePng({ width: W, height: H, data }));
      }
      entries.push(entry);
      console.error(`${entry.photo ? 'keep' : 'skip'} ${pkg}:${entry.source} (${entry.reason})`);
    }
  }
  const manifest = {
    note: 'Training-time background photos; never commit these files. Made by scripts/fetch-backgrounds.sh.',
    rule: `photo ⇔ shorter side ≥ ${PHOTO_RULE.minShortSide} px and flat fraction < ${PHOTO_RULE.maxFlatFraction} (on a ${PHOTO_RULE.analysisSide}-px-short-side copy; flat: luma changes < ${PHOTO_RULE.flatLevels} grey level to the right and below)`,
    storedShortSide: STORED_SIDE,
    images: entries,
  };
  writeFileSync(join(out, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  console.log('package                        seen  kept  rejected');
  for (const pkg of packages) {
    const mine = entries.filter((e) => e.package === pkg);
    const kept = mine.filter((e) => e.photo).length;
    console.log(`${pkg.padEnd(30)} ${String(mine.length).padStart(4)}  ${String(kept).padStart(4)}  ${String(mine.length - kept).padStart(8)}`);
  }
  const kept = entries.filter((e) => e.photo).length;
  console.log(`${'total'.padEnd(30)} ${String(entries.length).padStart(4)}  ${String(kept).padStart(4)}  ${String(entries.length - kept).padStart(8)}`);
  console.log(`photos and manifest.json in ${out}`);
}

if (typeof process !== 'undefined' && process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
