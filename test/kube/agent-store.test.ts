/**
 * The agent side of cluster mode against a real kube-apiserver: the kube
 * store in-process (plan from informers, a class change reaching the agent
 * in under 2 s, status.boot by server-side apply owned by netboot-agent,
 * discovery, the agentReports entry following the controller's digest, and
 * no status lost across an API server restart), then the real
 * `netboot agent` command on loopback answering a ProxyDHCP DISCOVER.
 *
 * There is no kubelet here, so the agent runs as a process; nothing else in
 * the cluster plays the controller: where the controller would publish
 * status.planDigest/planGeneration, the test patches them itself.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import { GROUP, VERSION } from '../../src/api/v1alpha1/index.ts';
import { Errors } from '../../src/errors.ts';
import type { BootMachine } from '../../src/api/v1alpha1/bootmachine.ts';
import type { BootObservation } from '../../src/boot/status.ts';
import { MessageType, OptionCode, decodePacket, encodePacket, getOption } from '../../src/protocol/dhcp/index.ts';
import { kubeStoreApi, kubeStoreSources, openKubeStore } from '../../src/store/kube.ts';
import type { KubeStore } from '../../src/store/kube.ts';
import { captureLogger } from '../unit/store/fake-kube.ts';
import { request, withGiaddr } from '../support/dhcp.ts';
import { REPO_ROOT } from '../support/fixtures.ts';
import { useKubeCluster } from './support/kube-fixture.ts';
import { until } from './support/kube-json.ts';

const kube = useKubeCluster();

const MAC = '52:54:00:12:34:56';
const NAME = '52-54-00-12-34-56';

/** A namespace with a network (unprivileged ports), a profile, a default class and one machine. */
async function seed(namespace: string, ports: { dhcp: number; pxe: number; tftp: number; http: number }): Promise<void> {
  await kube.cluster.kubectl(['create', 'namespace', namespace]);
  await kube.cluster.kubectl(['apply', '-n', namespace, '-f', '-'], `apiVersion: ${GROUP}/${VERSION}
kind: BootNetwork
metadata: {name: lab}
spec:
  mode: proxy
  subnet: 10.99.0.0/24
  unknownMachines: discover
  defaultProfile: hello
  ports: {dhcp: ${ports.dhcp}, pxe: ${ports.pxe}, tftp: ${ports.tftp}, http: ${ports.http}}
---
apiVersion: ${GROUP}/${VERSION}
kind: BootProfile
metadata: {name: hello}
spec:
  ipxe: {script: "#!ipxe\\necho hello\\n"}
---
apiVersion: ${GROUP}/${VERSION}
kind: MachineClass
metadata: {name: everything}
spec: {default: true, profile: hello}
---
apiVersion: ${GROUP}/${VERSION}
kind: BootMachine
metadata: {name: ${NAME}}
spec: {mac: "${MAC}", network: lab}
`);
}

type Obj = { metadata: { name: string; labels?: Record<string, string>; managedFields?: { manager: string; operation: string; subresource?: string; fieldsV1: Record<string, unknown> }[] }; spec: Record<string, unknown>; status?: Record<string, unknown> };

async function get(namespace: string, plural: string, name: string): Promise<Obj | undefined> {
  try {
    return await kube.api.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural, name }) as Obj;
  } catch (err) {
    if ((err as { code?: number }).code === 404) return undefined;
    throw err;
  }
}


type Report = { node: string; planDigest: string; planGeneration?: number; ready: boolean; message?: string; counters?: Record<string, number>; dhcp?: string };
const reportOf = async (namespace: string, node: string) => ((await get(namespace, 'bootnetworks', 'lab'))?.status?.['agentReports'] as Report[] | undefined)?.find((r) => r.node === node);

