import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TftpOption } from '../../../../src/protocol/tftp/packet.ts';
import type { TransferAction } from '../../../../src/protocol/tftp/transfer.ts';
import type { TransferPlan, TransferPolicy } from '../../../../src/protocol/tftp/options.ts';
import { decodePacket } from '../../../../src/protocol/tftp/decode.ts';
import { defaultPolicy, negotiateRead } from '../../../../src/protocol/tftp/options.ts';
import { ReadTransfer } from '../../../../src/protocol/tftp/transfer.ts';
import { assertSameBytes, pseudoRandomBytes, simulate } from './client-sim.ts';
import type { Loss } from './client-sim.ts';

function planFor(size: number, options: TftpOption[] = [], policy: Partial<TransferPolicy> = {}): TransferPlan {
  const result = negotiateRead({ kind: 'rrq', filename: 'f', mode: 'octet', options }, size, { ...defaultPolicy, ...policy });
  assert.ok(result.ok);
  return result.plan;
}

const opt = (name: string, value: string): TftpOption => ({ name, value });
const dataOf = (actions: TransferAction[]) => actions.filter((a) => a.type === 'sendData');
const lose = (kind: 'data' | 'ack', block: number, times = 1): Loss =>
  (_direction, p, seen) => p.kind === kind && p.block === block && seen < times;

test('lock-step 512: DATA then ACK, short last block, exact bytes', () => {
  const file = pseudoRandomBytes(1300);
  const sim = simulate({ file });
  assert.deepEqual(sim.trace, ['S DATA 1', 'C ACK 1', 'S DATA 2', 'C ACK 2', 'S DATA 3', 'C ACK 3']);
  assertSameBytes(sim.received, file);
  assert.deepEqual(
    { ok: sim.finish.ok, reason: sim.finish.reason, bytesSent: sim.finish.bytesSent, retransmitted: sim.finish.retransmitted },
    { ok: true, reason: 'Complete', bytesSent: 1300, retransmitted: 0 },
  );
});

test('start without options sends DATA 1 at once and arms the timer from now', () => {
  const t = new ReadTransfer(planFor(1300));
  assert.deepEqual(t.start(5000), [
    { type: 'sendData', block: 1, offset: 0, length: 512 },
    { type: 'timer', at: 6000 },
  ]);
  assert.deepEqual(t.ack(1, 5010), [
    { type: 'sendData', block: 2, offset: 512, length: 512 },
    { type: 'timer', at: 6010 },
  ]);
});

test('blksize 1468 with tsize: OACK first, DATA 1 only after ACK 0', () => {
  const file = pseudoRandomBytes(5000, 7);
  const t = new ReadTransfer(planFor(file.length, [opt('blksize', '1468'), opt('tsize', '0')]));
  const [oack, timer, ...rest] = t.start(0);
  assert.equal(rest.length, 0);
  assert.deepEqual(timer, { type: 'timer', at: 1000 });
  assert.ok(oack?.type === 'send');
  assert.deepEqual(decodePacket(oack.packet), {
    ok: true, packet: { kind: 'oack', options: [opt('blksize', '1468'), opt('tsize', '5000')] },
  });
  assert.deepEqual(dataOf(t.ack(0, 10)), [{ type: 'sendData', block: 1, offset: 0, length: 1468 }]);

  const sim = simulate({ file, options: [opt('blksize', '1468'), opt('tsize', '0')] });
  assert.deepEqual(sim.trace, ['S OACK', 'C ACK 0', 'S DATA 1', 'C ACK 1', 'S DATA 2', 'C ACK 2', 'S DATA 3', 'C ACK 3', 'S DATA 4', 'C ACK 4']);
  assertSameBytes(sim.received, file);
});

test('windowsize 8 with DATA 4 lost: the gap ACK restarts the window at 4, no timeout', () => {
  const file = pseudoRandomBytes(20 * 512 + 100, 3); // 21 blocks
  const sim = simulate({ file, options: [opt('windowsize', '8')], loss: lose('data', 4) });
  assertSameBytes(sim.received, file);
  assert.equal(sim.timeouts, 0);
  const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
  assert.deepEqual(sim.dataBlocks, [...range(1, 8), ...range(4, 11), ...range(12, 19), 20, 21]);
  assert.equal(sim.finish.retransmitted, 5); // blocks 4..8
  assert.ok(sim.finish.ok);
});

