import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NetworkInterfaceInfo } from 'node:os';
import { servingInterface } from '../../../src/agent/interfaces.ts';

const v4 = (address: string, prefix: number): NetworkInterfaceInfo => ({ address, netmask: '', family: 'IPv4', mac: '00:00:00:00:00:00', internal: false, cidr: `${address}/${prefix}` });
const host = { lo: [v4('127.0.0.1', 8)], eno1: [v4('192.168.1.10', 24)], eno2: [v4('10.40.0.3', 24), v4('10.41.0.3', 24)] };

test('the interface holding an address in spec.subnet serves, whatever its name', () => {
  assert.deepEqual(servingInterface({ subnet: '10.41.0.0/24' }, host), { name: 'eno2', address: '10.41.0.3', serverAddress: '10.41.0.3' });
  assert.deepEqual(servingInterface({ subnet: '192.168.1.0/24', advertiseAddress: '192.168.1.250' }, host), { name: 'eno1', address: '192.168.1.10', serverAddress: '192.168.1.250' });
});

test('a named interface wins, preferring its address inside the subnet', () => {
  assert.deepEqual(servingInterface({ interface: 'eno2', subnet: '10.41.0.0/24' }, host), { name: 'eno2', address: '10.41.0.3', serverAddress: '10.41.0.3' });
});

test('no match is an error naming what the host has', () => {
  assert.throws(() => servingInterface({ subnet: '172.16.0.0/16' }, host), /NB2003|no interface has an address in 172\.16\.0\.0\/16; this host has: lo \(127\.0\.0\.1\/8\); eno1 \(192\.168\.1\.10\/24\)/);
  assert.throws(() => servingInterface({ interface: 'eth9', subnet: '10.41.0.0/24' }, host), /interface eth9 does not exist or has no IPv4 address/);
});
