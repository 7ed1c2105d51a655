/**
 * The PKI Hello codec against the three Hellos MeshCentral keeps as "Example
 * hello data for testing" in amtprovisioningserver.js (Ylianst/MeshCentral,
 * Apache-2.0; the first and third are reproduced here): real AMT devices'
 * Hellos with 23 and 24 SHA-256 root hashes. Field layout: Intel AMT
 * Implementation and Reference Guide, "Setup Mode Hello Messages" (offsets
 * 0/2/4/8: admin credentials set, interface version, retry count, UUID), the
 * hash list as MeshCentral's parseHelloData reads it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeHello, parseHello } from '../../../src/amt/probe/hello.ts';
import type { HelloResult } from '../../../src/amt/probe/hello.ts';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));

const HELLO_1 = hex(
  '01000300000000004b529b93d413181de4871c697a6b7a2b170220c3846bf24b9e93ca64274c0ec67c1ecc5e024ffcacd2d74019350e81fe546ae402' +
  '2045140b3247eb9cc8c5b4f0d7b53091f73292089e6e5a63e2749dd3aca9198eda0220d7a7a0fb5d7e2731d771e9484ebcdef71d5f0c3e0a2948782b' +
  'c83ee0ea699ef402201465fa205397b876faa6f0a9958e5590e40fcc7faa4fb7c2c8677521fb5fb65802202ce1cb0bf9d2f9e102993fbe215152c3b2' +
  'dd0cabde1c68e5319b839154dbb7f502209acfab7e43c8d880d06b262a94deeee4b4659989c3d0caf19baf6405e41ab7df022016af57a9f676b0ab12' +
  '6095aa5ebadef22ab31119d644ac95cd4b93dbf3f26aeb0220960adf0063e96356750c2965dd0a0867da0b9cbd6e77714aeafb2349ab393da3022068' +
  'ad50909b04363c605ef13581a939ff2c96372e3f12325b0a6861e1d59f660302206dc47172e01cbcb0bf62580d895fe2b8ac9ad4f873801e0c10b9c8' +
  '37d21eb177022073c176434f1bc6d5adf45b0e76e727287c8de57616c1e6e6141a2b2cbc7d8e4c022043df5774b03e7fef5fe40d931a7bedf1bb2e6b' +
  '42738c4e6d3841103d3aa7f33902202399561127a57125de8cefea610ddf2fa078b5c8067f4e828290bfb860e84b3c022070a73f7f376b6007424890' +
  '4534b11482d5bf0e698ecc498df52577ebf2e93b9a02204348a0e9444c78cb265e058d5e8944b4d84f9662bd26db257f8934a443c701610220cb3ccb' +
  'b76031e5e0138f8dd39a23f9de47ffc35e43c1144cea27d46a5ab1cb5f022031ad6648f8104138c738f39ea4320133393e3a18cc02296ef97c2ac9ef' +
  '6731d00220552f7bdcf1a7af9e6ce672017f4f12abf77240c78e761ac203d1d9d20ac89988022067540a47aa5b9f34570a99723cfefa96a96ee3f0d9' +
  'b8bf4def9440b8065d665d02207224395222cd588c4f2683716922addb41e39b581ac34fa87b39efa896fbb39e0220cbb522d7b7f127ad6a0113865b' +
  'df1cd4102e7d0759af635a7cf4720dc963c53b0220179fbc148a3dd00fd24ea13458cc43bfa7f59c8182d783a513f6ebec100c892402202cabeafe37' +
  'd06ca22aba7391c0033d25982952c453647349763a3ab5ad6ccf69',
);

const HELLO_3 = hex(
  '01000300010000003ec2ffd2d19d2d41860a54b2039b72ff180220c3846bf24b9e93ca64274c0ec67c1ecc5e024ffcacd2d74019350e81fe546ae402' +
  '2045140b3247eb9cc8c5b4f0d7b53091f73292089e6e5a63e2749dd3aca9198eda0220d7a7a0fb5d7e2731d771e9484ebcdef71d5f0c3e0a2948782b' +
  'c83ee0ea699ef402201465fa205397b876faa6f0a9958e5590e40fcc7faa4fb7c2c8677521fb5fb65802202ce1cb0bf9d2f9e102993fbe215152c3b2' +
  'dd0cabde1c68e5319b839154dbb7f502209acfab7e43c8d880d06b262a94deeee4b4659989c3d0caf19baf6405e41ab7df022016af57a9f676b0ab12' +
  '6095aa5ebadef22ab31119d644ac95cd4b93dbf3f26aeb0220960adf0063e96356750c2965dd0a0867da0b9cbd6e77714aeafb2349ab393da3022068' +
  'ad50909b04363c605ef13581a939ff2c96372e3f12325b0a6861e1d59f660302206dc47172e01cbcb0bf62580d895fe2b8ac9ad4f873801e0c10b9c8' +
  '37d21eb177022073c176434f1bc6d5adf45b0e76e727287c8de57616c1e6e6141a2b2cbc7d8e4c022043df5774b03e7fef5fe40d931a7bedf1bb2e6b' +
  '42738c4e6d3841103d3aa7f33902202399561127a57125de8cefea610ddf2fa078b5c8067f4e828290bfb860e84b3c022070a73f7f376b6007424890' +
  '4534b11482d5bf0e698ecc498df52577ebf2e93b9a02204348a0e9444c78cb265e058d5e8944b4d84f9662bd26db257f8934a443c701610220cb3ccb' +
  'b76031e5e0138f8dd39a23f9de47ffc35e43c1144cea27d46a5ab1cb5f022031ad6648f8104138c738f39ea4320133393e3a18cc02296ef97c2ac9ef' +
  '6731d00220552f7bdcf1a7af9e6ce672017f4f12abf77240c78e761ac203d1d9d20ac89988022067540a47aa5b9f34570a99723cfefa96a96ee3f0d9' +
  'b8bf4def9440b8065d665d0220a267c480b0b29056eb5e8aa7c93add804f5a7df516e969e77bcacafe8d45607902207224395222cd588c4f26837169' +
  '22addb41e39b581ac34fa87b39efa896fbb39e0220cbb522d7b7f127ad6a0113865bdf1cd4102e7d0759af635a7cf4720dc963c53b0220179fbc148a' +
  '3dd00fd24ea13458cc43bfa7f59c8182d783a513f6ebec100c892402202cabeafe37d06ca22aba7391c0033d25982952c453647349763a3ab5ad6ccf' +
  '69',
);

function hello(r: HelloResult) {
  assert.ok(r.ok, JSON.stringify(r));
  return r;
}

test('the first MeshCentral Hello: admin credentials set, retry 0, 23 SHA-256 root hashes', () => {
  const r = hello(parseHello(HELLO_1));
  assert.equal(r.length, 807);
  assert.equal(r.hello.adminCredentialsSet, true);
  assert.equal(r.hello.interfaceVersion, 3);
  assert.equal(r.hello.retryCount, 0);
  // Raw 4b529b93 d413 181d e487 1c697a6b7a2b; MeshCentral's guidToStr swaps the first three fields.
  assert.equal(r.hello.uuid, '939b524b-13d4-1d18-e487-1c697a6b7a2b');
  assert.equal(r.hello.rootHashes.length, 23);
  assert.ok(r.hello.rootHashes.every((h) => h.algorithm === 'sha256' && /^[0-9a-f]{64}$/.test(h.hex)));
  assert.equal(r.hello.rootHashes[0]?.hex, 'c3846bf24b9e93ca64274c0ec67c1ecc5e024ffcacd2d74019350e81fe546ae4');
  assert.equal(r.hello.rootHashes[22]?.hex, '2cabeafe37d06ca22aba7391c0033d25982952c453647349763a3ab5ad6ccf69');
});

test('the third MeshCentral Hello: a retry (count 1) from another machine, with one more hash', () => {
  const r = hello(parseHello(HELLO_3));
  assert.equal(r.length, 841);
  assert.equal(r.hello.retryCount, 1);
  assert.equal(r.hello.uuid, 'd2ffc23e-9dd1-412d-860a-54b2039b72ff');
  assert.equal(r.hello.rootHashes.length, 24);
  assert.ok(r.hello.rootHashes.some((h) => h.hex === 'a267c480b0b29056eb5e8aa7c93add804f5a7df516e969e77bcacafe8d456079'));
});

test('a Hello arriving in pieces is incomplete until its last hash, and bytes after it are not read', () => {
  for (const n of [0, 1, 3, 10, 24, 25, 26, 27, 100, 806]) {
    assert.deepEqual(parseHello(HELLO_1.subarray(0, n)), { ok: false, incomplete: true }, `${n} bytes`);
  }
  const withTail = new Uint8Array([...HELLO_1, 0xde, 0xad]);
  assert.equal(hello(parseHello(withTail)).length, 807);
});

test('what is not a PKI Hello is refused with a reason', () => {
  const set = (i: number, v: number) => { const b = HELLO_1.slice(); b[i] = v; return b; };
  const cases: readonly [string, Uint8Array, RegExp][] = [
    ['PSK Hello', set(2, 2), /PSK Hello \(interface version 2\)/],
    ['unknown version', set(2, 7), /interface version 7/],
    ['admin field', set(0, 2), /admin-credentials field 2/],
    ['hash algorithm', set(25, 4), /hash 1: algorithm 4/],
    ['hash length', set(26, 20), /hash 1: sha256 of 20 bytes, want 32/],
    ['too many hashes', set(24, 200), /200 root hashes/],
    ['HTTP instead', Uint8Array.from(Buffer.from('GET / HTTP/1.1\r\n\r\n')), /admin-credentials field|interface version/],
  ];
  for (const [name, bytes, reason] of cases) {
    const r = parseHello(bytes);
    assert.ok(!r.ok && 'reason' in r, name);
    if (!r.ok && 'reason' in r) assert.match(r.reason, reason, name);
  }
});

test('encodeHello writes the bytes parseHello reads: MeshCentral\'s Hello re-encodes byte for byte', () => {
  const r = hello(parseHello(HELLO_3));
  assert.deepEqual(encodeHello(r.hello), HELLO_3);
  const mixed = { adminCredentialsSet: false, retryCount: 14, uuid: '4c4c4544-004b-4210-8033-b6c04f504633', rootHashes: [
    { algorithm: 'sha1' as const, hex: 'ab'.repeat(20) },
    { algorithm: 'sha384' as const, hex: '0c'.repeat(48) },
  ] };
  const back = hello(parseHello(encodeHello(mixed)));
  assert.deepEqual(back.hello, { ...mixed, interfaceVersion: 3 });
  assert.equal(back.length, 25 + 22 + 50);
});
