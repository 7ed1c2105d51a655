import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AmtMachineBook } from '../../../src/agent/amt-machines.ts';
import type { Client } from '../../../src/boot/classify.ts';

/** An OS request (no PXE facts) that carries option 97: only its UUID is remembered. */
function withUuid(uuid: string, mac: string): Client {
  return { messageType: 3, mac, isBootClient: false, stage: 'os', uuid } as unknown as Client;
}

const uuidOf = (i: number) => `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
const macOf = (i: number) => `02:00:${[24, 16, 8, 0].map((s) => ((i >> s) & 255).toString(16).padStart(2, '0')).join(':')}`;
/** The book's bound (src/agent/amt-machines.ts LIMIT). */
const LIMIT = 10_000;

test('AmtMachineBook: a UUID maps to the MAC it was last seen with, any case', () => {
  const book = new AmtMachineBook();
  book.note(withUuid('4C4C4544-0000-4000-8000-0000000000AA', macOf(1)));
  assert.equal(book.macOfUuid('4c4c4544-0000-4000-8000-0000000000aa'), macOf(1));
  book.note(withUuid('4c4c4544-0000-4000-8000-0000000000aa', macOf(2)));
  assert.equal(book.macOfUuid('4C4C4544-0000-4000-8000-0000000000AA'), macOf(2));
});

test('AmtMachineBook: past its bound the entry first seen longest ago goes; a repeat of the same facts does not move it', () => {
  const book = new AmtMachineBook();
  for (let i = 0; i < LIMIT; i++) book.note(withUuid(uuidOf(i), macOf(i)));
  assert.equal(book.macOfUuid(uuidOf(0)), macOf(0), 'the bound holds exactly LIMIT entries');
  book.note(withUuid(uuidOf(0), macOf(0))); // the same facts again
  book.note(withUuid(uuidOf(LIMIT), macOf(LIMIT)));
  assert.equal(book.macOfUuid(uuidOf(0)), undefined, 'entry 0 was the oldest and is gone');
  assert.equal(book.macOfUuid(uuidOf(1)), macOf(1));
  assert.equal(book.macOfUuid(uuidOf(LIMIT)), macOf(LIMIT));
});

test('AmtMachineBook: an entry whose facts change becomes the newest', () => {
  const book = new AmtMachineBook();
  for (let i = 0; i < LIMIT; i++) book.note(withUuid(uuidOf(i), macOf(i)));
  book.note(withUuid(uuidOf(0), macOf(LIMIT + 5))); // the board moved to another NIC
  book.note(withUuid(uuidOf(LIMIT), macOf(LIMIT)));
  assert.equal(book.macOfUuid(uuidOf(0)), macOf(LIMIT + 5), 'entry 0 changed, so it stayed');
  assert.equal(book.macOfUuid(uuidOf(1)), undefined, 'entry 1 was then the oldest');
});
