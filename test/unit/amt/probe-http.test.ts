/**
 * The AMT web banner from real AMT responses quoted in open-source code:
 * - open-amt-cloud-toolkit/rps src/dataProcessor.test.ts ("should reject on
 *   401 response", AMT 15.0.23.1706, and the base64 activation payload in
 *   "Should return an error with activation message and junk payload", which
 *   decodes to a 401 from AMT 11.8.50.3425);
 * - MeshCentral amtscanner.js, the sample under getIntelAmtVersionFromHeaders
 *   (a 303 from AMT 7.1.91);
 * - Greenbone gb_intel_standard_manageability_detect.nasl (the ISM banner form).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildProbeRequest, parseResponseHead, parseServerBanner } from '../../../src/amt/probe/http-server.ts';
import type { ResponseHead } from '../../../src/amt/probe/http-server.ts';

const AMT15_401 = 'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Digest realm="Digest:727734D63A1FC0423736E48DA554E462", nonce="B9AX94iAAAAAAAAAx6rrSfPHGUrx/3uA",stale="false",qop="auth"\r\nContent-Type: text/html\r\nServer: Intel(R) Active Management Technology 15.0.23.1706\r\nContent-Length: 693\r\nConnection: close\r\n\r\n<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN" >\n';
// The first 444 base64 characters of the rps payload, i.e. its headers.
const AMT11_401 = Buffer.from(
  'SFRUUC8xLjEgNDAxIFVuYXV0aG9yaXplZA0KV1dXLUF1dGhlbnRpY2F0ZTogRGlnZXN0IHJlYWxtPSJEaWdlc3Q6QTQwNzAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAiLCBub25jZT0id2xiRUsxRXRBQUFBQUFBQVdXNWFVSEZwK21RUTFqNjMiLHN0YWxlPSJmYWxzZSIscW9wPSJhdXRoIg0KQ29udGVudC1UeXBlOiB0ZXh0L2h0bWwNClNlcnZlcjogSW50ZWwoUikgQWN0aXZlIE1hbmFnZW1lbnQgVGVjaG5vbG9neSAxMS44LjUwLjM0MjUNCkNvbnRlbnQtTGVuZ3RoOiA2OTANCkNvbm5lY3Rpb246IGNsb3NlDQoNCg==',
  'base64').toString('latin1');
const AMT7_303 = 'HTTP/1.1 303 See Other\r\nLocation: /logon.htm\r\nContent-Length: 0\r\nServer: Intel(R) Active Management Technology 7.1.91\r\n\r\n';

function head(text: string): ResponseHead {
  const r = parseResponseHead(Buffer.from(text, 'latin1'));
  assert.ok(r.ok, JSON.stringify(r));
  return r.head;
}

test('the banner of real AMT answers, a 401 included, gives the firmware version', () => {
  const cases: readonly [string, number, string, readonly number[]][] = [
    [AMT15_401, 401, '15.0.23.1706', [15, 0, 23, 1706]],
    [AMT11_401, 401, '11.8.50.3425', [11, 8, 50, 3425]],
    [AMT7_303, 303, '7.1.91', [7, 1, 91]],
  ];
  for (const [text, status, version, parts] of cases) {
    const h = head(text);
    assert.equal(h.status, status);
    const banner = parseServerBanner(h.headers.get('server'));
    assert.deepEqual(banner, { product: 'amt', parts, major: parts[0], minor: parts[1], text: version });
  }
  assert.equal(head(AMT15_401).headers.get('www-authenticate')?.startsWith('Digest realm="Digest:7277'), true);
});

test('the ISM banner is recognised as ISM; anything else is not a banner', () => {
  assert.deepEqual(parseServerBanner('Intel(R) Standard Manageability 11.8.50'), { product: 'ism', parts: [11, 8, 50], major: 11, minor: 8, text: '11.8.50' });
  for (const v of [undefined, '', 'Apache/2.4.62 (Debian)', 'Intel(R) Active Management Technology', 'Intel(R) Active Management Technology 7', 'Intel(R) Active Management Technology 7.x.1', 'Intel(R) Active Management Technology 1.2.3.4.5', 'intel(r) active management technology 7.1.91']) {
    assert.equal(parseServerBanner(v), undefined, String(v));
  }
});

test('response heads: incomplete until the blank line, refused when not HTTP', () => {
  const cut = AMT7_303.slice(0, 40);
  assert.deepEqual(parseResponseHead(Buffer.from(cut)), { ok: false, incomplete: true });
  assert.deepEqual(parseResponseHead(Buffer.from('HTT')), { ok: false, incomplete: true });
  const notHttp = parseResponseHead(Buffer.from('SSH-2.0-OpenSSH_9.6\r\n'));
  assert.ok(!notHttp.ok && 'reason' in notHttp && /not an HTTP response/.test(notHttp.reason));
  const bad = parseResponseHead(Buffer.from('HTTP/1.1 abc\r\n\r\n'));
  assert.ok(!bad.ok && 'reason' in bad && /bad status line/.test(bad.reason));
  const huge = parseResponseHead(Buffer.alloc(16 * 1024, 'HTTP/1.1 200 OK\r\nX: y'));
  assert.ok(!huge.ok && 'reason' in huge && /no end of headers/.test(huge.reason));
});

test('the probe request names the host, asks to close and never carries credentials', () => {
  const req = buildProbeRequest('10.0.0.7', 16992);
  assert.ok(req.startsWith('GET / HTTP/1.1\r\nHost: 10.0.0.7:16992\r\n'));
  assert.ok(req.endsWith('\r\n\r\n'));
  assert.match(req, /\r\nConnection: close\r\n/);
  assert.doesNotMatch(req, /authorization|cookie|digest|basic/i);
});
