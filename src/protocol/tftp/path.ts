/**
 * Path safety for requested file names, as pure string logic. Two steps:
 *
 * 1. {@link normaliseRequestPath} before touching the filesystem: refuses every
 *    lexical escape and returns a clean relative path to join onto the root.
 * 2. {@link isInsideRoot} after the caller has `realpath`ed both the root and
 *    the joined target: catches symlinks that point out of the root, which no
 *    string check on the request can see.
 */

/** Outcome of {@link normaliseRequestPath}. */
export type PathResult =
  | { readonly ok: true; readonly path: string }
  | { readonly ok: false; readonly reason: string };

/** Checked in order; the first that matches names the refusal. */
const refusals: ReadonlyArray<readonly [(name: string) => boolean, string]> = [
  [(n) => n === '', 'empty file name'],
  [(n) => n.includes('\0'), 'file name contains NUL'],
  // Control characters would let a file name forge lines in our logs.
  [(n) => /[\x01-\x1f\x7f]/.test(n), 'file name contains a control character'],
  // Refused, not translated: "a\..\b" means different things to different hosts.
  [(n) => n.includes('\\'), 'file name contains a backslash'],
  [(n) => n.startsWith('/'), 'absolute path'],
  [(n) => n.split('/').includes('..'), 'path contains a ".." segment'],
];

/**
 * Turns a requested TFTP file name into a relative path (`/`-separated, no
 * empty, `.` or `..` segments) that cannot leave the root lexically, or says
 * why it is refused. Answer a refusal with ERROR 2 (access violation).
 * `a//b/./c` becomes `a/b/c`.
 */
export function normaliseRequestPath(requested: string): PathResult {
  for (const [matches, reason] of refusals) {
    if (matches(requested)) return { ok: false, reason };
  }
  const segments = requested.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.length === 0) return { ok: false, reason: 'file name names no file' };
  return { ok: true, path: segments.join('/') };
}

/**
 * True when `resolvedTarget` is `resolvedRoot` or lies below it. Both must be
 * absolute, already resolved (realpath) POSIX paths; anything else, including
 * a `.` or `..` segment, is answered false so that a caller's mistake fails
 * closed. A trailing slash on the root is allowed. `/srv/tftp2` is not inside
 * `/srv/tftp`.
 */
export function isInsideRoot(resolvedRoot: string, resolvedTarget: string): boolean {
  if (!isResolved(resolvedRoot) || !isResolved(resolvedTarget)) return false;
  const root = resolvedRoot.length > 1 && resolvedRoot.endsWith('/') ? resolvedRoot.slice(0, -1) : resolvedRoot;
  if (resolvedTarget === root || root === '/') return true;
  return resolvedTarget.startsWith(`${root}/`);
}

function isResolved(path: string): boolean {
  return path.startsWith('/') && !path.includes('\0') && !path.split('/').some((s) => s === '.' || s === '..');
}