test('windowsize 8 with the last DATA of a window lost: the timer goes back to the first unacked block', () => {
  const file = pseudoRandomBytes(20 * 512 + 100, 4);
  const sim = simulate({ file, options: [opt('windowsize', '8')], loss: lose('data', 8) });
  assertSameBytes(sim.received, file);
  assert.equal(sim.timeouts, 1);
  assert.deepEqual(sim.dataBlocks.slice(0, 17), [1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

test('windowsize 8, client timer re-ACKs 7 before the server times out: resend starts at 8', () => {
  const file = pseudoRandomBytes(20 * 512 + 100, 5);
  const sim = simulate({ file, options: [opt('windowsize', '8')], loss: lose('data', 8), clientTimeoutMs: 300 });
  assertSameBytes(sim.received, file);
  assert.equal(sim.timeouts, 0);
  assert.deepEqual(sim.dataBlocks.slice(8, 10), [8, 9]);
});

test('lost ACK in lock-step: the timer resends the block, the client re-ACKs, the transfer goes on', () => {
  const file = pseudoRandomBytes(1300, 9);
  const sim = simulate({ file, loss: lose('ack', 2) });
  assert.deepEqual(sim.trace, [
    'S DATA 1', 'C ACK 1', 'S DATA 2', 'lost C ACK 2', 'timeout at 1000', 'S DATA 2', 'C ACK 2', 'S DATA 3', 'C ACK 3',
  ]);
  assertSameBytes(sim.received, file);
  assert.equal(sim.finish.retransmitted, 1);
});

test('a duplicate ACK sends nothing (no Sorcerer\'s Apprentice)', () => {
  const t = new ReadTransfer(planFor(2000));
  t.start(0);
  assert.deepEqual(t.timeout(1000).filter((a) => a.type === 'sendData').length, 1); // DATA 1 again
  assert.equal(dataOf(t.ack(1, 1001)).length, 1); // DATA 2
  assert.deepEqual(t.ack(1, 1002), [{ type: 'ignore', reason: 'duplicate ACK 1' }]); // the retransmission's ACK
  assert.deepEqual(dataOf(t.ack(2, 1003)), [{ type: 'sendData', block: 3, offset: 1024, length: 512 }]);
  assert.deepEqual(t.ack(9, 1004), [{ type: 'ignore', reason: 'ACK 9 for a block not sent (stale or bogus)' }]);
});

test('a network that duplicates every ACK causes no extra DATA', () => {
  for (const windowsize of ['1', '4']) {
    const file = pseudoRandomBytes(40 * 512 + 1, 11);
    const sim = simulate({ file, options: [opt('windowsize', windowsize)], duplicate: (d) => d === 'toServer', trace: false });
    assertSameBytes(sim.received, file);
    assert.equal(sim.dataBlocks.length, 41, `windowsize ${windowsize}`);
    assert.ok(sim.ignored.every((r) => r.startsWith('duplicate ACK')));
  }
});

test('a size that is an exact multiple of blksize ends with an empty DATA block', () => {
  for (const [size, blocks] of [[1024, 3], [0, 1], [512, 2]] as const) {
    const file = pseudoRandomBytes(size, 13);
    const sim = simulate({ file });
    assertSameBytes(sim.received, file);
    assert.equal(sim.dataBlocks.length, blocks, `size ${size}`);
  }
  const t = new ReadTransfer(planFor(1024));
  t.start(0);
  t.ack(1, 1);
  assert.deepEqual(dataOf(t.ack(2, 2)), [{ type: 'sendData', block: 3, offset: 1024, length: 0 }]);
  assert.deepEqual(t.ack(3, 3), [{ type: 'finish', ok: true, reason: 'Complete', message: 'transfer complete', bytesSent: 1024, retransmitted: 0 }]);
});

test('block numbers wrap from 65535 to 0 (blksize 8, lock-step and windowed with loss at the wrap)', () => {
  const file = pseudoRandomBytes(65536 * 8 + 100, 17); // 65549 blocks
  const lockstep = simulate({ file, options: [opt('blksize', '8')], trace: false });
  assertSameBytes(lockstep.received, file);
  assert.deepEqual(lockstep.dataBlocks.slice(65533, 65538), [65534, 65535, 0, 1, 2]);

  // Windows of 10 straddle the wrap (65531..65540); losing wire block 1 the second time
  // (absolute 65537) makes the client ACK wire 0, which must map to 65536, not 0.
  const windowed = simulate({
    file, options: [opt('blksize', '8'), opt('windowsize', '10')], trace: false,
    loss: (d, p, seen) => d === 'toClient' && p.kind === 'data' && p.block === 1 && seen === 1,
  });
  assertSameBytes(windowed.received, file);
  assert.equal(windowed.timeouts, 0);
  assert.deepEqual(windowed.dataBlocks.slice(65530, 65548), [
    65531, 65532, 65533, 65534, 65535, 0, 1, 2, 3, 4, // 1 lost, 2 reveals the gap
    1, 2, 3, 4, 5, 6, 7, 8,
  ]);
  assert.ok(windowed.finish.ok);
});

test('ERROR 8 right after an OACK with tsize is a clean tsize probe', () => {
  const file = pseudoRandomBytes(777);
  const sim = simulate({ file, options: [opt('tsize', '0'), opt('blksize', '1468')], probeOnly: true });
  assert.deepEqual(sim.trace, ['S OACK', 'C ERROR']);
  assert.deepEqual(sim.finish, {
    type: 'finish', ok: true, reason: 'TsizeProbe', message: 'client aborted after tsize probe', bytesSent: 0, retransmitted: 0,
  });
});

test('client errors finish the transfer without a reply', () => {
  const cases: Array<[options: TftpOption[], acks: number[], code: number, ok: boolean, reason: string, message: string]> = [
    [[opt('blksize', '1468')], [], 8, false, 'ClientRefusedOptions', 'client refused the OACK: no'],
    [[opt('tsize', '0')], [0], 8, false, 'ClientError', 'client sent error 8 (Option negotiation refused): no'],
    [[], [1], 3, false, 'ClientError', 'client sent error 3 (Disk full or allocation exceeded): no'],
    [[], [], 42, false, 'ClientError', 'client sent error 42 (error 42): no'],
  ];
  for (const [options, acks, code, ok, reason, message] of cases) {
    const t = new ReadTransfer(planFor(5000, options));
    t.start(0);
    for (const a of acks) t.ack(a, 1);
    const actions = t.receive({ kind: 'error', code, message: 'no' }, 2);
    assert.deepEqual(actions, [{ type: 'finish', ok, reason, message, bytesSent: acks.includes(1) ? 512 : 0, retransmitted: 0 }]);
    assert.ok(t.finished);
    assert.equal(t.ack(2, 3)[0]?.type, 'ignore');
  }
});

test('retries are bounded: initial send + maxRetries resends, then Timeout', () => {
  const file = pseudoRandomBytes(3000);
  const sim = simulate({ file, loss: (d, p) => d === 'toClient' && p.kind === 'data' && p.block === 2 });
  assert.equal(sim.dataBlocks.filter((b) => b === 2).length, 1 + defaultPolicy.maxRetries);
  assert.deepEqual({ ...sim.finish, type: undefined }, {
    type: undefined, ok: false, reason: 'Timeout', message: 'no ACK for block 2 after 5 retries', bytesSent: 512, retransmitted: 5,
  });
  assert.equal(sim.now, 6000);

  const quiet = simulate({ file, options: [opt('timeout', '2')], policy: { maxRetries: 2 }, loss: () => true });
  assert.equal(quiet.finish.message, 'no ACK for the OACK after 2 retries');
  assert.equal(quiet.now, 6000); // negotiated 2 s timeout, 3 waits
});

test('progress resets the retry budget', () => {
  const file = pseudoRandomBytes(512 * 6);
  const sim = simulate({ file, loss: (d, p, seen) => d === 'toClient' && p.kind === 'data' && seen < 4 });
  assertSameBytes(sim.received, file);
  assert.equal(sim.timeouts, 4 * 7);
});

test('an early or stale timer only re-arms; events after finish are ignored', () => {
  const t = new ReadTransfer(planFor(10));
  assert.equal(t.timeout(0)[0]?.type, 'ignore'); // not started
  t.start(100);
  assert.deepEqual(t.timeout(1099), [{ type: 'timer', at: 1100 }]);
  assert.deepEqual(t.ack(1, 200).map((a) => a.type), ['finish']);
  assert.deepEqual(t.timeout(5000).map((a) => a.type), ['ignore']);
  assert.deepEqual(t.abort('late').map((a) => a.type), ['ignore']);
  assert.throws(() => t.start(0), /twice/);
});

test('abort sends an ERROR and finishes; unexpected packets are ignored', () => {
  const t = new ReadTransfer(planFor(5000));
  t.start(0);
  assert.deepEqual(t.receive({ kind: 'data', block: 1, data: new Uint8Array() }, 1), [
    { type: 'ignore', reason: 'unexpected DATA during a read transfer' },
  ]);
  const [send, finish] = t.abort('read failed: EIO');
  assert.ok(send?.type === 'send');
  assert.deepEqual(decodePacket(send.packet), { ok: true, packet: { kind: 'error', code: 0, message: 'read failed: EIO' } });
  assert.deepEqual(finish, { type: 'finish', ok: false, reason: 'Aborted', message: 'read failed: EIO', bytesSent: 0, retransmitted: 0 });
});

test('random loss in both directions still delivers the exact file', () => {
  let seed = 99;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  for (const [windowsize, clientTimeoutMs] of [['1', undefined], ['4', 700], ['8', 3000], ['16', undefined]] as const) {
    const file = pseudoRandomBytes(300 * 512 + 77, Number(windowsize));
    const sim = simulate({
      file, options: [opt('windowsize', windowsize)], policy: { maxRetries: 20 }, trace: false,
      loss: () => random() < 0.1, ...(clientTimeoutMs === undefined ? {} : { clientTimeoutMs }),
    });
    assertSameBytes(sim.received, file, `windowsize ${windowsize}`);
    assert.ok(sim.finish.ok, `windowsize ${windowsize}: ${sim.finish.message}`);
    assert.ok(sim.dataBlocks.length < 301 * 4, `windowsize ${windowsize}: ${sim.dataBlocks.length} DATA sent`);
  }
});

test('a plan no negotiation could produce is refused', () => {
  const good = planFor(10);
  for (const bad of [{ blksize: 0 }, { windowsize: 65536 }, { size: -1 }, { timeoutMs: 0 }, { maxRetries: -1 }]) {
    assert.throws(() => new ReadTransfer({ ...good, ...bad }), RangeError);
  }
});
