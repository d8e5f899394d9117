/**
 * DEFLATE decoder (RFC 1951): stored, fixed-Huffman and dynamic-Huffman blocks.
 *
 * Why our own: zip entries must decode the same in Node and the browser, synchronously.
 * `DecompressionStream('deflate-raw')` is asynchronous (streams) and missing from older browsers and
 * Node < 21.2; node:zlib is Node-only. Body-model archives are a few tens of MB at most, so a plain
 * table-driven decoder is fast enough and keeps loading synchronous.
 */
import { FileFormatError } from './errors.js';

const LENGTH_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
const LENGTH_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DIST_BASE = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577];
const DIST_EXTRA = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];
/** Order in which code-length code lengths are transmitted. */
const CODE_LENGTH_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];
const MAX_BITS = 15;

/**
 * Huffman decoding table indexed by the next `bits` input bits (LSB first): entry = symbol << 4 | code
 * length, 0 for bit patterns that are no code (incomplete codes are legal, e.g. a single distance code).
 */
interface Huffman {
  table: Int32Array;
  bits: number;
}

function buildHuffman(lengths: ArrayLike<number>, fail: (m: string) => never): Huffman {
  const counts = new Uint16Array(MAX_BITS + 1);
  let maxLength = 0;
  for (let i = 0; i < lengths.length; i++) {
    counts[lengths[i]]++;
    maxLength = Math.max(maxLength, lengths[i]);
  }
  counts[0] = 0;
  let left = 1;
  for (let len = 1; len <= MAX_BITS; len++) {
    left = left * 2 - counts[len];
    if (left < 0) fail('over-subscribed Huffman code');
  }
  // Canonical codes: first code of each length, then consecutive codes in symbol order.
  const nextCode = new Uint16Array(MAX_BITS + 2);
  for (let len = 1, code = 0; len <= MAX_BITS; len++) {
    code = (code + counts[len - 1]) << 1;
    nextCode[len] = code;
  }
  const bits = Math.max(1, maxLength);
  const table = new Int32Array(1 << bits);
  for (let sym = 0; sym < lengths.length; sym++) {
    const len = lengths[sym];
    if (!len) continue;
    const code = nextCode[len]++;
    // Codes are sent most-significant bit first; the bit reader is LSB first, so index by the reversal.
    let reversed = 0;
    for (let i = 0; i < len; i++) reversed |= ((code >>> i) & 1) << (len - 1 - i);
    for (let fill = reversed; fill < table.length; fill += 1 << len) table[fill] = (sym << 4) | len;
  }
  return { table, bits };
}

let FIXED: { lit: Huffman; dist: Huffman } | null = null;

/**
 * Inflates raw DEFLATE data. `expectedSize` (from the zip directory) pre-sizes the output and is checked.
 * `where` names the file and entry in errors.
 */