function obs(event: BootObservation['event'], extra: Partial<BootObservation> = {}): BootObservation {
  return { mac: MAC, network: 'lab', node: 'node-a', time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'), event, ...extra };
}

async function open(namespace: string, extra: Partial<Parameters<typeof openKubeStore>[0]> = {}): Promise<{ store: KubeStore; lines: Record<string, unknown>[] }> {
  const { log, lines } = captureLogger();
  const stateDir = kube.tempDir('netboot-agent-store-');
  const store = await openKubeStore({ namespace, network: 'lab', node: 'node-a', stateDir, log, signal: AbortSignal.timeout(30_000), ...extra }, { api: kubeStoreApi(kube.kc), sources: kubeStoreSources(kube.kc, namespace) });
  return { store, lines };
}

test('the kube store: plan from the API, live class changes, status.boot by SSA, discovery, and the agentReports entry', async (t) => {
  const ns = 'agent-store';
  await seed(ns, { dhcp: 30067, pxe: 34011, tftp: 30069, http: 38080 });
  const { store } = await open(ns);
  try {
    assert.equal(store.plan().networkName, 'lab');
    assert.equal(store.plan().machines.get(MAC)?.name, NAME);
    assert.equal(store.plan().network.ports.http, 38080, 'the CRD defaults and values arrive as the API server stores them');

    // A class change reaches the agent within 2 s, with a new digest.
    const digest0 = store.planDigest();
    const generation0 = store.plan().generation;
    const changed = new Promise<number>((resolve) => { const off = store.onPlan(() => { off(); resolve(performance.now()); }); });
    const t0 = performance.now();
    await kube.cluster.kubectl(['patch', 'machineclass', 'everything', '-n', ns, '--type=merge', '-p', '{"spec":{"priority":7}}']);
    const t1 = await Promise.race([changed, new Promise<number>((_, rej) => setTimeout(() => rej(new Error('no new plan within 2 s')), 2000))]);
    t.diagnostic(`class change -> onPlan: ${(t1 - t0).toFixed(0)} ms (includes kubectl)`);
    assert.notEqual(store.planDigest(), digest0);
    assert.equal(store.plan().generation, generation0 + 1);
    assert.equal(store.plan().classes[0]?.spec.priority, 7);

    // report() -> status.boot, owned by netboot-agent and nothing else of status.
    store.report(obs('Discover', { phase: 'Discovered', firmware: { stage: 'pxe', arch: 'bios' } }));
    store.report(obs('ProxyOffer', { phase: 'Offered', detail: 'loader undionly.kpxe' }));
    await store.flush();
    const machine = await get(ns, 'bootmachines', NAME);
    const boot = machine?.status?.['boot'] as { phase: string; node: string; history: { event: string }[] };
    assert.equal(boot.phase, 'Offered');
    assert.equal(boot.node, 'node-a');
    assert.deepEqual(boot.history.map((h) => h.event), ['Discover', 'ProxyOffer']);
    const owners = (machine?.metadata.managedFields ?? []).filter((f) => f.manager === 'netboot-agent');
    assert.equal(owners.length, 1);
    assert.equal(owners[0]?.operation, 'Apply');
    assert.equal(owners[0]?.subresource, 'status');
    assert.deepEqual(Object.keys(owners[0]?.fieldsV1 ?? {}), ['f:status']);
    assert.deepEqual(Object.keys((owners[0]?.fieldsV1['f:status'] ?? {}) as object), ['f:boot'], 'netboot-agent owns status.boot only');

    // discover() creates a labelled BootMachine (asynchronously); a second create is a 409, which is fine.
    const unknown = '52:54:00:ab:cd:ef';
    assert.equal(store.discover(unknown, Date.now()), 'create');
    assert.equal(store.plan().machines.get(unknown)?.spec.netboot, 'deny', 'unknownMachines: discover records, does not boot');
    const created = await until('the discovered BootMachine', () => get(ns, 'bootmachines', '52-54-00-ab-cd-ef'));
    assert.deepEqual(created.metadata.labels, { 'netboot.dev/discovered': 'true' });
    assert.deepEqual(created.spec, { mac: unknown, network: 'lab', netboot: 'deny' });
    const again = { apiVersion: `${GROUP}/${VERSION}`, kind: 'BootMachine', metadata: { name: '52-54-00-ab-cd-ef', namespace: ns }, spec: { mac: unknown, netboot: 'deny' } } as BootMachine;
    assert.equal(await kubeStoreApi(kube.kc).createMachine(again), 'exists', '409 AlreadyExists is an answer, not an error');
    assert.equal(store.discover(unknown, Date.now()), 'exists');

    // The agentReports entry: written once readiness is known, as netboot-agent-node-a.
    store.setReady(true, 'serving proxy on lo');
    // The discovered machine recompiles the plan after the debounce, which may land after a first entry was
    // written with the previous digest; the entry must follow it.
    const entry = await until('the agentReports entry with the current digest', async () => { const r = await reportOf(ns, 'node-a'); return r?.planDigest === store.planDigest() ? r : undefined; },
      30_000, 200, () => `agent digest ${store.planDigest()}`);
    assert.equal(entry.ready, true);
    assert.equal(entry.planGeneration, undefined, 'no controller has published this digest yet');
    const net = await get(ns, 'bootnetworks', 'lab');
    const reportOwner = net?.metadata.managedFields?.find((f) => f.manager === 'netboot-agent-node-a');
    assert.ok(reportOwner !== undefined && JSON.stringify(reportOwner.fieldsV1).includes('k:{\\"node\\":\\"node-a\\"}'), 'the entry belongs to the node\'s own manager');

    // As the controller would: publish the digest it compiled (here: the agent's) with generation 3.
    await until('a settled plan', async () => { const d = store.planDigest(); await new Promise((r) => setTimeout(r, 300)); return store.planDigest() === d ? d : undefined; });
    await kube.cluster.kubectl(['patch', 'bootnetwork', 'lab', '-n', ns, '--subresource=status', '--type=merge', '--field-manager=netboot-controller', '-p', JSON.stringify({ status: { planDigest: store.planDigest(), planGeneration: 3 } })]);
    const matched = await until('the entry at generation 3', async () => { const r = await reportOf(ns, 'node-a'); return r?.planGeneration === 3 ? r : undefined; });
    assert.equal(matched.planDigest, store.planDigest());

    await store.close();
    await until('the entry removed', async () => ((await reportOf(ns, 'node-a')) === undefined ? true : undefined));
    const after = await get(ns, 'bootnetworks', 'lab');
    assert.equal((after?.status?.['planGeneration'] as number), 3, 'removing the entry leaves the controller\'s fields alone');
  } finally {
    await store.close();
  }
});

test('mode dhcp, two agents: the first serves, the second stands by, and takes over when the first stops, with the addresses BootMachine statuses record', async () => {
  const ns = 'agent-dhcp';
  await seed(ns, { dhcp: 30267, pxe: 34211, tftp: 30269, http: 38280 });
  await kube.cluster.kubectl(['patch', 'bootnetwork', 'lab', '-n', ns, '--type=merge', '-p',
    JSON.stringify({ spec: { mode: 'dhcp', dhcp: { pool: { start: '10.99.0.100', end: '10.99.0.150' }, router: '10.99.0.1', leaseSeconds: 600 } } })]);
  const a = await open(ns, { node: 'node-a' });
  let b: Awaited<ReturnType<typeof open>> | undefined;
  try {
    await until('the plan in mode dhcp', () => (a.store.plan().network.mode === 'dhcp' ? true : undefined));
    a.store.setReady(true, 'serving dhcp');
    await until('node-a serving', async () => ((await reportOf(ns, 'node-a'))?.dhcp === 'serving' ? true : undefined));
    assert.equal(a.store.dhcpStandby(), undefined);

    b = await open(ns, { node: 'node-b' });
    assert.match(b.store.dhcpStandby() ?? '', /agent on node node-a answers DHCP/, 'a second agent starts as standby');
    b.store.setReady(true, 'serving dhcp');
    await until('node-b standing by', async () => ((await reportOf(ns, 'node-b'))?.dhcp === 'standby' ? true : undefined));
    assert.ok(b.lines.some((l) => l['code'] === 'NB4016'), 'the standby says why in its log');
    assert.equal(a.store.dhcpStandby(), undefined, 'the serving agent keeps serving');
    assert.equal((await reportOf(ns, 'node-a'))?.dhcp, 'serving');

    // The serving agent leases an address to the known machine and records it in its status.
    a.store.report(obs('Ack', { phase: 'BootFileSent', ipAddress: '10.99.0.100', firmware: { stage: 'pxe', arch: 'bios' } }));
    await until('the address in the machine\'s status', async () => (((await get(ns, 'bootmachines', NAME))?.status?.['boot'] as { ipAddress?: string } | undefined)?.ipAddress === '10.99.0.100' ? true : undefined));
    assert.deepEqual(b.store.leases(), [], 'a standby adopts nothing');

    // The serving agent stops and removes its entry: the standby takes over, holding the recorded address for that machine.
    await a.store.close();
    await until('node-b serving', async () => ((await reportOf(ns, 'node-b'))?.dhcp === 'serving' ? true : undefined));
    assert.equal(b.store.dhcpStandby(), undefined);
    assert.equal(await reportOf(ns, 'node-a'), undefined);
    const adopted = b.store.leases();
    assert.deepEqual(adopted.map((l) => [l.mac, l.ip]), [[MAC, '10.99.0.100']]);
    assert.ok((adopted[0]?.expiresAt ?? 0) > Date.now() + 500_000, 'held for the lease time (600 s) after the machine was last seen');
    assert.ok(b.lines.some((l) => String(l['msg']).includes('1 address(es) the BootMachine statuses record')), 'the takeover says what it adopted');
  } finally {
    await a.store.close();
    await b?.store.close();
  }
});

test('no status update is lost across an API server restart', async (t) => {
  const ns = 'agent-restart';
  await seed(ns, { dhcp: 31067, pxe: 35011, tftp: 31069, http: 39080 });
  const { store, lines } = await open(ns, { status: { backoff: { baseMs: 200, maxMs: 2000 } } });
  try {
    store.report(obs('Discover', { phase: 'Discovered', firmware: { stage: 'pxe', arch: 'bios' } }));
    const restarting = kube.cluster.restartApiServer();
    // Observed while the API server is down: coalesced onto the pending status.
    await new Promise((r) => setTimeout(r, 1500));
    store.report(obs('PxeAck', { phase: 'BootFileSent', detail: 'loader undionly.kpxe' }));
    await restarting;
    const boot = await until('status.boot after the restart', async () => {
      const b = (await get(ns, 'bootmachines', NAME).catch(() => undefined))?.status?.['boot'] as { phase: string; history: { event: string }[] } | undefined;
      return b?.phase === 'BootFileSent' ? b : undefined;
    }, 40_000, 250);
    assert.deepEqual(boot.history.map((h) => h.event), ['Discover', 'PxeAck']);
    const failures = lines.filter((l) => l['code'] === Errors.BootStatusWriteFailed.code);
    t.diagnostic(`status write warnings during the restart: ${failures.length}; stats ${JSON.stringify(store.stats().status)}`);
    assert.ok(store.stats().status.failed >= 1, 'the write did fail while the API server was down (so the retry is what delivered it)');
    assert.equal(store.stats().status.pending, 0);
  } finally {
    await store.close();
  }
});

/** `netboot agent` as the DaemonSet runs it, on loopback. */
function startAgentProcess(namespace: string, node: string) {
  const state = kube.tempDir('netboot-agent-cli-');
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bin/netboot.js'), 'agent', '--network', 'lab', '--namespace', namespace, '--node', node,
    '--interface', 'lo', '--kubeconfig', kube.cluster.kubeconfig, '--state', state], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (d: Buffer) => { log += d.toString(); });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, exited, log: () => log };
}

