// Picture bytes → RGBA (src/io/image.ts, src/io/image-file.ts): PNG colour types, JPEG, EXIF orientation,
// and errors that name the file. Every picture is built here; no GPU needed.
import { describe, expect, it } from 'vitest';
import { deflateSync } from 'node:zlib';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import {
  applyExifOrientation, decodeImage, encodePng, ImageError, sniffImageFormat, type RgbaImage,
} from '../src/io/image.js';
import { readImageFile } from '../src/io/image-file.js';
import { NbfError } from '../src/runtime/errors.js';

type Rgb = [number, number, number];
const RED: Rgb = [230, 20, 20];
const GREEN: Rgb = [20, 200, 40];
const BLUE: Rgb = [30, 40, 220];
const YELLOW: Rgb = [240, 230, 30];

function image(width: number, height: number, pixel: (x: number, y: number) => [number, number, number, number]): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set(pixel(x, y), 4 * (y * width + x));
  return { width, height, data };
}

/** Four flat quadrants, [top-left, top-right, bottom-left, bottom-right]. */
function quadrants(width: number, height: number, [tl, tr, bl, br]: Rgb[]): RgbaImage {
  return image(width, height, (x, y) => {
    const c = y < height / 2 ? (x < width / 2 ? tl : tr) : x < width / 2 ? bl : br;
    return [...c, 255];
  });
}

function jpegOf(img: RgbaImage, quality = 95): Uint8Array {
  return new Uint8Array(jpeg.encode({ data: img.data, width: img.width, height: img.height }, quality).data);
}

function pngOf(width: number, height: number, data: Uint8Array | Uint8ClampedArray, colorType: 0 | 2 | 4 | 6, bitDepth: 8 | 16 = 8): Uint8Array {
  const opts = { width, height, colorType, inputColorType: colorType, bitDepth, inputHasAlpha: colorType >= 4 };
  const png = new PNG(opts);
  png.data = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(PNG.sync.write(png, opts));
}

/**
 * An APP1 Exif segment whose IFD0 has two entries, Make then Orientation (so the parser must walk the
 * IFD, not just read its first entry), in little- ('II') or big-endian ('MM') byte order.
 */
function exifSegment(orientation: number, order: 'II' | 'MM'): Uint8Array {
  const le = order === 'II';
  const tiff = new Uint8Array(8 + 2 + 2 * 12 + 4);
  const v = new DataView(tiff.buffer);
  tiff[0] = tiff[1] = order.charCodeAt(0);
  v.setUint16(2, 42, le);
  v.setUint32(4, 8, le); // IFD0 right after the header
  v.setUint16(8, 2, le);
  v.setUint16(10, 0x010f, le); v.setUint16(12, 2, le); v.setUint32(14, 4, le); tiff.set([0x43, 0x61, 0x6d, 0], 18); // Make "Cam"
  v.setUint16(22, 0x0112, le); v.setUint16(24, 3, le); v.setUint32(26, 1, le); v.setUint16(30, orientation, le);
  v.setUint32(34, 0, le); // no IFD1
  const payload = new Uint8Array([0x45, 0x78, 0x69, 0x66, 0, 0, ...tiff]); // 'Exif' 00 00
  return new Uint8Array([0xff, 0xe1, (payload.length + 2) >> 8, (payload.length + 2) & 255, ...payload]);
}

/** The JPEG with the segment inserted right after SOI, where cameras put their Exif APP1. */
function withSegment(jpg: Uint8Array, segment: Uint8Array): Uint8Array {
  const out = new Uint8Array(jpg.length + segment.length);
  out.set(jpg.subarray(0, 2));
  out.set(segment, 2);
  out.set(jpg.subarray(2), 2 + segment.length);
  return out;
}

/** Offset of the first SOF0 segment's marker in a jpeg-js-encoded file. */
function sof0(jpg: Uint8Array): number {
  for (let i = 2; i < jpg.length - 1; i++) if (jpg[i] === 0xff && jpg[i + 1] === 0xc0) return i;
  throw new Error('no SOF0');
}

