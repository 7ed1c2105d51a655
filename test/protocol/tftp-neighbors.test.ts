/**
 * A TFTP read from a client the agent never saw DHCP from is still recorded
 * for its machine: the agent finds the MAC in the kernel's neighbour table
 * (src/agent/neighbors.ts). That is a BIOS PXE ROM taking its boot file from
 * a ProxyDHCP OFFER while the site server unicasts its ACK. Here the client
 * is a lab host with a fixed address and MAC that sends nothing but the TFTP
 * read (tftp-hpa), so the neighbour table is the only way to know it.
 *
 * Root only (network namespaces); fails, never skips, when a tool is missing.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Lab, agentErrors, agentResources, requireLabPrerequisites, tail, waitForMachine } from '../e2e/support/lab.ts';
import type { Agent } from '../e2e/support/lab.ts';
import { tftpHpa } from './support/clients.ts';
import { requireTools } from './support/tools.ts';

const INDEX = 142;
const CLIENT = 60;
/** lab.sh gives host N of lab I the MAC 02:4e:42:<I>:00:<N> (hex). */
const CLIENT_MAC = `02:4e:42:${INDEX.toString(16).padStart(2, '0')}:00:${CLIENT.toString(16).padStart(2, '0')}`;

let lab: Lab | undefined;
let agent: Agent | undefined;
let failed = false;

before(async () => {
  requireLabPrerequisites({ qemu: false, scapy: false });
  requireTools('tftp');
  lab = await Lab.up(INDEX, 'tftp-neighbors');
  await lab.host('server', 3);
  await lab.host('client', CLIENT);
  const machine = `---
apiVersion: netboot.dev/v1alpha1
kind: BootMachine
metadata:
  name: ${CLIENT_MAC.replaceAll(':', '-')}
spec:
  mac: ${CLIENT_MAC}
  network: e2e
`;
  agent = await lab.startAgent('server', agentResources({ mode: 'proxy', net: lab.net, marker: 'unused' }) + machine);
});

after(async () => {
  await lab?.down({ purge: !failed });
});

test('a TFTP read from an address never seen in DHCP is recorded for the MAC the neighbour table gives', async () => {
  try {
    const l = lab as Lab;
    const a = agent as Agent;
    const local = join(l.dir, 'undionly.kpxe');
    const r = await tftpHpa({ host: a.address, port: 69, netns: l.ns('client') }, 'get', 'undionly.kpxe', local);
    assert.equal(r.code, 0, `tftp failed: ${r.stdout}${r.stderr}`);
    const m = await waitForMachine(a.stateDir, CLIENT_MAC, (x) => (x.status?.boot?.history ?? []).some((h) => h.event === 'TftpCompleted'));
    const history = m?.status?.boot?.history ?? [];
    const done = history.find((h) => h.event === 'TftpCompleted');
    assert.ok(done !== undefined, `no TftpCompleted for ${CLIENT_MAC}; history ${JSON.stringify(history)}\nagent log:\n${tail(a.log, 20)}`);
    assert.match(done.detail ?? '', /^undionly\.kpxe \d+ bytes$/);
    assert.equal(m?.status?.boot?.phase, 'LoaderDownloaded');
    assert.ok(!history.some((h) => h.event === 'Discover' || h.event === 'ProxyOffer'), 'the client sent no DHCP: the MAC came from the neighbour table');
    assert.match(tail(a.log, 200), /client MAC from the neighbour table/);
    assert.deepEqual(agentErrors(a.log), []);
  } catch (err) {
    failed = true;
    throw err;
  }
});
