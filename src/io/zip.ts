/**
 * Zip archive reader (what numpy's savez / savez_compressed write): stored and deflated entries,
 * zip64 sizes and offsets, CRC-32 checked. Reads the central directory, so entries written with data
 * descriptors (streamed, sizes after the data) are handled too. No encryption, no multi-disk archives.
 */
import { FileFormatError } from './errors.js';
import { inflateRaw } from './inflate.js';

let CRC_TABLE: Uint32Array | null = null;

/** CRC-32 (IEEE 802.3, as zip and PNG use). */
export function crc32(data: Uint8Array, crc = 0): number {
  if (!CRC_TABLE) {
    CRC_TABLE = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      CRC_TABLE[n] = c >>> 0;
    }
  }
  let c = ~crc >>> 0;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflated. */
  method: number;
  compressedSize: number;
  size: number;
  crc32: number;
  /** Decompresses (and CRC-checks) the entry's contents. */
  read(): Uint8Array;
}

const EOCD_SIGNATURE = 0x06054b50;
const ZIP64_EOCD_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;

export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && (bytes[2] === 3 || bytes[2] === 5) && (bytes[3] === 4 || bytes[3] === 6);
}

/** Lists the entries of a zip archive. `source` names the file in errors. */
export function readZip(bytes: Uint8Array, source = '<bytes>'): ZipEntry[] {
  const fail = (m: string): never => {
    throw new FileFormatError(`${source}: zip: ${m}`);
  };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // The end-of-central-directory record is within the last 22 + 65535 (comment) bytes.
  let eocd = -1;
  for (let p = bytes.length - 22; p >= Math.max(0, bytes.length - 22 - 65535); p--) {
    if (view.getUint32(p, true) === EOCD_SIGNATURE) {
      eocd = p;
      break;
    }
  }
  if (eocd < 0) fail('no end-of-central-directory record (not a zip file, or truncated)');
  let entryCount = view.getUint16(eocd + 10, true);
  let dirSize = view.getUint32(eocd + 12, true);
  let dirOffset = view.getUint32(eocd + 16, true);
  if (eocd >= 20 && view.getUint32(eocd - 20, true) === ZIP64_EOCD_LOCATOR) {
    const z64 = Number(view.getBigUint64(eocd - 20 + 8, true));
    if (z64 + 56 > bytes.length || view.getUint32(z64, true) !== ZIP64_EOCD) fail('zip64 end-of-central-directory record missing (corrupt)');
    entryCount = Number(view.getBigUint64(z64 + 32, true));
    dirSize = Number(view.getBigUint64(z64 + 40, true));
    dirOffset = Number(view.getBigUint64(z64 + 48, true));
  }
  if (dirOffset + dirSize > bytes.length) fail(`central directory (${dirSize} bytes at ${dirOffset}) lies past the end of the file (truncated)`);

  const entries: ZipEntry[] = [];
  let p = dirOffset;
  for (let i = 0; i < entryCount; i++) {
    if (p + 46 > bytes.length || view.getUint32(p, true) !== CENTRAL_SIGNATURE) fail(`central directory entry ${i} is corrupt`);
    const flags = view.getUint16(p + 8, true);
    const method = view.getUint16(p + 10, true);
    const crc = view.getUint32(p + 16, true);
    let compressedSize = view.getUint32(p + 20, true);
    let size = view.getUint32(p + 24, true);
    const nameLength = view.getUint16(p + 28, true);
    const extraLength = view.getUint16(p + 30, true);
    const commentLength = view.getUint16(p + 32, true);
    let localOffset = view.getUint32(p + 42, true);
    const nameBytes = bytes.subarray(p + 46, p + 46 + nameLength);
    const name = flags & 0x800 ? new TextDecoder().decode(nameBytes) : String.fromCharCode(...nameBytes);
    // Zip64 extra field (id 1): the 64-bit values of whichever fields are 0xFFFFFFFF, in this order.
    let e = p + 46 + nameLength;
    const extraEnd = e + extraLength;
    while (e + 4 <= extraEnd) {
      const id = view.getUint16(e, true);
      const len = view.getUint16(e + 2, true);
      if (id === 1) {
        let q = e + 4;
        const next = () => {
          if (q + 8 > e + 4 + len) fail(`entry "${name}": short zip64 extra field`);
          q += 8;
          return Number(view.getBigUint64(q - 8, true));
        };
        if (size === 0xffffffff) size = next();
        if (compressedSize === 0xffffffff) compressedSize = next();
        if (localOffset === 0xffffffff) localOffset = next();
      }
      e += 4 + len;
    }
    p = extraEnd + commentLength;
    if (flags & 1) fail(`entry "${name}" is encrypted`);
    if (method !== 0 && method !== 8) fail(`entry "${name}" uses compression method ${method} (only stored and deflated are supported)`);
    if (localOffset + 30 > bytes.length || view.getUint32(localOffset, true) !== LOCAL_SIGNATURE) fail(`entry "${name}": local header missing (truncated or corrupt)`);
    const dataStart = localOffset + 30 + view.getUint16(localOffset + 26, true) + view.getUint16(localOffset + 28, true);
    const entry: ZipEntry = {
      name,
      method,
      compressedSize,
      size,
      crc32: crc,
      read() {
        if (dataStart + compressedSize > bytes.length) fail(`entry "${name}" is truncated (${compressedSize} bytes from ${dataStart}, the file has ${bytes.length})`);
        const raw = bytes.subarray(dataStart, dataStart + compressedSize);
        let data: Uint8Array;
        if (method === 0) {
          if (compressedSize !== size) fail(`stored entry "${name}" has compressed size ${compressedSize} ≠ size ${size}`);
          data = raw;
        } else {
          data = inflateRaw(raw, size, `${source}: entry "${name}"`);
        }
        if (crc32(data) !== crc) fail(`entry "${name}" fails its CRC-32 check (corrupt)`);
        return data;
      },
    };
    entries.push(entry);
  }
  return entries;
}