function meanAbsError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] - b[i]);
  return sum / a.length;
}

function maxAbsError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

function expectImageError(f: () => unknown, ...parts: (string | RegExp)[]): void {
  let error: unknown;
  try { f(); } catch (e) { error = e; }
  expect(error).toBeInstanceOf(ImageError);
  expect(error).toBeInstanceOf(NbfError);
  const message = (error as Error).message;
  expect(message).not.toContain('\n');
  for (const p of parts) expect(message).toMatch(p);
}

async function expectImageErrorAsync(p: Promise<unknown>, ...parts: (string | RegExp)[]): Promise<void> {
  const error = await p.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ImageError);
  for (const part of parts) expect((error as Error).message).toMatch(part);
}

// --- CRC-32 and chunks, to hand-build a palette PNG (pngjs cannot write one). ---
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 255] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + body.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, body.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(body, 8);
  v.setUint32(8 + body.length, crc32(out.subarray(4, 8 + body.length)));
  return out;
}
function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

describe('sniffing', () => {
  it('goes by magic bytes, not by name', () => {
    const png = encodePng(quadrants(4, 4, [RED, GREEN, BLUE, YELLOW]));
    const jpg = jpegOf(quadrants(16, 16, [RED, GREEN, BLUE, YELLOW]));
    expect(sniffImageFormat(png)).toBe('png');
    expect(sniffImageFormat(jpg)).toBe('jpeg');
    expect(sniffImageFormat(new TextEncoder().encode('hello'))).toBeNull();
    // A PNG named .jpg and a JPEG named .png decode as what they are.
    expect(decodeImage(png, 'photo.jpg').width).toBe(4);
    expect(decodeImage(jpg, 'map.png').width).toBe(16);
  });
});

describe('PNG', () => {
  it('RGBA round trip is exact, alpha kept', () => {
    const src = image(7, 5, (x, y) => [x * 30, y * 50, (x * y * 17) & 255, 40 + x * 20 + y]);
    expect(decodeImage(encodePng(src), 'a.png')).toEqual({ width: 7, height: 5, data: src.data });
    expect(decodeImage(pngOf(7, 5, src.data, 6), 'b.png').data).toEqual(src.data);
  });

  it('greyscale → R = G = B = grey, opaque', () => {
    const grey = Uint8Array.from({ length: 6 * 3 }, (_, i) => i * 13);
    const out = decodeImage(pngOf(6, 3, grey, 0), 'grey.png');
    expect([out.width, out.height]).toEqual([6, 3]);
    for (let i = 0; i < grey.length; i++) expect([...out.data.subarray(4 * i, 4 * i + 4)]).toEqual([grey[i], grey[i], grey[i], 255]);
  });

  it('greyscale + alpha and RGB', () => {
    const ga = Uint8Array.from({ length: 4 * 2 * 2 }, (_, i) => (i % 2 ? 100 + i : i * 9));
    const outGa = decodeImage(pngOf(4, 2, ga, 4), 'ga.png');
    for (let i = 0; i < 8; i++) expect([...outGa.data.subarray(4 * i, 4 * i + 4)]).toEqual([ga[2 * i], ga[2 * i], ga[2 * i], ga[2 * i + 1]]);
    const rgb = Uint8Array.from({ length: 4 * 2 * 3 }, (_, i) => i * 10);
    const outRgb = decodeImage(pngOf(4, 2, rgb, 2), 'rgb.png');
    for (let i = 0; i < 8; i++) expect([...outRgb.data.subarray(4 * i, 4 * i + 4)]).toEqual([rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2], 255]);
  });

  it('16-bit RGBA → 8-bit', () => {
    const src = image(3, 2, (x, y) => [x * 80, y * 200, 7, 255 - x]);
    const wide = new Uint16Array(src.data.length);
    for (let i = 0; i < wide.length; i++) wide[i] = src.data[i] * 257; // 8-bit v as 16-bit is v·257
    const png = pngOf(3, 2, new Uint8Array(wide.buffer), 6, 16);
    expect(png[24]).toBe(16); // IHDR bit depth: really a 16-bit file
    expect(decodeImage(png, 'deep.png').data).toEqual(src.data);
  });

  it('palette with transparency (hand-built: PLTE + tRNS)', () => {
    const ihdr = new Uint8Array(13);
    const v = new DataView(ihdr.buffer);
    v.setUint32(0, 3); v.setUint32(4, 2); ihdr.set([8, 3, 0, 0, 0], 8); // 3×2, 8-bit, colour type 3
    const plte = new Uint8Array([...RED, ...GREEN, ...BLUE]);
    const trns = new Uint8Array([255, 128]); // entry 2 (blue) has no entry → opaque
    const raw = new Uint8Array([0, 0, 1, 2, 0, 2, 1, 0]); // filter byte 0 + 3 indices per row
    const png = concat(
      new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      chunk('IHDR', ihdr), chunk('PLTE', plte), chunk('tRNS', trns),
      chunk('IDAT', new Uint8Array(deflateSync(raw))), chunk('IEND', new Uint8Array(0)),
    );
    const out = decodeImage(png, 'palette.png');
    expect([...out.data]).toEqual([
      ...RED, 255, ...GREEN, 128, ...BLUE, 255,
      ...BLUE, 255, ...GREEN, 128, ...RED, 255,
    ]);
  });

  it('data is a plain Uint8Array view of width·height·4 bytes', () => {
    const out = decodeImage(encodePng(quadrants(4, 2, [RED, GREEN, BLUE, YELLOW])), 'v.png');
    expect(out.data).toBeInstanceOf(Uint8Array);
    expect(out.data.length).toBe(4 * 2 * 4);
  });
});

