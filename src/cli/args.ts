/** Minimal `--flag value` parsing with clear errors, shared by the commands. */
export class ArgError extends Error {
  override name = 'ArgError';
}

export interface ParsedArgs {
  flags: Map<string, string | true>;
  positional: string[];
}

/** Parses argv; `booleans` lists flags that take no value. Unknown flags are errors. */
export function parseArgs(argv: string[], known: readonly string[], booleans: readonly string[] = []): ParsedArgs {
  const flags = new Map<string, string | true>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const [key, inline] = a.slice(2).split(/=(.*)/s, 2);
    if (!known.includes(key) && !booleans.includes(key)) throw new ArgError(`unknown option --${key} (known: ${[...known, ...booleans].map((k) => '--' + k).join(' ')})`);
    if (booleans.includes(key)) {
      flags.set(key, true);
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined || (inline === undefined && value.startsWith('--'))) throw new ArgError(`option --${key} needs a value`);
    flags.set(key, value);
  }
  return { flags, positional };
}

export function intFlag(args: ParsedArgs, key: string, fallback: number, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  const raw = args.flags.get(key);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new ArgError(`--${key} must be an integer in [${min}, ${max}], got ${String(raw)}`);
  return n;
}

export function stringFlag(args: ParsedArgs, key: string): string | undefined {
  const raw = args.flags.get(key);
  return typeof raw === 'string' ? raw : undefined;
}
