/**
 * Picture bytes → upright 8-bit RGBA pixels, for commands that take a photo (`nbf landmarks IMAGE`,
 * `nbf fit photo.jpg`). PNG goes through pngjs, JPEG through jpeg-js; the format is sniffed from the
 * magic bytes, never from the file name, because users rename files and browsers hand us nameless blobs.
 * JPEG EXIF orientation is applied here (jpeg-js ignores it), so a phone portrait comes out standing up.
 *
 * No Node built-ins are imported here so the same code can go into the browser bundle; reading a file
 * from disk lives in image-file.ts.
 */
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { NbfError } from '../runtime/errors.js';

/**
 * 8-bit RGBA pixels, row-major from the top-left, `width * height * 4` bytes. A browser ImageData
 * (Uint8ClampedArray) is one as it is.
 */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8Array | Uint8ClampedArray;
}

export interface DecodeImageOptions {
  /** Refuse pictures with more pixels than this, before decoding. Default {@link DEFAULT_MAX_PIXELS}. */
  maxPixels?: number;
}

/**
 * 40 megapixels: above any phone or consumer camera photo we expect, yet bounded so a hostile header
 * (a 65535×65535 JPEG is 17 bytes of header) cannot make us allocate gigabytes.
 */
export const DEFAULT_MAX_PIXELS = 40e6;

/** A picture could not be decoded: not PNG/JPEG, truncated, corrupt, unsupported, empty or too large. Names the file. */
export class ImageError extends NbfError {}

export type ImageFormat = 'png' | 'jpeg';