describe('JPEG', () => {
  it('decodes close to the source at quality 95', () => {
    const src = image(64, 48, (x, y) => [x * 4, y * 5, 128 + ((x - y) >> 1), 255]);
    const out = decodeImage(jpegOf(src, 95), 'smooth.jpg');
    expect([out.width, out.height]).toEqual([64, 48]);
    expect(meanAbsError(out.data, src.data)).toBeLessThan(2);
    for (let i = 3; i < out.data.length; i += 4) expect(out.data[i]).toBe(255);
  });

  it('a JPEG with 0xFF fill bytes before a marker and a non-Exif APP1 (XMP) decodes', () => {
    const src = quadrants(32, 16, [RED, GREEN, BLUE, YELLOW]);
    const xmp = new TextEncoder().encode('http://ns.adobe.com/xap/1.0/\0<x:xmpmeta/>');
    const app1 = new Uint8Array([0xff, 0xff, 0xe1, (xmp.length + 2) >> 8, (xmp.length + 2) & 255, ...xmp]);
    const out = decodeImage(withSegment(jpegOf(src), app1), 'xmp.jpg');
    expect([out.width, out.height]).toEqual([32, 16]);
    expect(maxAbsError(out.data, src.data)).toBeLessThan(12);
  });
});

/**
 * The upright picture is 64×32 with quadrants [red, green, / blue, yellow]. For each EXIF orientation,
 * how a camera stores it: the stored picture's quadrants and size, worked out from the EXIF 2.3 wording
 * ("the 0th row is the visual right-hand side, the 0th column is the visual top" for 6, and so on).
 * Quadrants are multiples of 16 pixels so 4:2:0 JPEG blocks never straddle two colours.
 */