async function httpStatus(url: string): Promise<number | undefined> {
  try { return (await fetch(url)).status; } catch { return undefined; }
}

test('netboot agent: ready on loopback, answers a relayed ProxyDHCP DISCOVER, records the boot, reports, and cleans up on SIGTERM', async (t) => {
  const ns = 'agent-cli';
  const ports = { dhcp: 21067, pxe: 21011, tftp: 21069, http: 21080 };
  await seed(ns, ports);
  const agent = startAgentProcess(ns, 'node-cli');
  try {
    await until('/readyz 200', async () => ((await httpStatus(`http://127.0.0.1:${ports.http}/readyz`)) === 200 ? true : undefined), 30_000, 100)
      .catch((err: Error) => { throw new Error(`${err.message}; agent log:\n${agent.log()}`); });
    const metrics = await (await fetch(`http://127.0.0.1:${ports.http}/metrics`)).text();
    assert.match(metrics, /^netboot_plan_info\{digest="[0-9a-f]{32}"\} \d+$/m, 'the served plan digest is on /metrics');
    assert.match(metrics, /^netboot_plan_generation \d+$/m);

    // The DISCOVER comes through a relay at 127.0.0.1 (giaddr), so the answer goes to 127.0.0.1:67,
    // where this test listens: a broadcast answer could not be received on loopback. Binding port 67
    // needs root or CAP_NET_BIND_SERVICE, which the test tiers have here.
    const sock = createSocket({ type: 'udp4', reuseAddr: true });
    await new Promise<void>((resolve, reject) => {
      sock.once('error', (err) => reject(new Error(`cannot listen on 127.0.0.1:67 for the relayed answer (${err.message}); run as root or with CAP_NET_BIND_SERVICE`)));
      sock.bind(67, '127.0.0.1', () => resolve());
    });
    try {
      const reply = new Promise<Buffer>((r) => sock.once('message', r));
      const sent = Date.now();
      sock.send(encodePacket(request(withGiaddr('127.0.0.1'))), ports.dhcp, '127.0.0.1');
      const offer = decodePacket(await Promise.race([reply, new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`no ProxyDHCP answer; agent log:\n${agent.log()}`)), 5000))]));
      assert.equal(getOption(offer.options, OptionCode.MessageType), MessageType.Offer);
      assert.equal(offer.yiaddr, '0.0.0.0', 'ProxyDHCP never assigns an address');
      assert.equal(offer.file, 'undionly.kpxe');
      const boot = await until('status.boot of the machine', async () => {
        const b = (await get(ns, 'bootmachines', NAME))?.status?.['boot'] as { phase?: string; node?: string; history?: { event: string }[] } | undefined;
        return b?.phase === 'Offered' ? b : undefined;
      }, 5000, 100);
      const ms = Date.now() - sent;
      t.diagnostic(`DISCOVER -> status.boot written: ${ms} ms`);
      assert.ok(ms <= 3500, `status.boot within ~3 s (${ms} ms)`);
      assert.equal(boot.node, 'node-cli');
      assert.deepEqual(boot.history?.map((h) => h.event), ['Discover', 'ProxyOffer']);
    } finally {
      sock.close();
    }

    const entry = await until('the agent\'s report entry', () => reportOf(ns, 'node-cli'), 10_000);
    assert.equal(entry.ready, true);
    assert.match(entry.message ?? '', /^serving proxy on lo 127\.0\.0\.1/);
    assert.match(entry.planDigest, /^[0-9a-f]{32}$/);
    assert.deepEqual(Object.keys(entry.counters ?? {}).sort(), ['acks', 'discoveryCapped', 'offers', 'scriptsServed', 'tftpTransfers'], 'the first entry carries the counters');
    assert.match(metrics, new RegExp(`netboot_plan_info\\{digest="${entry.planDigest}"\\}`), 'the report and /metrics name the same plan');

    agent.child.kill('SIGTERM');
    assert.equal(await agent.exited, 0, `exit 0 on SIGTERM; log:\n${agent.log()}`);
    assert.equal(await reportOf(ns, 'node-cli'), undefined, 'the entry is removed on shutdown');
  } finally {
    agent.child.kill('SIGKILL');
  }

  // A change of the listeners' settings: the agent exits non-zero so its DaemonSet restarts it.
  const again = startAgentProcess(ns, 'node-cli');
  try {
    await until('/readyz 200 again', async () => ((await httpStatus(`http://127.0.0.1:${ports.http}/readyz`)) === 200 ? true : undefined), 30_000, 100);
    await kube.cluster.kubectl(['patch', 'bootnetwork', 'lab', '-n', ns, '--type=merge', '-p', '{"spec":{"ports":{"http":21081}}}']);
    const code = await Promise.race([again.exited, new Promise<null>((r) => setTimeout(() => r(null), 10_000))]);
    assert.equal(code, 1, `exit 1 after a port change; log:\n${again.log()}`);
    assert.match(again.log(), new RegExp(`"code":"${Errors.AgentRestartRequired.code}"`));
    assert.equal(await reportOf(ns, 'node-cli'), undefined);
  } finally {
    again.child.kill('SIGKILL');
  }
});
