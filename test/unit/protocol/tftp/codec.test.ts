import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Packet } from '../../../../src/protocol/tftp/packet.ts';
import { encodeAck, encodeData, encodeError, encodePacket } from '../../../../src/protocol/tftp/packet.ts';
import { decodePacket } from '../../../../src/protocol/tftp/decode.ts';
import { accessViolation, fileNotFound, illegalOperation, optionRefused, otherError } from '../../../../src/protocol/tftp/error-packet.ts';
import { pseudoRandomBytes } from './client-sim.ts';

/** Bytes from a string where `\0` is NUL; `op` is the opcode prefix. */
const wire = (op: number, text = '') => Uint8Array.from([0, op, ...Buffer.from(text, 'latin1')]);

test('round trips: decode(encode(p)) is p', () => {
  const packets: Packet[] = [
    { kind: 'rrq', filename: 'pxelinux.0', mode: 'octet', options: [] },
    {
      kind: 'rrq', filename: 'efi/x86_64/ipxe.efi', mode: 'octet',
      options: [{ name: 'tsize', value: '0' }, { name: 'blksize', value: '1468' }, { name: 'windowsize', value: '8' }, { name: 'timeout', value: '3' }],
    },
    { kind: 'rrq', filename: 'ünïcode/🚀.bin', mode: 'octet', options: [] },
    { kind: 'wrq', filename: 'upload.bin', mode: 'netascii', options: [{ name: 'tsize', value: '1234' }] },
    { kind: 'data', block: 1, data: pseudoRandomBytes(512) },
    { kind: 'data', block: 65535, data: new Uint8Array(0) },
    { kind: 'ack', block: 0 },
    { kind: 'ack', block: 65535 },
    { kind: 'error', code: 1, message: 'File not found' },
    { kind: 'error', code: 0, message: '' },
    { kind: 'oack', options: [{ name: 'blksize', value: '1468' }, { name: 'tsize', value: '7340032' }] },
  ];
  for (const packet of packets) {
    assert.deepEqual(decodePacket(encodePacket(packet)), { ok: true, packet }, packet.kind);
  }
});

test('golden bytes: an RRQ as firmware sends it, and the packets we send', () => {
  const rrq = wire(1, 'pxelinux.0\0octet\0tsize\x000\0blksize\x001468\0');
  assert.deepEqual(decodePacket(rrq), {
    ok: true,
    packet: { kind: 'rrq', filename: 'pxelinux.0', mode: 'octet', options: [{ name: 'tsize', value: '0' }, { name: 'blksize', value: '1468' }] },
  });
  assert.deepEqual(encodePacket({ kind: 'oack', options: [{ name: 'blksize', value: '1468' }] }), wire(6, 'blksize\x001468\0'));
  assert.deepEqual(encodeData(258, Uint8Array.from([0xaa, 0xbb])), Uint8Array.from([0, 3, 1, 2, 0xaa, 0xbb]));
  assert.deepEqual(encodeAck(513), Uint8Array.from([0, 4, 2, 1]));
  assert.deepEqual(encodeError(8, 'no'), wire(5, '\0\x08no\0'));
});

test('RRQ options and mode are case-insensitive; trailing NUL padding is tolerated', () => {
  const decoded = decodePacket(wire(1, 'Boot.EFI\0OCTET\0BlkSize\x001468\0TSIZE\x000\0\0\0\0'));
  assert.deepEqual(decoded, {
    ok: true,
    packet: { kind: 'rrq', filename: 'Boot.EFI', mode: 'octet', options: [{ name: 'blksize', value: '1468' }, { name: 'tsize', value: '0' }] },
  });
});

test('ERROR decoding is lenient: a missing NUL or bad UTF-8 still yields the code', () => {
  assert.deepEqual(decodePacket(wire(5, '\0\x08User aborted')), { ok: true, packet: { kind: 'error', code: 8, message: 'User aborted' } });
  const bad = decodePacket(Uint8Array.from([0, 5, 0, 8, 0xff, 0]));
  assert.ok(bad.ok && bad.packet.kind === 'error' && bad.packet.code === 8);
  assert.deepEqual(decodePacket(Uint8Array.from([0, 4, 0, 7, 0, 0])), { ok: true, packet: { kind: 'ack', block: 7 } });
});