const UPRIGHT = [RED, GREEN, BLUE, YELLOW];
const STORED: Record<number, { quadrants: Rgb[]; swap: boolean }> = {
  1: { quadrants: [RED, GREEN, BLUE, YELLOW], swap: false },
  2: { quadrants: [GREEN, RED, YELLOW, BLUE], swap: false }, // mirrored left ↔ right
  3: { quadrants: [YELLOW, BLUE, GREEN, RED], swap: false }, // upside down
  4: { quadrants: [BLUE, YELLOW, RED, GREEN], swap: false }, // mirrored top ↔ bottom
  5: { quadrants: [RED, BLUE, GREEN, YELLOW], swap: true }, // transposed
  6: { quadrants: [GREEN, YELLOW, RED, BLUE], swap: true }, // camera turned right: needs 90° clockwise
  7: { quadrants: [YELLOW, GREEN, BLUE, RED], swap: true }, // transverse
  8: { quadrants: [BLUE, RED, YELLOW, GREEN], swap: true }, // camera turned left: needs 90° anticlockwise
};

describe('EXIF orientation', () => {
  for (const order of ['II', 'MM'] as const) {
    for (let o = 1; o <= 8; o++) {
      it(`orientation ${o} (${order}) comes out upright`, () => {
        const { quadrants: q, swap } = STORED[o];
        const stored = swap ? quadrants(32, 64, q) : quadrants(64, 32, q);
        const out = decodeImage(withSegment(jpegOf(stored), exifSegment(o, order)), `o${o}.jpg`);
        expect([out.width, out.height]).toEqual([64, 32]);
        expect(maxAbsError(out.data, quadrants(64, 32, UPRIGHT).data)).toBeLessThan(12);
      });
    }
  }

  it('applyExifOrientation is exact on a small 6×4 picture, all 8 orientations', () => {
    for (let o = 1; o <= 8; o++) {
      const { quadrants: q, swap } = STORED[o];
      const stored = swap ? quadrants(4, 6, q) : quadrants(6, 4, q);
      expect(applyExifOrientation(stored, o), `orientation ${o}`).toEqual(quadrants(6, 4, UPRIGHT));
    }
  });

  it('applyExifOrientation moves single pixels where EXIF says (3×2, orientation 6 and 8)', () => {
    // Stored rows: a b c / d e f. 6 (rotate clockwise) → d a / e b / f c; 8 (anticlockwise) → c f / b e / a d.
    const stored = image(3, 2, (x, y) => [y * 3 + x, 0, 0, 255]);
    const reds = (img: RgbaImage) => [...img.data].filter((_, i) => i % 4 === 0);
    const r6 = applyExifOrientation(stored, 6);
    expect([r6.width, r6.height, ...reds(r6)]).toEqual([2, 3, 3, 0, 4, 1, 5, 2]);
    const r8 = applyExifOrientation(stored, 8);
    expect([r8.width, r8.height, ...reds(r8)]).toEqual([2, 3, 2, 5, 1, 4, 0, 3]);
  });

  it('an out-of-range orientation or a broken TIFF header is ignored', () => {
    const src = quadrants(64, 32, UPRIGHT);
    const bad = exifSegment(9, 'II');
    const out = decodeImage(withSegment(jpegOf(src), bad), 'o9.jpg');
    expect([out.width, out.height]).toEqual([64, 32]);
    const broken = exifSegment(6, 'MM');
    broken[10] = 0x58; // 'XM' is no byte order
    expect(decodeImage(withSegment(jpegOf(src), broken), 'broken.jpg').width).toBe(64);
  });
});

