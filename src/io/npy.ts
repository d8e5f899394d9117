/**
 * numpy .npy (format versions 1.0, 2.0, 3.0) and .npz (a zip of .npy files) readers.
 * Numeric and bool arrays become NdArray (float64, C order); unicode ('U') and byte-string ('S') arrays
 * become string lists; object arrays (pickled payloads) and structured dtypes are skipped with a warning
 * — we never unpickle what numpy stored as objects.
 */
import { FileFormatError } from './errors.js';
import { decodeNumeric, NdArray, parseNumericType } from './ndarray.js';
import { isZip, readZip } from './zip.js';

const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

export type NpyContent =
  | { kind: 'numeric'; array: NdArray }
  | { kind: 'strings'; shape: number[]; values: string[] }
  | { kind: 'skipped'; reason: string };

type PyLiteral = string | number | boolean | null | PyLiteral[] | { [key: string]: PyLiteral };

/** Parses the Python literal of an .npy header: dicts, tuples, lists, strings, ints, True/False/None. */
function parsePythonLiteral(s: string, fail: (m: string) => never): PyLiteral {
  let i = 0;
  const ws = () => {
    while (i < s.length && /\s/.test(s[i])) i++;
  };
  const value = (): PyLiteral => {
    ws();
    const c = s[i];
    if (c === '{' || c === '(' || c === '[') {
      const close = c === '{' ? '}' : c === '(' ? ')' : ']';
      i++;
      const items: PyLiteral[] = [];
      const dict: Record<string, PyLiteral> = {};
      for (;;) {
        ws();
        if (s[i] === close) {
          i++;
          break;
        }
        const item = value();
        ws();
        if (c === '{') {
          if (s[i++] !== ':') fail('expected ":" in the header dict');
          if (typeof item !== 'string') fail('header dict keys must be strings');
          dict[item as string] = value();
          ws();
        } else items.push(item);
        if (s[i] === ',') i++;
        else if (s[i] !== close) fail(`unexpected "${s[i] ?? 'end of header'}" at header position ${i}`);
      }
      return c === '{' ? dict : items;
    }
    if (c === "'" || c === '"') {
      const end = s.indexOf(c, i + 1);
      if (end < 0) fail('unterminated string in the header');
      const str = s.slice(i + 1, end);
      i = end + 1;
      return str;
    }
    const m = /^(True|False|None|-?\d+L?)/.exec(s.slice(i));
    if (!m) fail(`cannot parse the header at position ${i}`);
    i += m![0].length;
    if (m![0] === 'True') return true;
    if (m![0] === 'False') return false;
    if (m![0] === 'None') return null;
    return Number(m![0].replace('L', ''));
  };
  const v = value();
  return v;
}

/** Parses one .npy file. `where` names the file (and npz entry) in errors. */
export function readNpy(bytes: Uint8Array, where: string): NpyContent {
  const fail = (m: string): never => {
    throw new FileFormatError(`${where}: ${m}`);
  };
  if (bytes.length < 10 || !NPY_MAGIC.every((b, k) => bytes[k] === b)) fail('not a .npy file (wrong magic bytes)');
  const major = bytes[6];
  if (major < 1 || major > 3) fail(`.npy format version ${major}.${bytes[7]} is not supported (1.0–3.0)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  const dataStart = headerStart + headerLength;
  if (dataStart > bytes.length) fail(`truncated: the header needs ${dataStart} bytes, the file has ${bytes.length}`);
  const headerBytes = bytes.subarray(headerStart, dataStart);
  const headerText = major === 3 ? new TextDecoder().decode(headerBytes) : String.fromCharCode(...headerBytes);
  const header = parsePythonLiteral(headerText, (m) => fail(`bad header: ${m}`));
  if (!header || typeof header !== 'object' || Array.isArray(header)) fail('header is not a dict');
  const { descr, fortran_order: fortran, shape } = header as Record<string, PyLiteral>;
  if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number' && d >= 0)) fail('header "shape" is not a tuple of sizes');
  const dims = shape as number[];
  if (typeof descr !== 'string') return { kind: 'skipped', reason: 'structured dtype' };
  const data = bytes.subarray(dataStart);
  const count = dims.reduce((a, b) => a * b, 1);
  if (/^[|<>=]?O/.test(descr)) return { kind: 'skipped', reason: 'object array (pickled payload; not read)' };
  const str = /^([<>|=]?)([US])(\d+)$/.exec(descr);
  if (str) {
    const chars = Number(str[3]);
    const item = str[2] === 'U' ? 4 * chars : chars;
    if (data.length < count * item) fail(`truncated: ${data.length} bytes of data, shape [${dims}] of ${descr} needs ${count * item}`);
    const values: string[] = [];
    for (let k = 0; k < count; k++) {
      let s = '';
      for (let c = 0; c < chars; c++) {
        const p = k * item + (str[2] === 'U' ? 4 * c : c);
        const code = str[2] === 'U' ? view.getUint32(dataStart + p, str[1] !== '>') : data[p];
        if (code === 0) break;
        s += String.fromCodePoint(code);
      }
      values.push(s);
    }
    return { kind: 'strings', shape: dims, values };
  }
  const type = parseNumericType(descr);
  if (!type) return { kind: 'skipped', reason: `unsupported dtype "${descr}"` };
  if (data.length < count * type.bytes) fail(`truncated: ${data.length} bytes of data, shape [${dims}] of ${descr} needs ${count * type.bytes}`);
  return { kind: 'numeric', array: new NdArray(descr, dims, decodeNumeric(data, type, dims, fortran === true, where)) };
}

export interface NpzContents {
  arrays: Map<string, NdArray>;
  strings: Map<string, string[]>;
  /** One line per entry that was skipped, naming it and why. */
  warnings: string[];
}

/** Reads an .npz archive (numpy savez / savez_compressed). Keys are entry names without ".npy". */
export function readNpz(bytes: Uint8Array, source = '<bytes>'): NpzContents {
  if (!isZip(bytes)) throw new FileFormatError(`${source}: not an .npz file (no zip signature)`);
  const result: NpzContents = { arrays: new Map(), strings: new Map(), warnings: [] };
  for (const entry of readZip(bytes, source)) {
    if (entry.name.endsWith('/')) continue;
    const key = entry.name.replace(/\.npy$/, '');
    const content = readNpy(entry.read(), `${source}: entry "${entry.name}"`);
    if (content.kind === 'numeric') result.arrays.set(key, content.array);
    else if (content.kind === 'strings') result.strings.set(key, content.values);
    else result.warnings.push(`${source}: skipped "${key}": ${content.reason}`);
  }
  return result;
}