export function inflateRaw(input: Uint8Array, expectedSize: number | undefined, where: string): Uint8Array {
  const fail = (m: string): never => {
    throw new FileFormatError(`${where}: deflate stream: ${m}`);
  };
  let out = new Uint8Array(expectedSize ?? Math.max(1024, input.length * 4));
  let outLen = 0;
  const ensure = (extra: number) => {
    if (outLen + extra <= out.length) return;
    const bigger = new Uint8Array(Math.max(out.length * 2, outLen + extra));
    bigger.set(out.subarray(0, outLen));
    out = bigger;
  };
  let pos = 0;
  let bitBuf = 0;
  let bitCount = 0;
  // Past the end of the input the reader supplies zero bits, so a table lookup may peek beyond the last
  // byte; consuming any of them means the stream is truncated.
  const fill = (n: number) => {
    while (bitCount < n) {
      bitBuf |= (pos < input.length ? input[pos] : 0) << bitCount;
      pos++;
      bitCount += 8;
    }
  };
  const checkNotPastEnd = () => {
    if (pos * 8 - bitCount > input.length * 8) fail('truncated (ran out of input)');
  };
  const bits = (n: number): number => {
    fill(n);
    const v = bitBuf & ((1 << n) - 1);
    bitBuf >>>= n;
    bitCount -= n;
    checkNotPastEnd();
    return v;
  };
  const decode = (h: Huffman): number => {
    fill(h.bits);
    const entry = h.table[bitBuf & ((1 << h.bits) - 1)];
    if (entry === 0) fail('invalid Huffman code');
    const len = entry & 15;
    bitBuf >>>= len;
    bitCount -= len;
    checkNotPastEnd();
    return entry >>> 4;
  };

  let last = 0;
  while (!last) {
    last = bits(1);
    const type = bits(2);
    if (type === 0) {
      // Stored block: skip to the byte boundary; whole bytes still buffered go back to the input.
      pos -= bitCount >> 3;
      bitBuf = 0;
      bitCount = 0;
      if (pos + 4 > input.length) fail('truncated stored block header');
      const len = input[pos] | (input[pos + 1] << 8);
      const nlen = input[pos + 2] | (input[pos + 3] << 8);
      pos += 4;
      if ((len ^ 0xffff) !== nlen) fail('stored block length check failed');
      if (pos + len > input.length) fail('truncated stored block');
      ensure(len);
      out.set(input.subarray(pos, pos + len), outLen);
      outLen += len;
      pos += len;
      continue;
    }
    let lit: Huffman;
    let dist: Huffman;
    if (type === 1) {
      if (!FIXED) {
        const l = new Uint8Array(288);
        l.fill(8, 0, 144);
        l.fill(9, 144, 256);
        l.fill(7, 256, 280);
        l.fill(8, 280, 288);
        FIXED = { lit: buildHuffman(l, fail), dist: buildHuffman(new Uint8Array(30).fill(5), fail) };
      }
      ({ lit, dist } = FIXED);
    } else if (type === 2) {
      const nlen = bits(5) + 257;
      const ndist = bits(5) + 1;
      const ncode = bits(4) + 4;
      if (nlen > 286 || ndist > 30) fail('bad dynamic block counts');
      const codeLengths = new Uint8Array(19);
      for (let i = 0; i < ncode; i++) codeLengths[CODE_LENGTH_ORDER[i]] = bits(3);
      const lenCode = buildHuffman(codeLengths, fail);
      const lengths = new Uint8Array(nlen + ndist);
      for (let i = 0; i < nlen + ndist; ) {
        const sym = decode(lenCode);
        if (sym < 16) {
          lengths[i++] = sym;
          continue;
        }
        let repeat: number;
        let value = 0;
        if (sym === 16) {
          if (i === 0) fail('repeat of a code length with no previous length');
          value = lengths[i - 1];
          repeat = 3 + bits(2);
        } else if (sym === 17) repeat = 3 + bits(3);
        else repeat = 11 + bits(7);
        if (i + repeat > nlen + ndist) fail('code lengths overflow');
        lengths.fill(value, i, i + repeat);
        i += repeat;
      }
      if (lengths[256] === 0) fail('no end-of-block code');
      lit = buildHuffman(lengths.subarray(0, nlen), fail);
      dist = buildHuffman(lengths.subarray(nlen), fail);
    } else {
      return fail('invalid block type 3');
    }
    for (;;) {
      const sym = decode(lit);
      if (sym < 256) {
        ensure(1);
        out[outLen++] = sym;
      } else if (sym === 256) {
        break;
      } else {
        const li = sym - 257;
        if (li >= 29) fail(`invalid length symbol ${sym}`);
        const length = LENGTH_BASE[li] + bits(LENGTH_EXTRA[li]);
        const di = decode(dist);
        if (di >= 30) fail(`invalid distance symbol ${di}`);
        const distance = DIST_BASE[di] + bits(DIST_EXTRA[di]);
        if (distance > outLen) fail(`distance ${distance} reaches before the start of the output`);
        ensure(length);
        // Byte-by-byte: source and destination may overlap (distance < length repeats a run).
        for (let k = 0; k < length; k++, outLen++) out[outLen] = out[outLen - distance];
      }
    }
  }
  if (expectedSize !== undefined && outLen !== expectedSize) fail(`inflated to ${outLen} bytes, the zip directory says ${expectedSize}`);
  return out.length === outLen ? out : out.subarray(0, outLen);
}
