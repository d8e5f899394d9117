// Renames the identifiers a shader file declares for itself — locals, parameters, helper functions,
// private globals, its macros' parameters — to one- and two-letter names, after scripts/glsl-minify.mjs
// has taken out comments and whitespace. Run over all shaders/ files at once (scripts/shader-sources.mjs)
// because one program is made of several files: lib/prelude, the kernel, the lib/ files it includes and
// lib/main. Lines stay as they are, so compile logs still point at the right line of the .glsl file
// (with the short names in it).
//
// The renaming is one map for all files (a spelling gets the same new name wherever it is renamed),
// one to one, applied to every token of a file (macro bodies included), so it cannot change what a
// program means as long as
//   - no renamed name is seen from outside its file: uniforms, `in`/`out` variables (the runtime and
//     the renderer set and bind them by name), macro names (the runtime's #defines, #if tests), struct
//     fields (read after a `.`), and every name a lib/ file keeps (a kernel calls lib helpers; lib/main
//     calls the kernel's `kernel`) keep their names; a lib/ file renames only its function locals;
//   - no new name meets a name it could be confused with: new names avoid every keyword and every name
//     any shader keeps, and they are lower case, while the runtime's #defines are upper case
//     (test/glsl-rename.test.ts checks that);
//   - a lib file's new local names never hide a kernel's renamed global: locals become letters only
//     (`a`, `b`, …, `aa`, …), a kernel's private globals a letter and a digit (`a0`, …).
// Tokens after a `.` (swizzles, struct fields) and the text of other directives (#if, #error, …) are
// never touched.

/** GLSL ES 3.00 keywords, reserved words and built-in type names (spec §3.7): never a new name. */
const KEYWORDS = new Set(`
const uniform layout centroid flat smooth break continue do for while switch case default if else in
out inout float int void bool true false invariant discard return mat2 mat3 mat4 mat2x2 mat2x3 mat2x4
mat3x2 mat3x3 mat3x4 mat4x2 mat4x3 mat4x4 vec2 vec3 vec4 ivec2 ivec3 ivec4 bvec2 bvec3 bvec4 uint uvec2
uvec3 uvec4 lowp mediump highp precision sampler2D sampler3D samplerCube sampler2DShadow
samplerCubeShadow sampler2DArray sampler2DArrayShadow isampler2D isampler3D isamplerCube
isampler2DArray usampler2D usampler3D usamplerCube usampler2DArray struct attribute varying coherent
volatile restrict readonly writeonly resource atomic_uint noperspective patch sample subroutine common
partition active asm class union enum typedef template this goto inline noinline public static extern
external interface long short double half fixed unsigned superp input output hvec2 hvec3 hvec4 dvec2
dvec3 dvec4 fvec2 fvec3 fvec4 sampler3DRect filter image1D image2D image3D imageCube iimage1D iimage2D
iimage3D iimageCube uimage1D uimage2D uimage3D uimageCube image1DArray image2DArray iimage1DArray
iimage2DArray uimage1DArray uimage2DArray imageBuffer iimageBuffer uimageBuffer sampler1D
sampler1DShadow sampler1DArray sampler1DArrayShadow isampler1D isampler1DArray usampler1D
usampler1DArray sampler2DRect sampler2DRectShadow isampler2DRect usampler2DRect samplerBuffer
isamplerBuffer usamplerBuffer sampler2DMS isampler2DMS usampler2DMS sampler2DMSArray
isampler2DMSArray usampler2DMSArray sizeof cast namespace using
`.split(/\s+/).filter(Boolean));

/** Built-in types: a declaration is a type followed by the name it declares. */
const BUILTIN_TYPES = new Set(`
void bool int uint float vec2 vec3 vec4 bvec2 bvec3 bvec4 ivec2 ivec3 ivec4 uvec2 uvec3 uvec4 mat2 mat3
mat4 mat2x2 mat2x3 mat2x4 mat3x2 mat3x3 mat3x4 mat4x2 mat4x3 mat4x4 sampler2D sampler3D samplerCube
sampler2DShadow samplerCubeShadow sampler2DArray sampler2DArrayShadow isampler2D isampler3D
isamplerCube isampler2DArray usampler2D usampler3D usamplerCube usampler2DArray
`.split(/\s+/).filter(Boolean));

/** Qualifiers that make a global part of the program's interface (set or bound by name from outside). */
const INTERFACE_QUALIFIERS = new Set(['uniform', 'in', 'out', 'inout', 'centroid', 'flat', 'smooth', 'layout']);

