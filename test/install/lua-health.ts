/**
 * Runs an Argo CD Lua health check the way Argo CD does: the object as the
 * global `obj`, the script's returned table read for status and message.
 * The object is turned into a Lua table literal here, so Debian's lua5.4
 * needs no JSON library. Argo CD itself runs gopher-lua (Lua 5.1); the
 * scripts use only syntax both accept.
 */
import { spawnSync } from 'node:child_process';
import { Errors, NetbootError } from '../../src/errors.ts';

export const LUA = 'lua5.4';

/** A Lua string literal holding `s` byte for byte (decimal escapes for anything but printable ASCII). */
export function luaString(s: string): string {
  let out = '"';
  for (const byte of Buffer.from(s, 'utf8')) {
    if (byte === 0x22 || byte === 0x5c) out += `\\${String.fromCharCode(byte)}`;
    else if (byte >= 0x20 && byte < 0x7f) out += String.fromCharCode(byte);
    else out += `\\${byte.toString().padStart(3, '0')}`;
  }
  return `${out}"`;
}

/**
 * A Lua literal for a JSON value: objects become tables with string keys,
 * arrays become sequences (1-based, as Argo CD's conversion makes them),
 * null becomes nil.
 */
export function luaLiteral(value: unknown): string {
  if (value === null || value === undefined) return 'nil';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`${value} has no JSON form`);
    return Number.isInteger(value) ? value.toFixed(0) : String(value);
  }
  if (typeof value === 'string') return luaString(value);
  if (Array.isArray(value)) return `{${value.map(luaLiteral).join(', ')}}`;
  if (typeof value === 'object') {
    return `{${Object.entries(value as Record<string, unknown>).map(([k, v]) => `[${luaString(k)}] = ${luaLiteral(v)}`).join(', ')}}`;
  }
  throw new Error(`cannot express ${typeof value} in Lua`);
}

/** What a health check returned. */
export interface HealthStatus {
  readonly status: string;
  readonly message: string;
}

/** Runs the health check in `luaFile` on `object`. */
export function runHealthCheck(luaFile: string, object: unknown): HealthStatus {
  const program = [
    `obj = ${luaLiteral(object)}`,
    'local check = assert(loadfile(arg[1]))',
    'local hs = check()',
    'assert(type(hs) == "table", "the health check returned no table")',
    'io.write(tostring(hs.status), "\\0", tostring(hs.message or ""))',
  ].join('\n');
  const r = spawnSync(LUA, ['-', luaFile], { input: program, encoding: 'utf8' });
  if (r.error !== undefined) throw new NetbootError(Errors.ToolMissing, `${LUA} could not be run (${r.error.message}); install Debian's lua5.4 (scripts/install-deps.sh does)`);
  if (r.status !== 0) throw new Error(`${luaFile} failed under ${LUA}:\n${r.stderr}`);
  const [status = '', message = ''] = r.stdout.split('\0');
  return { status, message };
}
