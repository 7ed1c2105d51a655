import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Request, TftpOption } from '../../../../src/protocol/tftp/packet.ts';
import type { TransferPolicy } from '../../../../src/protocol/tftp/options.ts';
import { decodePacket } from '../../../../src/protocol/tftp/decode.ts';
import { defaultPolicy, negotiateRead } from '../../../../src/protocol/tftp/options.ts';

const rrq = (options: TftpOption[], mode = 'octet'): Request => ({ kind: 'rrq', filename: 'boot.efi', mode, options });
const opts = (...pairs: Array<[string, string]>): TftpOption[] => pairs.map(([name, value]) => ({ name, value }));

test('negotiation table: accepted options go in the OACK in request order, the rest are ignored with a reason', () => {
  const cases: Array<{
    name: string;
    options: TftpOption[];
    policy?: Partial<TransferPolicy>;
    oack: TftpOption[] | null;
    plan?: { blksize?: number; windowsize?: number; timeoutMs?: number };
    ignored?: string[];
  }> = [
    { name: 'no options: RFC 1350 defaults, no OACK', options: [], oack: null, plan: { blksize: 512, windowsize: 1, timeoutMs: 1000 } },
    { name: 'blksize 1468 honoured', options: opts(['blksize', '1468']), oack: opts(['blksize', '1468']), plan: { blksize: 1468 } },
    { name: 'blksize 65464 lowered to the server max', options: opts(['blksize', '65464']), oack: opts(['blksize', '8192']), plan: { blksize: 8192 } },
    {
      name: 'blksize lowered to a configured max', options: opts(['blksize', '65464']), policy: { maxBlksize: 1468 },
      oack: opts(['blksize', '1468']), plan: { blksize: 1468 },
    },
    { name: 'blksize 8 is the RFC minimum', options: opts(['blksize', '8']), oack: opts(['blksize', '8']), plan: { blksize: 8 } },
    { name: 'blksize 7 refused', options: opts(['blksize', '7']), oack: null, plan: { blksize: 512 }, ignored: ['blksize 7 outside 8..65464'] },
    { name: 'blksize 65465 refused', options: opts(['blksize', '65465']), oack: null, ignored: ['blksize 65465 outside 8..65464'] },
    { name: 'blksize not a number', options: opts(['blksize', '1k']), oack: null, ignored: ['blksize "1k" is not a decimal number'] },
    { name: 'blksize negative', options: opts(['blksize', '-512']), oack: null, ignored: ['blksize "-512" is not a decimal number'] },
    { name: 'tsize answered with the real size', options: opts(['tsize', '0']), oack: opts(['tsize', '7340032']) },
    { name: 'timeout in seconds', options: opts(['timeout', '3']), oack: opts(['timeout', '3']), plan: { timeoutMs: 3000 } },
    { name: 'timeout 0 refused', options: opts(['timeout', '0']), oack: null, ignored: ['timeout 0 outside 1..255'] },
    { name: 'timeout 256 refused', options: opts(['timeout', '256']), oack: null, ignored: ['timeout 256 outside 1..255'] },
    { name: 'windowsize honoured', options: opts(['windowsize', '8']), oack: opts(['windowsize', '8']), plan: { windowsize: 8 } },
    { name: 'windowsize lowered to the max', options: opts(['windowsize', '1000']), oack: opts(['windowsize', '64']), plan: { windowsize: 64 } },
    { name: 'windowsize 0 refused', options: opts(['windowsize', '0']), oack: null, ignored: ['windowsize 0 outside 1..65535'] },
    { name: 'windowsize 65536 refused', options: opts(['windowsize', '65536']), oack: null, ignored: ['windowsize 65536 outside 1..65535'] },
    {
      name: 'order kept, unknown and repeated options ignored',
      options: opts(['windowsize', '4'], ['multicast', ''], ['tsize', '0'], ['blksize', '1456'], ['blksize', '512'], ['constructor', '1']),
      oack: opts(['windowsize', '4'], ['tsize', '7340032'], ['blksize', '1456']),
      plan: { blksize: 1456, windowsize: 4 },
      ignored: ['unknown option', 'repeated option', 'unknown option'],
    },
  ];
  for (const c of cases) {
    const result = negotiateRead(rrq(c.options), 7340032, { ...defaultPolicy, ...c.policy });
    assert.ok(result.ok, c.name);
    assert.deepEqual(result.plan.oack, c.oack, c.name);
    for (const [key, value] of Object.entries(c.plan ?? {})) {
      assert.equal(result.plan[key as keyof typeof c.plan], value, `${c.name}: ${key}`);
    }
    assert.deepEqual(result.ignored.map((i) => i.reason), c.ignored ?? [], c.name);
  }
});

test('modes: octet served, netascii refused by default or served as octet by policy, others refused', () => {
  const cases: Array<[mode: string, policy: Partial<TransferPolicy>, ok: boolean]> = [
    ['octet', {}, true],
    ['netascii', {}, false],
    ['netascii', { netascii: 'octet' }, true],
    ['mail', { netascii: 'octet' }, false],
  ];
  for (const [mode, policy, ok] of cases) {
    const result = negotiateRead(rrq([], mode), 10, { ...defaultPolicy, ...policy });
    assert.equal(result.ok, ok, `${mode} ${JSON.stringify(policy)}`);
    if (!result.ok) {
      assert.equal(result.reason, `mode ${mode} not supported: use octet (binary) mode`);
      assert.deepEqual(decodePacket(result.reply), { ok: true, packet: { kind: 'error', code: 4, message: result.reason } });
    }
  }
});

test('a WRQ is refused with ERROR 4', () => {
  const result = negotiateRead({ kind: 'wrq', filename: 'x', mode: 'octet', options: [] }, 0);
  assert.ok(!result.ok);
  assert.deepEqual(decodePacket(result.reply), {
    ok: true, packet: { kind: 'error', code: 4, message: 'write requests are refused: this server is read-only' },
  });
});

test('a bad policy or size is a configuration bug and throws', () => {
  const bad: Array<Partial<TransferPolicy>> = [{ maxBlksize: 100 }, { maxBlksize: 65465 }, { maxWindowsize: 0 }, { timeoutMs: 0 }, { maxRetries: -1 }];
  for (const policy of bad) {
    assert.throws(() => negotiateRead(rrq([]), 10, { ...defaultPolicy, ...policy }), RangeError, JSON.stringify(policy));
  }
  assert.throws(() => negotiateRead(rrq([]), -1), RangeError);
  assert.throws(() => negotiateRead(rrq([]), 1.5), RangeError);
});
