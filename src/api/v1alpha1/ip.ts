/** IPv4 arithmetic for schema rules (the CEL twins use cidr()/ip()). */

/** The address as an unsigned 32-bit number; NaN when not a dotted quad. */
export function ipToNumber(ip: string): number {
  const parts = ip.split('.');
  if (parts.length !== 4) return Number.NaN;
  return parts.reduce((acc, p) => acc * 256 + Number.parseInt(p, 10), 0);
}

/** True when `ip` lies inside `cidr` (a.b.c.d/len). */
export function ipInCidr(ip: string, cidr: string): boolean {
  const [base = '', lenText = ''] = cidr.split('/');
  const len = Number.parseInt(lenText, 10);
  const size = 2 ** (32 - len);
  const start = Math.floor(ipToNumber(base) / size) * size;
  const n = ipToNumber(ip);
  return n >= start && n < start + size;
}

/** CEL that computes the same number as ipToNumber for the dotted quad at `path`. */
export function celIpv4Number(path: string): string {
  return '(' + [16777216, 65536, 256, 1].map((w, i) => `int(${path}.split(".")[${i}]) * ${w}`).join(' + ') + ')';
}