/** Numbers first (so `1e5` or `3u` is one token), then names, #include strings, single characters. */
const TOKEN = /0[xX][0-9a-fA-F]+[uU]?|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?[uU]?|[A-Za-z_]\w*|"[^"]*"|\S/g;
const isName = (t) => /^[A-Za-z_]/.test(t);

/** Splits a #define line into its macro name, its parameters and its body (null for other lines). */
function parseDefine(line) {
  const m = /^#define ([A-Za-z_]\w*)(\(([^)]*)\))?(.*)$/.exec(line);
  if (!m) return null;
  return { name: m[1], params: m[3] === undefined ? [] : m[3].split(',').filter(Boolean), body: m[4] };
}

/**
 * What one file declares and names. Code lines are read as one token stream; each #define body as a
 * stream of its own whose declarations count as local (a macro expands inside a function).
 */
function analyse(text, structTypes) {
  const info = {
    names: new Set(), // every name token not after a `.`
    globals: new Set(), // private globals: functions, consts, plain variables at file scope
    interface: new Set(), // uniform / in / out globals
    locals: new Set(), // parameters, function-scope variables, macro parameters and macro-body variables
    fields: new Set(), // struct members
    structs: new Set(),
    macros: new Set(), // #define names and every name in other directives
    macroBodyNames: new Set(), // names in #define bodies
  };
  const code = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('#')) {
      code.push(...(line.match(TOKEN) ?? []));
      continue;
    }
    const define = parseDefine(line);
    if (!define) {
      if (!line.startsWith('#include')) for (const t of line.slice(1).match(TOKEN) ?? []) if (isName(t)) info.macros.add(t);
      continue;
    }
    info.macros.add(define.name);
    for (const p of define.params) info.locals.add(p.trim());
    const body = define.body.match(TOKEN) ?? [];
    for (const t of body) if (isName(t)) info.macroBodyNames.add(t);
    declarations(body, structTypes, info, true);
  }
  declarations(code, structTypes, info, false);
  return info;
}

/** Records the names a token stream declares (and every name it uses) into `info`. */
function declarations(tokens, structTypes, info, inMacro) {
  const isType = (t) => BUILTIN_TYPES.has(t) || structTypes.has(t);
  const isFreeName = (t) => t !== undefined && isName(t) && !KEYWORDS.has(t) && !isType(t);
  let braces = 0;
  let parens = 0;
  let structBodyDepth = -1;
  let statementStart = 0; // index after the last ; { } at this level, for looking back at qualifiers
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (isName(t) && tokens[i - 1] !== '.') info.names.add(t);
    if (t === 'struct' && isName(tokens[i + 1] ?? '')) info.structs.add(tokens[i + 1]);
    if (t === '{') {
      if (tokens[i - 2] === 'struct') structBodyDepth = braces;
      braces++;
    } else if (t === '}') {
      braces--;
      if (braces === structBodyDepth) structBodyDepth = -1;
    } else if (t === '(' || t === '[') parens++;
    else if (t === ')' || t === ']') parens--;
    if (t === ';' || t === '{' || t === '}') statementStart = i + 1;
    if (!isType(t) || tokens[i - 1] === '.') continue;

    // A type: the name after it (past an array size, `int[4] a`) is being declared.
    let j = i + 1;
    if (tokens[j] === '[') {
      while (j < tokens.length && tokens[j] !== ']') j++;
      j++;
    }
    if (!isFreeName(tokens[j])) continue;
    const kind = structBodyDepth >= 0 && braces === structBodyDepth + 1 ? 'fields'
      : inMacro || braces > 0 || parens > 0 ? 'locals'
        : tokens.slice(statementStart, i).some((q) => INTERFACE_QUALIFIERS.has(q)) ? 'interface' : 'globals';
    info[kind].add(tokens[j]);
    if (tokens[j + 1] === '(') continue; // a function: its parameters carry their own types

    // `float a = f(x, y), b[2], c;` declares b and c too: names right after a comma at this depth.
    let depth = 0;
    for (let k = j + 1; k < tokens.length; k++) {
      const q = tokens[k];
      if (q === '(' || q === '[') depth++;
      else if (q === ')' || q === ']') {
        if (depth-- === 0) break;
      } else if (depth === 0 && (q === ';' || q === '{' || q === '}')) break;
      else if (depth === 0 && q === ',' && isFreeName(tokens[k + 1])) info[kind].add(tokens[k + 1]);
    }
  }
}

/** New names: letters only for locals (a … z, aa …), a letter and digits for a kernel's globals. */
function* nameSequence(withDigit) {
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  for (let length = 1; ; length++) {
    const count = letters.length ** length;
    for (let n = 0; n < count; n++) {
      let name = '';
      for (let k = 0, v = n; k < length; k++, v = Math.floor(v / letters.length)) name = letters[v % letters.length] + name;
      if (!withDigit) yield name;
      else for (let d = 0; d < 10; d++) yield `${name}${d}`;
    }
  }
}

