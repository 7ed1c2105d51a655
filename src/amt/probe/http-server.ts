/**
 * The AMT web server's banner: every answer from ports 16992/16993, a 401
 * included, carries `Server: Intel(R) Active Management Technology X.Y.Z`
 * (X.Y.Z.B on newer firmware). Reading it needs no credentials, so the probe
 * request below never carries an Authorization header.
 *
 * Sources: MeshCentral amtscanner.js getIntelAmtVersionFromHeaders (the
 * 46-character prefix, 3 or 4 numeric parts); Greenbone's
 * gb_intel_amt_webui_detect.nasl (same prefix, regex [0-9.]+) and
 * gb_intel_standard_manageability_detect.nasl (`Server: Intel(R) Standard
 * Manageability X.Y.Z` on ISM, AMT's smaller sibling on the same ports).
 */
import type { AmtVersion } from './rmcp.ts';

/** Which Intel manageability firmware a banner names. */
export type AmtProduct = 'amt' | 'ism';

export interface ServerBanner extends AmtVersion {
  readonly product: AmtProduct;
  /** Every numeric part, e.g. [11, 8, 50, 3425]. */
  readonly parts: readonly number[];
}

/** The head of an HTTP response: status code and headers (names lower case, last one wins). */
export interface ResponseHead {
  readonly status: number;
  readonly headers: ReadonlyMap<string, string>;
}

export type HeadResult =
  | { readonly ok: true; readonly head: ResponseHead }
  | { readonly ok: false; readonly reason: string }
  | { readonly ok: false; readonly incomplete: true };

const PRODUCTS: readonly (readonly [string, AmtProduct])[] = [
  ['Intel(R) Active Management Technology ', 'amt'],
  ['Intel(R) Standard Manageability ', 'ism'],
];

/**
 * The firmware version in a Server header value, or undefined when the value
 * is not an AMT/ISM banner with a well-formed version (2 to 4 numeric parts).
 */
export function parseServerBanner(value: string | undefined): ServerBanner | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  for (const [prefix, product] of PRODUCTS) {
    if (!v.startsWith(prefix)) continue;
    const text = v.slice(prefix.length).trim();
    if (!/^\d{1,5}(\.\d{1,5}){1,3}$/.test(text)) return undefined;
    const parts = text.split('.').map(Number);
    return { product, parts, major: parts[0] ?? 0, minor: parts[1] ?? 0, text };
  }
  return undefined;
}

/**
 * The probe's request: a plain GET of `/` naming the host, asking the server
 * to close. Never an Authorization header: the banner comes with the 401.
 */
export function buildProbeRequest(host: string, port: number): string {
  return `GET / HTTP/1.1\r\nHost: ${host}:${port}\r\nUser-Agent: netboot-agent amt-probe\r\nAccept: */*\r\nConnection: close\r\n\r\n`;
}

/** Most bytes of a response head we read before giving up (AMT's is ~300). */
export const MAX_HEAD_BYTES = 16 * 1024;

/**
 * Parses the status line and headers of the bytes received so far. Returns
 * `incomplete` until the blank line arrives (the caller reads more, up to
 * {@link MAX_HEAD_BYTES}).
 */
export function parseResponseHead(bytes: Uint8Array): HeadResult {
  const text = new TextDecoder('latin1').decode(bytes);
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) {
    if (bytes.length >= MAX_HEAD_BYTES) return { ok: false, reason: `no end of headers within ${MAX_HEAD_BYTES} bytes` };
    if (bytes.length >= 5 && !text.startsWith('HTTP/')) return { ok: false, reason: 'not an HTTP response' };
    return { ok: false, incomplete: true };
  }
  const [statusLine = '', ...lines] = text.slice(0, end).split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(statusLine);
  if (m === null) return { ok: false, reason: `bad status line "${statusLine.slice(0, 60)}"` };
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { ok: true, head: { status: Number(m[1]), headers } };
}