test('malformed packets give a short reason', () => {
  const cases: Array<[bytes: Uint8Array, reason: string]> = [
    [new Uint8Array(0), 'packet too short (0 bytes)'],
    [Uint8Array.from([0]), 'packet too short (1 bytes)'],
    [Uint8Array.from([0, 9]), 'unknown opcode 9'],
    [Uint8Array.from([0, 0]), 'unknown opcode 0'],
    [Uint8Array.from([1, 1, 0, 0]), 'unknown opcode 257'],
    [wire(1, 'pxelinux.0'), 'RRQ filename not NUL-terminated'],
    [wire(1), 'RRQ filename not NUL-terminated'],
    [wire(1, 'pxelinux.0\0octet'), 'RRQ mode not NUL-terminated'],
    [wire(1, 'pxelinux.0\0\0'), 'RRQ mode is empty or not text'],
    [wire(1, 'a\0octet\0blksize'), 'RRQ option name not NUL-terminated'],
    [wire(1, 'a\0octet\0blksize\x00512'), 'RRQ option "blksize" has no NUL-terminated value'],
    [wire(1, 'a\0octet\0\0x\0y\0'), 'RRQ option name is empty or not text'],
    [wire(1, 'a\0octet\0blksize\0\xff\0'), 'RRQ option "blksize" value is not valid UTF-8'],
    [wire(1, '\xff\xfe\0octet\0'), 'RRQ filename is not valid UTF-8'],
    [wire(2, 'upload'), 'WRQ filename not NUL-terminated'],
    [Uint8Array.from([0, 3, 0]), 'DATA shorter than 4 bytes'],
    [Uint8Array.from([0, 4, 1]), 'ACK shorter than 4 bytes'],
    [Uint8Array.from([0, 5, 0]), 'ERROR shorter than 4 bytes'],
    [wire(6, 'blksize\0'), 'OACK option "blksize" has no NUL-terminated value'],
  ];
  for (const [bytes, reason] of cases) {
    assert.deepEqual(decodePacket(bytes), { ok: false, reason }, reason);
  }
});

test('random input never throws, and whatever decodes re-encodes to the same packet', () => {
  let seed = 12345;
  for (let i = 0; i < 20_000; i += 1) {
    const bytes = pseudoRandomBytes(i % 48, seed++);
    // Bias towards valid opcodes and NULs so the string parsers get exercised.
    if (bytes.length > 1) bytes[0] = 0;
    if (bytes.length > 1) bytes[1] = (bytes[1] ?? 0) % 8;
    for (let j = 2; j < bytes.length; j += 3) if ((bytes[j] ?? 0) < 96) bytes[j] = 0;
    const decoded = decodePacket(bytes);
    if (decoded.ok) assert.deepEqual(decodePacket(encodePacket(decoded.packet)), decoded);
    else assert.ok(decoded.reason.length > 0 && decoded.reason.length < 80);
  }
});

test('encoders refuse values no peer could have sent', () => {
  assert.throws(() => encodeAck(65536), RangeError);
  assert.throws(() => encodeData(-1, new Uint8Array()), RangeError);
  assert.throws(() => encodeError(1.5, 'x'), RangeError);
  assert.throws(() => encodePacket({ kind: 'rrq', filename: 'a\0b', mode: 'octet', options: [] }), TypeError);
});

test('error packet helpers carry the RFC code and a default text', () => {
  const cases: Array<[bytes: Uint8Array, code: number, message: string]> = [
    [fileNotFound(), 1, 'File not found'],
    [accessViolation(), 2, 'Access violation'],
    [illegalOperation(), 4, 'Illegal TFTP operation'],
    [optionRefused(), 8, 'Option negotiation refused'],
    [fileNotFound('no such file: ipxe.efi'), 1, 'no such file: ipxe.efi'],
    [otherError('read failed'), 0, 'read failed'],
  ];
  for (const [bytes, code, message] of cases) {
    assert.deepEqual(bytes, encodeError(code, message));
    assert.deepEqual(decodePacket(bytes), { ok: true, packet: { kind: 'error', code, message } });
  }
});