/** The file with every token of `map` replaced; tokens after `.` and non-#define directives untouched. */
function applyRenaming(text, map) {
  const renameCode = (code) => {
    let previous = '';
    return code.replace(TOKEN, (t) => {
      const out = previous !== '.' && map.has(t) ? map.get(t) : t;
      previous = t;
      return out;
    });
  };
  return text.split('\n').map((line) => {
    if (!line.startsWith('#')) return renameCode(line);
    const head = /^#define [A-Za-z_]\w*/.exec(line);
    return head ? head[0] + renameCode(line.slice(head[0].length)) : line;
  }).join('\n');
}

const isShared = (name) => name.startsWith('lib/');

/**
 * name → minified GLSL in, name → GLSL with each file's own identifiers shortened out, plus the maps
 * (file → Map(old name → new name)) for tests.
 */
export function renameShaderIdentifiers(sources) {
  const structTypes = new Set();
  for (const text of sources.values()) for (const m of text.matchAll(/\bstruct\s+([A-Za-z_]\w*)/g)) structTypes.add(m[1]);
  const infos = new Map([...sources].map(([name, text]) => [name, analyse(text, structTypes)]));

  // Names that must keep their spelling everywhere: interface globals, struct types and fields, macro
  // names, names in a lib file's macro bodies (they expand inside kernels), and names any file declares
  // at global scope are never a lib file's own (a lib local of that spelling could be a reference).
  const anyGlobal = new Set();
  const neverRenamed = new Set();
  for (const [name, info] of infos) {
    for (const n of [...info.globals, ...info.interface]) anyGlobal.add(n);
    for (const n of [...info.interface, ...info.fields, ...info.structs, ...info.macros]) neverRenamed.add(n);
    if (isShared(name)) for (const n of info.macroBodyNames) neverRenamed.add(n);
  }
  const allowed = (n) => !neverRenamed.has(n) && !KEYWORDS.has(n) && !n.startsWith('gl_');

  // A lib file renames only its locals; what it keeps (its globals, the prelude's helpers, names it
  // expects a kernel to declare, built-ins) is what kernels may not rename.
  const renamable = new Map();
  const sharedKept = new Set();
  for (const [name, info] of infos) {
    if (!isShared(name)) continue;
    const own = new Set([...info.locals].filter((n) => !anyGlobal.has(n) && allowed(n)));
    renamable.set(name, own);
    for (const n of info.names) if (!own.has(n)) sharedKept.add(n);
  }
  for (const [name, info] of infos) {
    if (isShared(name)) continue;
    renamable.set(name, new Set([...info.locals, ...info.globals].filter((n) => !sharedKept.has(n) && allowed(n))));
  }

  // Every name that stays as written, in any file: no new name may equal one.
  const kept = new Set(KEYWORDS);
  for (const [name, info] of infos) {
    for (const n of [...info.names, ...info.macros, ...info.macroBodyNames]) if (!renamable.get(name).has(n)) kept.add(n);
  }

  // One spelling → one new name in every file where it is renamed (`acc` is the same letter in each
  // kernel, which gzip likes), the most used spellings first. One map for all files also keeps the
  // renaming one to one over a whole program (prelude, kernel, includes, main).
  const counts = new Map();
  for (const [name, text] of sources) {
    const own = renamable.get(name);
    for (const t of text.match(TOKEN) ?? []) if (own.has(t)) counts.set(t, (counts.get(t) ?? 0) + 1);
  }
  const isGlobal = (n) => [...infos].some(([name, info]) => !isShared(name) && info.globals.has(n) && renamable.get(name).has(n));
  const order = [...counts.keys()].sort((a, b) => counts.get(b) - counts.get(a) || (a < b ? -1 : 1));
  const localNames = nameSequence(false);
  const globalNames = nameSequence(true);
  const next = (sequence) => {
    for (;;) {
      const candidate = sequence.next().value;
      if (!kept.has(candidate)) return candidate;
    }
  };
  const global = new Map(order.map((n) => [n, next(isGlobal(n) ? globalNames : localNames)]));
  const renamed = new Map();
  const maps = new Map();
  for (const [name, text] of sources) {
    const map = new Map([...renamable.get(name)].filter((n) => global.has(n)).map((n) => [n, global.get(n)]));
    maps.set(name, map);
    renamed.set(name, applyRenaming(text, map));
  }
  return { sources: renamed, maps };
}
