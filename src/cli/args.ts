/** A small flag parser for the CLI: `--name value`, `--name=value`, `-f value`, boolean `--flag`. */

export interface ParsedArgs {
  readonly values: ReadonlyMap<string, string[]>;
  readonly flags: ReadonlySet<string>;
}

/** Parses args; `valued` lists the options that take a value (with aliases mapped to their long name). */
export function parseArgs(args: readonly string[], valued: Readonly<Record<string, string>>, booleans: readonly string[]): ParsedArgs {
  const values = new Map<string, string[]>();
  const flags = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    const eq = arg.indexOf('=');
    const key = eq === -1 ? arg : arg.slice(0, eq);
    const long = valued[key];
    if (long !== undefined) {
      const v = eq === -1 ? args[++i] : arg.slice(eq + 1);
      if (v === undefined || v === '') throw new Error(`${key} needs a value`);
      values.set(long, [...(values.get(long) ?? []), v]);
    } else if (booleans.includes(arg)) {
      flags.add(arg);
    } else {
      throw new Error(`unknown option ${arg}`);
    }
  }
  return { values, flags };
}

/** The last value given for `name`, or undefined. */
export function last(parsed: ParsedArgs, name: string): string | undefined {
  return parsed.values.get(name)?.at(-1);
}