describe('errors name the file', () => {
  const png = encodePng(quadrants(64, 32, UPRIGHT));
  const jpg = jpegOf(quadrants(64, 32, UPRIGHT));

  it('truncated PNG', () => {
    for (const n of [png.length - 20, Math.floor(png.length / 2), 40, 20, 8]) {
      expectImageError(() => decodeImage(png.subarray(0, n), `cut${n}.png`), `cut${n}.png`, /PNG/);
    }
  });

  it('corrupt PNG (a flipped byte fails the CRC)', () => {
    const bad = png.slice();
    bad[Math.floor(bad.length / 2)] ^= 0xff;
    expectImageError(() => decodeImage(bad, 'flipped.png'), 'flipped.png', /corrupt PNG/);
  });

  it('truncated JPEG, at every kind of place', () => {
    for (const n of [jpg.length - 1, jpg.length - 2, Math.floor(jpg.length / 2), 300, 30, 5, 3]) {
      expectImageError(() => decodeImage(jpg.subarray(0, n), `cut${n}.jpg`), `cut${n}.jpg`, /JPEG/);
    }
  });

  it('random bytes, an empty file, a text file named .jpg', () => {
    let s = 12345;
    const noise = Uint8Array.from({ length: 1000 }, () => ((s = (s * 1103515245 + 12345) >>> 0) >>> 16) & 255);
    noise[0] = 0x42;
    expectImageError(() => decodeImage(noise, 'noise.bin'), 'noise.bin', 'is not a PNG or JPEG picture');
    expectImageError(() => decodeImage(new Uint8Array(0), 'empty.png'), 'empty.png', /empty/);
    const text = new TextEncoder().encode('This is not a photo.\n');
    expectImageError(() => decodeImage(text, 'notes.jpg'), 'notes.jpg', 'is not a PNG or JPEG picture');
  });

  it('JPEG magic followed by junk', () => {
    const junk = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 16, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 0x12, 0x34, 0x56]);
    expectImageError(() => decodeImage(junk, 'junk.jpg'), 'junk.jpg', /JPEG/);
  });

  it('zero-size pictures', () => {
    const empty = new Uint8Array(PNG.sync.write(new PNG({ width: 0, height: 0 })));
    expectImageError(() => decodeImage(empty, 'zero.png'), 'zero.png', /zero size/);
    const flat = jpg.slice();
    flat[sof0(flat) + 5] = 0; flat[sof0(flat) + 6] = 0; // SOF0 height = 0
    expectImageError(() => decodeImage(flat, 'zero.jpg'), 'zero.jpg', /zero size/);
  });

  it('maxPixels: refused with the size, exactly the limit is fine', () => {
    expectImageError(() => decodeImage(png, 'big.png', { maxPixels: 2047 }), 'big.png', '64×32', /megapixels/);
    expectImageError(() => decodeImage(jpg, 'big.jpg', { maxPixels: 2047 }), 'big.jpg', '64×32', /megapixels/);
    expect(decodeImage(png, 'ok.png', { maxPixels: 2048 }).width).toBe(64);
    expect(decodeImage(jpg, 'ok.jpg', { maxPixels: 2048 }).width).toBe(64);
  });

  it('a huge header is refused before decoding (not reported as truncated)', () => {
    const hugePng = png.slice(0, 33); // signature + IHDR only
    new DataView(hugePng.buffer).setUint32(16, 100000);
    new DataView(hugePng.buffer).setUint32(20, 100000);
    expectImageError(() => decodeImage(hugePng, 'huge.png'), 'huge.png', '100000×100000', /limit/);
    const hugeJpg = jpg.slice();
    hugeJpg.set([0xff, 0xff, 0xff, 0xff], sof0(hugeJpg) + 5); // 65535×65535
    expectImageError(() => decodeImage(hugeJpg, 'huge.jpg'), 'huge.jpg', '65535×65535', /limit/);
  });
});

describe('readImageFile', () => {
  it('reads a file; missing or unreadable paths are ImageErrors naming the path', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nbf-image-'));
    try {
      const path = join(dir, 'picture.jpeg');
      await writeFile(path, jpegOf(quadrants(32, 16, UPRIGHT)));
      const img = await readImageFile(path);
      expect([img.width, img.height]).toEqual([32, 16]);
      const missing = join(dir, 'nope.jpg');
      await expectImageErrorAsync(readImageFile(missing), missing, /no such file/);
      await expectImageErrorAsync(readImageFile(dir), dir, /cannot read/);
      await expectImageErrorAsync(readImageFile(path, { maxPixels: 100 }), path, /megapixels/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('encodePng', () => {
  it('refuses a data length that does not match the size', () => {
    expectImageError(() => encodePng({ width: 2, height: 2, data: new Uint8Array(15) }), /16 bytes/);
  });
});