/** The format from the first bytes (PNG 89 'PNG', JPEG FF D8 FF), or null for anything else. */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | null {
  // Only the first four bytes of the PNG signature: a PNG whose CR/LF bytes were mangled by a text-mode
  // transfer is still reported as a corrupt PNG (more useful than "not a picture").
  if (bytes.length >= 4 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return null;
}

/**
 * Decodes a PNG or JPEG into upright RGBA. `name` (a path, a URL, an upload's file name) is only used
 * in error messages. Every failure is an {@link ImageError} naming `name`.
 */
export function decodeImage(bytes: Uint8Array, name: string, options: DecodeImageOptions = {}): RgbaImage {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (!(maxPixels > 0)) throw new ImageError(`${name}: maxPixels must be a positive number, got ${maxPixels}`);
  if (bytes.length === 0) throw new ImageError(`${name}: is empty (0 bytes), not a picture`);
  switch (sniffImageFormat(bytes)) {
    case 'png': return decodePng(bytes, name, maxPixels);
    case 'jpeg': return decodeJpeg(bytes, name, maxPixels);
    default: throw new ImageError(`${name}: is not a PNG or JPEG picture`);
  }
}

/** RGBA → PNG file bytes (8-bit RGBA, pngjs), the inverse of decodeImage for PNGs. */
export function encodePng(image: RgbaImage): Uint8Array {
  const { width, height, data } = image;
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new ImageError(`encodePng: width and height must be positive integers, got ${width}×${height}`);
  }
  if (data.length !== width * height * 4) {
    throw new ImageError(`encodePng: ${width}×${height} RGBA needs ${width * height * 4} bytes, got ${data.length}`);
  }
  const png = new PNG({ width, height });
  png.data.set(data);
  const out = PNG.sync.write(png);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** Zero-size and too-large checks, done on the header's dimensions so nothing big is allocated first. */
function checkDimensions(name: string, format: string, width: number, height: number, maxPixels: number): void {
  if (width === 0 || height === 0) throw new ImageError(`${name}: ${format} picture has zero size (${width}×${height})`);
  const pixels = width * height;
  if (pixels > maxPixels) {
    throw new ImageError(
      `${name}: ${format} picture is ${width}×${height} (${(pixels / 1e6).toFixed(1)} megapixels), ` +
        `more than the limit of ${(maxPixels / 1e6).toFixed(1)} megapixels`,
    );
  }
}

/**
 * pngjs reads through Node's Buffer methods (readUInt32BE …), which a plain Uint8Array lacks.
 * A view, not a copy.
 */
function asBuffer(bytes: Uint8Array): Buffer {
  if (typeof Buffer === 'undefined') {
    throw new ImageError('PNG decoding needs a global Buffer (pngjs); provide a Buffer polyfill in the browser');
  }
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function decodePng(bytes: Uint8Array, name: string, maxPixels: number): RgbaImage {
  // 8-byte signature, then IHDR must come first: length (4) 'IHDR' (4) width (4) height (4) …
  if (bytes.length < 24) throw new ImageError(`${name}: truncated PNG (${bytes.length} bytes, no complete header)`);
  if (bytes[12] !== 0x49 || bytes[13] !== 0x48 || bytes[14] !== 0x44 || bytes[15] !== 0x52) {
    throw new ImageError(`${name}: corrupt PNG (no IHDR chunk after the signature)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  checkDimensions(name, 'PNG', view.getUint32(16), view.getUint32(20), maxPixels);
  let png: PNG;
  try {
    // pngjs expands palette/greyscale/low bit depths to RGBA and rescales 16-bit to 8-bit; CRCs are checked.
    png = PNG.sync.read(asBuffer(bytes));
  } catch (e) {
    if (e instanceof ImageError) throw e;
    throw new ImageError(`${name}: truncated or corrupt PNG (${(e as Error).message})`);
  }
  const { width, height, data } = png;
  if (data.length !== width * height * 4) {
    throw new ImageError(`${name}: corrupt PNG (decoded ${data.length} bytes for ${width}×${height} RGBA)`);
  }
  return { width, height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/** What the JPEG header says, read before handing the bytes to jpeg-js. */
interface JpegHeader {
  width: number;
  height: number;
  components: number;
  /** EXIF orientation 1–8; 1 when there is no (valid) EXIF. */
  orientation: number;
}

const JPEG_CODINGS: Record<number, string> = {
  0xc3: 'lossless', 0xc5: 'differential (hierarchical)', 0xc6: 'differential progressive (hierarchical)',
  0xc7: 'differential lossless (hierarchical)', 0xc9: 'arithmetic-coded', 0xca: 'arithmetic-coded progressive',
  0xcb: 'arithmetic-coded lossless', 0xcd: 'arithmetic-coded differential', 0xce: 'arithmetic-coded differential',
  0xcf: 'arithmetic-coded differential lossless',
};

/**
 * Walks the marker segments up to the first scan: the frame size (for the size limit before any
 * decoding), the EXIF orientation (jpeg-js does not apply it), and clear errors for truncation and
 * codings jpeg-js cannot decode. Malformed structure that is not a truncation is left to jpeg-js,
 * which recovers from some of it (e.g. phones writing broken APP1 lengths).
 */
function readJpegHeader(bytes: Uint8Array, name: string): Partial<JpegHeader> & { orientation: number } {
  const n = bytes.length;
  const header: Partial<JpegHeader> & { orientation: number } = { orientation: 1 };
  let exifSeen = false;
  let p = 2; // after SOI
  for (;;) {
    if (p >= n) throw new ImageError(`${name}: truncated JPEG (ends in the header, at byte ${n})`);
    if (bytes[p] !== 0xff) return header; // not where a marker should be: jpeg-js decides
    while (p < n && bytes[p] === 0xff) p++; // any number of 0xFF fill bytes may precede a marker
    if (p >= n) throw new ImageError(`${name}: truncated JPEG (ends in the header, at byte ${n})`);
    const marker = bytes[p++];
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue; // no length field
    if (marker === 0xd9) throw new ImageError(`${name}: corrupt JPEG (end-of-image marker before any image data)`);
    if (p + 2 > n) throw new ImageError(`${name}: truncated JPEG (ends in the header, at byte ${n})`);
    const length = (bytes[p] << 8) | bytes[p + 1];
    const end = p + length;
    if (length < 2) return header;
    if (end > n) throw new ImageError(`${name}: truncated JPEG (a header segment runs past the end, at byte ${n})`);
    const segment = bytes.subarray(p + 2, end);
    if (marker === 0xda) return header; // start of scan: entropy-coded data follows, the header is over
    if (marker === 0xe1 && !exifSeen && isExif(segment)) {
      // The first Exif APP1 is the camera's; later ones (rare) are ignored. XMP APP1s are not 'Exif'.
      exifSeen = true;
      header.orientation = exifOrientation(segment.subarray(6));
    } else if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      const coding = JPEG_CODINGS[marker];
      if (coding) throw new ImageError(`${name}: unsupported JPEG (${coding} coding; only baseline and progressive)`);
      if (segment.length < 6) throw new ImageError(`${name}: corrupt JPEG (short frame header)`);
      if (segment[0] !== 8) throw new ImageError(`${name}: unsupported JPEG (${segment[0]}-bit samples; only 8-bit)`);
      header.height = (segment[1] << 8) | segment[2];
      header.width = (segment[3] << 8) | segment[4];
      header.components = segment[5];
      // jpeg-js converts 1 (grey), 2, 3 (YCbCr/RGB) and 4 (Adobe CMYK/YCCK) components; refuse the rest
      // here, before it allocates coefficient blocks for every one of them.
      if (header.components < 1 || header.components > 4) {
        throw new ImageError(`${name}: unsupported JPEG (${header.components} colour components)`);
      }
    }
    p = end;
  }
}

function isExif(segment: Uint8Array): boolean {
  // 'Exif' 00, then a pad byte (normally 00) before the TIFF header.
  return segment.length >= 6 && segment[0] === 0x45 && segment[1] === 0x78 && segment[2] === 0x69 && segment[3] === 0x66 && segment[4] === 0;
}

/**
 * Orientation (tag 0x0112) from IFD0 of the TIFF structure inside an Exif APP1, in either byte order
 * ('II' little-endian, 'MM' big-endian). Anything malformed gives 1: broken metadata should not stop
 * us using pixels that decode fine.
 */
export function exifOrientation(tiff: Uint8Array): number {
  if (tiff.length < 8) return 1;
  let little: boolean;
  if (tiff[0] === 0x49 && tiff[1] === 0x49) little = true;
  else if (tiff[0] === 0x4d && tiff[1] === 0x4d) little = false;
  else return 1;
  const view = new DataView(tiff.buffer, tiff.byteOffset, tiff.byteLength);
  if (view.getUint16(2, little) !== 42) return 1;
  const ifd0 = view.getUint32(4, little);
  if (ifd0 < 8 || ifd0 + 2 > tiff.length) return 1;
  const count = view.getUint16(ifd0, little);
  for (let i = 0; i < count; i++) {
    const entry = ifd0 + 2 + 12 * i;
    if (entry + 12 > tiff.length) return 1;
    if (view.getUint16(entry, little) !== 0x0112) continue;
    const type = view.getUint16(entry + 2, little);
    // The standard says SHORT (3); a few writers use LONG (4). The value sits left-aligned in the 4-byte field.
    const value = type === 3 ? view.getUint16(entry + 8, little) : type === 4 ? view.getUint32(entry + 8, little) : 0;
    return value >= 1 && value <= 8 ? value : 1;
  }
  return 1;
}

/**
 * Turns stored pixels upright for an EXIF orientation: 2 mirror, 3 rotate 180°, 4 flip, 5 transpose,
 * 6 rotate 90° clockwise, 7 transverse, 8 rotate 90° anticlockwise. 5–8 swap width and height.
 */
export function applyExifOrientation(image: RgbaImage, orientation: number): RgbaImage {
  if (orientation < 2 || orientation > 8) return image;
  const { width: w, height: h } = image;
  const swap = orientation >= 5;
  const W = swap ? h : w;
  const H = swap ? w : h;
  // Output pixel (x, y) reads stored pixel (sx, sy); both are affine in x and y, so the stored index
  // starts at `start` for each row and moves by `dx` per output column and `dy` per output row.
  let start: number, dx: number, dy: number;
  switch (orientation) {
    case 2: start = w - 1; dx = -1; dy = w; break; // sx = w-1-x, sy = y
    case 3: start = w * h - 1; dx = -1; dy = -w; break; // sx = w-1-x, sy = h-1-y
    case 4: start = (h - 1) * w; dx = 1; dy = -w; break; // sx = x, sy = h-1-y
    case 5: start = 0; dx = w; dy = 1; break; // sx = y, sy = x
    case 6: start = (h - 1) * w; dx = -w; dy = 1; break; // sx = y, sy = h-1-x
    case 7: start = w * h - 1; dx = -w; dy = -1; break; // sx = w-1-y, sy = h-1-x
    default: start = w - 1; dx = w; dy = -1; break; // 8: sx = w-1-y, sy = x
  }
  // One 32-bit word per pixel; copy first if the input view is not 4-byte aligned.
  const src8 = image.data.byteOffset % 4 === 0 ? image.data : image.data.slice();
  const src = new Uint32Array(src8.buffer, src8.byteOffset, w * h);
  const data = new Uint8Array(W * H * 4);
  const out = new Uint32Array(data.buffer);
  let o = 0;
  for (let y = 0; y < H; y++) {
    let i = start + y * dy;
    for (let x = 0; x < W; x++, i += dx) out[o++] = src[i];
  }
  return { width: W, height: H, data };
}

function decodeJpeg(bytes: Uint8Array, name: string, maxPixels: number): RgbaImage {
  const header = readJpegHeader(bytes, name);
  if (header.width !== undefined && header.height !== undefined) {
    checkDimensions(name, 'JPEG', header.width, header.height, maxPixels);
  }
  // jpeg-js's own limits as a backstop, derived from ours so they never refuse a picture we accepted:
  // resolution from maxPixels (it checks every frame header, also ones our walk did not reach), memory
  // from its accounting — per component 4 bytes/sample of coefficients + 1 of samples over the MCU-padded
  // frame, then 1 byte/sample per component and 4 of RGBA output. Sampling factors ≤ 4 → padding ≤ 32.
  // Where our walk stopped before the frame header, budget for the largest picture we would accept.
  const known = header.width !== undefined && header.height !== undefined;
  const pixels = known ? header.width! * header.height! : maxPixels;
  const padded = known ? (header.width! + 32) * (header.height! + 32) : maxPixels + 64 * Math.sqrt(maxPixels) + 1024;
  const components = header.components ?? 4;
  const budgetBytes = padded * components * 5 + pixels * (components + 4);
  let decoded: { width: number; height: number; data: Uint8Array };
  try {
    decoded = jpeg.decode(bytes, {
      useTArray: true, // plain Uint8Array output: no Buffer needed, works in the browser
      formatAsRGBA: true, // greyscale → R=G=B, CMYK/YCCK (Adobe) → RGB, alpha 255
      maxResolutionInMP: (maxPixels + 0.5) / 1e6, // + 0.5: float rounding must not refuse exactly maxPixels
      maxMemoryUsageInMB: Math.ceil(budgetBytes / 2 ** 20) + 16, // + tables and slack
    });
  } catch (e) {
    throw new ImageError(`${name}: truncated, corrupt or unsupported JPEG (${(e as Error).message})`);
  }
  const { width, height, data } = decoded;
  checkDimensions(name, 'JPEG', width, height, maxPixels);
  if (data.length !== width * height * 4) {
    throw new ImageError(`${name}: corrupt JPEG (decoded ${data.length} bytes for ${width}×${height} RGBA)`);
  }
  return applyExifOrientation({ width, height, data }, header.orientation);
}

/**
 * Float RGB in [0, 1] (row-major, 3 per pixel; the renderer's and synthetic generator's output) →
 * an opaque 8-bit RGBA picture. `first` is the pixel to start at (picture n of a batch: n·w·h).
 */
export function rgbFloatsToImage(rgb: ArrayLike<number>, width: number, height: number, first = 0): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    for (let c = 0; c < 3; c++) data[4 * i + c] = Math.round(Math.min(1, Math.max(0, rgb[3 * (first + i) + c])) * 255);
    data[4 * i + 3] = 255;
  }
  return { width, height, data };
}
