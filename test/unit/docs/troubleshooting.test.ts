/**
 * docs/troubleshooting.md quotes what operators will see: the agents'
 * stoppedReason texts, history details and log messages, the boot phases,
 * and the condition reasons. Each quoted phrase must still occur in the
 * source, so a reworded message cannot leave the table describing text
 * nobody sees any more.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BootPhases } from '../../../src/api/v1alpha1/bootmachine.ts';
import { BOOT_STALL_MS } from '../../../src/controller/evaluate/machine.ts';
import { Reason } from '../../../src/controller/reasons.ts';
import { REPO_ROOT } from '../../support/fixtures.ts';
import { readPage } from '../../support/docs.ts';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}
const src = sources(join(REPO_ROOT, 'src')).map((f) => readFileSync(f, 'utf8')).join('\n');
const page = readPage('docs/troubleshooting.md');

/** Phrases the page quotes, each a literal part of a message built in src/ (placeholders cut out). */
const QUOTED = [
  'has netboot: deny',
  'no MachineClass matches and the network has no defaultProfile',
  '" does not exist',
  'no first-stage loader for',
  'is not one we have a loader for',
  'is exhausted',
  'template field {{ ',
  ' }} has no value for ',
  'menu left out: ',
  'the PXE menu does not fit in option 43',
  'REQUEST for server ',
  ', not us',
  'no interface has an address in ',
  'local-disk script (boot once)',
  'HTTP ${d.status}',
];

test('every message the troubleshooting table quotes is still produced by the code', () => {
  for (const phrase of QUOTED) {
    assert.ok(src.includes(phrase), `src/ no longer contains "${phrase}"`);
    const shown = phrase === 'HTTP ${d.status}' ? ['HTTP 403', 'HTTP 404', 'HTTP 500'] : [phrase.trim()];
    for (const s of shown) assert.ok(page.includes(s), `docs/troubleshooting.md does not quote "${s}"`);
  }
});

test('the troubleshooting page names every boot phase and the BootHealthy and AgentsReady reasons', () => {
  for (const phase of BootPhases) assert.ok(page.includes(`\`${phase}\``), phase);
  for (const reason of [Reason.BootStopped, Reason.TftpFailed, Reason.BootStalled, Reason.NetbootDenied, Reason.NoNodes, Reason.AgentsNotReady, Reason.NoClassMatched, Reason.ProfileNotFound, Reason.PlanNotServed, Reason.CapReached]) {
    assert.ok(page.includes(`\`${reason}\``), reason);
  }
});

test('every stall time the page gives is the controller\'s', () => {
  const minutes = BOOT_STALL_MS / 60_000;
  const given = [...page.matchAll(/(\d+) minutes/g)].map((m) => Number(m[1]));
  assert.ok(given.length > 0);
  assert.deepEqual([...new Set(given)], [minutes]);
  assert.ok(readPage('docs/resources/bootmachine.md').includes(`no packet for ${minutes} minutes`));
});
