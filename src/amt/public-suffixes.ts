/**
 * Common two-label public suffixes: names under which unrelated organisations
 * register, so "the last two labels" of a name under them (`co.uk`) are not
 * an organisation's namespace. AMT 3.2.1+ compares only those two labels
 * anyway; the suffix check flags the case as a warning (MeshCentral keeps
 * three labels here, Intel's RPS two; shared/DOMAIN.md section 4).
 *
 * Source: a hand-picked subset of the ICANN section of the Mozilla Public
 * Suffix List (https://publicsuffix.org/list/public_suffix_list.dat), the
 * second-level registries most often met in company domains. Deliberately
 * small and without a dependency: a name missing here only loses the warning.
 */
export const MultiLabelPublicSuffixes: ReadonlySet<string> = new Set([
  // United Kingdom
  'co.uk', 'org.uk', 'me.uk', 'ltd.uk', 'plc.uk', 'net.uk', 'ac.uk', 'gov.uk', 'sch.uk', 'nhs.uk', 'police.uk',
  // Australia, New Zealand
  'com.au', 'net.au', 'org.au', 'edu.au', 'gov.au', 'asn.au', 'id.au',
  'co.nz', 'net.nz', 'org.nz', 'ac.nz', 'govt.nz', 'school.nz',
  // Japan, Korea, China, Taiwan, Hong Kong, Singapore
  'co.jp', 'ne.jp', 'or.jp', 'ac.jp', 'ad.jp', 'ed.jp', 'go.jp', 'gr.jp', 'lg.jp',
  'co.kr', 'ne.kr', 'or.kr', 'ac.kr', 'go.kr', 're.kr',
  'com.cn', 'net.cn', 'org.cn', 'edu.cn', 'gov.cn', 'ac.cn',
  'com.tw', 'net.tw', 'org.tw', 'edu.tw', 'gov.tw',
  'com.hk', 'net.hk', 'org.hk', 'edu.hk', 'gov.hk',
  'com.sg', 'net.sg', 'org.sg', 'edu.sg', 'gov.sg',
  // South and South-East Asia
  'co.in', 'net.in', 'org.in', 'firm.in', 'gen.in', 'ind.in', 'ac.in', 'gov.in',
  'co.id', 'or.id', 'ac.id', 'go.id', 'com.my', 'net.my', 'org.my', 'co.th', 'or.th', 'ac.th', 'in.th',
  'com.ph', 'com.vn', 'com.pk',
  // Americas
  'com.br', 'net.br', 'org.br', 'gov.br', 'edu.br', 'com.mx', 'org.mx', 'gob.mx', 'edu.mx',
  'com.ar', 'net.ar', 'org.ar', 'com.co', 'net.co', 'org.co', 'com.pe', 'com.ve', 'com.uy', 'com.ec',
  // Europe, Middle East, Africa
  'com.tr', 'net.tr', 'org.tr', 'gen.tr', 'com.pl', 'net.pl', 'org.pl', 'co.at', 'or.at', 'com.gr', 'com.cy', 'com.mt', 'com.ua',
  'co.il', 'org.il', 'ac.il', 'com.sa', 'com.eg', 'co.za', 'org.za', 'gov.za', 'ac.za', 'co.ke', 'or.ke', 'com.ng',
]);

/** True when `labels` (already lowercase, e.g. "co.uk") is a known multi-label public suffix. */
export function isPublicSuffix(labels: string): boolean {
  return MultiLabelPublicSuffixes.has(labels);
}
