// Shrinks GLSL for embedding (scripts/gen-shaders.mjs): comments go, whitespace is squeezed to what
// separates tokens. Lines are kept — a comment-only line becomes an empty line — so the line numbers of
// a compile log still point into the readable .glsl file, and preprocessor lines stay on lines of
// their own. Identifiers and numbers are left as written.

/** Punctuation that never fuses with a neighbour, so spaces around it can always go. */
const SEPARATORS = new Set(['(', ')', '{', '}', '[', ']', ';', ',', '?', ':']);
const isWord = (c) => /[\w$]/.test(c);

/**
 * Drops the spaces between tokens that stay apart without them. A space stays between two word
 * characters (`uniform int`) and between two operator characters (`a - -b`, `x < <y`, `/ *`), where
 * removing it would make one token of two.
 */
export function squeeze(code) {
  const s = code.replace(/\s+/g, ' ').trim();
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c !== ' ') {
      out += c;
      continue;
    }
    const a = s[i - 1];
    const b = s[i + 1];
    if (SEPARATORS.has(a) || SEPARATORS.has(b)) continue;
    if (isWord(a) === isWord(b)) out += ' ';
  }
  return out;
}

/**
 * One line without its comment. `#define NAME(params)` keeps its head as written: a space between
 * the name and `(` is what makes `#define TAPS (KH * KW)` an object-like macro. `#if`/`#elif`
 * expressions and macro bodies are squeezed; other directives (#error text, #include, #ifdef, …)
 * only lose their surrounding whitespace.
 */
function minifyLine(line) {
  const text = line.trim();
  if (!text.startsWith('#')) return squeeze(text);
  const define = /^#\s*define\s+(\w+(?:\([^)]*\))?)(.*)$/.exec(text);
  if (define) {
    const body = squeeze(define[2]);
    return `#define ${define[1].replace(/\s+/g, '')}${body ? ` ${body}` : ''}`;
  }
  const condition = /^#\s*(if|elif)\s+(.*)$/.exec(text);
  if (condition) return `#${condition[1]} ${squeeze(condition[2])}`;
  return text.replace(/^#\s+/, '#').replace(/\s+/g, ' ');
}

/** Comments out, keeping every newline (a block comment leaves the newlines it spanned). */
export function stripComments(source) {
  let out = '';
  let i = 0;
  while (i < source.length) {
    if (source.startsWith('//', i)) {
      const end = source.indexOf('\n', i);
      i = end < 0 ? source.length : end;
    } else if (source.startsWith('/*', i)) {
      const end = source.indexOf('*/', i + 2);
      if (end < 0) throw new Error('unterminated /* comment');
      out += source.slice(i, end).replace(/[^\n]/g, '') || ' ';
      i = end + 2;
    } else {
      out += source[i++];
    }
  }
  return out;
}

/** The GLSL with comments removed and whitespace squeezed, line for line. */
export function minifyGlsl(source) {
  return stripComments(source.replace(/\r\n?/g, '\n'))
    .split('\n')
    .map(minifyLine)
    .join('\n')
    .replace(/\n+$/, '');
}
