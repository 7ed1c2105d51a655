import { test } from 'node:test';
import assert from 'node:assert/strict';
import { macInArpTable, neighborMac } from '../../../src/agent/neighbors.ts';

// /proc/net/arp laid out as Linux 6.18 prints it (header and columns as on the test machine; the addresses are made up, the incomplete entry is one still being resolved).
const TABLE = `IP address       HW type     Flags       HW address            Mask     Device
10.213.9.60      0x1         0x2         02:4E:42:09:00:3c     *        eth0
10.213.9.61      0x1         0x0         00:00:00:00:00:00     *        eth0
192.168.1.1      0x1         0x2         52:54:00:aa:bb:cc     *        eth1
`;

test('the MAC of a complete entry on the serving interface, lower-cased', () => {
  assert.equal(macInArpTable(TABLE, '10.213.9.60', 'eth0'), '02:4e:42:09:00:3c');
});

test('no MAC for an incomplete entry, another interface, or an address not in the table', () => {
  assert.equal(macInArpTable(TABLE, '10.213.9.61', 'eth0'), undefined, 'incomplete (flags 0x0)');
  assert.equal(macInArpTable(TABLE, '192.168.1.1', 'eth0'), undefined, 'on eth1, not the serving interface');
  assert.equal(macInArpTable(TABLE, '10.213.9.62', 'eth0'), undefined);
  assert.equal(macInArpTable('', '10.213.9.60', 'eth0'), undefined);
});

test('neighborMac never throws: an unreadable table is no answer', () => {
  assert.equal(neighborMac('10.213.9.60', 'eth0', () => { throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' }); }), undefined);
  assert.equal(neighborMac('10.213.9.60', 'eth0', () => TABLE), '02:4e:42:09:00:3c');
});
