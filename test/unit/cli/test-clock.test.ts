/**
 * `netboot controller --test-clock-file`: off by default; the FileClock
 * reads its instant from the file, fires a timer when the file's time passes
 * its due instant (or after its delay in real time), keeps the last good
 * instant while the file is mid-rewrite, and refuses a file without one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { controllerConfig } from '../../../src/cli/controller.ts';
import { FileClock } from '../../../src/cli/test-clock.ts';
import { Errors, isNetbootError } from '../../../src/errors.ts';

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('the flag is off by default and takes a path', () => {
  assert.equal(controllerConfig([], {}).testClockFile, undefined);
  assert.equal(controllerConfig(['--test-clock-file', '/tmp/clock'], {}).testClockFile, '/tmp/clock');
});

test('now() is the file\'s instant; a far timer fires when the file passes it, a short one after its real delay', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'netboot-clock-'));
  const file = join(dir, 'now');
  writeFileSync(file, '2026-11-23T10:00:00Z\n');
  const errors: string[] = [];
  const clock = new FileClock(file, { onError: (m) => errors.push(m) });
  try {
    assert.equal(clock.now(), Date.parse('2026-11-23T10:00:00Z'));
    const fired: string[] = [];
    clock.setTimer(() => fired.push('window'), 24 * 3_600_000);
    clock.setTimer(() => fired.push('retry'), 20);
    const cancelled = clock.setTimer(() => fired.push('cancelled'), 3_600_000);
    await wait(150);
    assert.deepEqual(fired, ['retry'], 'real delay for short timers; the file has not moved');
    cancelled.cancel();
    writeFileSync(file, '2026-11-24T09:59:59Z');
    await wait(150);
    assert.deepEqual(fired, ['retry'], 'one second before: not due');
    writeFileSync(file, '2026-11-24T10:00:00Z');
    await wait(150);
    assert.deepEqual(fired, ['retry', 'window'], 'due when the file reaches it, cancelled ones never');
    writeFileSync(file, 'garbage');
    await wait(20);
    assert.equal(clock.now(), Date.parse('2026-11-24T10:00:00Z'), 'the last good instant');
    assert.equal(errors.length, 1);
    assert.match(errors[0] ?? '', /must hold one RFC 3339 instant/);
  } finally {
    clock.close();
    rmSync(dir, { recursive: true, force: true });
  }
  assert.throws(() => new FileClock(join(dir, 'missing')), (e: unknown) => isNetbootError(e, Errors.ControllerConfigInvalid));
});
