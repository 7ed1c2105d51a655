/**
 * AMT provisioning readiness end to end on the real API server: the
 * controller runs as a process (`netboot controller --test-clock-file`), the
 * agent runs in this process on loopback (the real KubeStore writing
 * status.boot.amt as netboot-agent, and the real DHCP/PXE, prober, Hello and
 * site-DHCP listeners on shifted unprivileged ports), and Intel AMT is the
 * SIMULATED endpoint of test/support/amt-sim.ts: no AMT hardware exists
 * here, so the simulator answers the RMCP presence ping with Intel's pong
 * bytes, HTTP with AMT's 401 and Server banner, and sends a PKI Hello.
 *
 * The path: a PXE request makes the agent see the machine and probe it; the
 * simulator's answer becomes status.boot.amt.probe, and the controller's
 * status.amt.version. The site DHCP server's OFFER with the wrong option 15
 * becomes a Mismatch with a remediation naming the network and the deadline
 * (and an Event). With the test clock, AmtProvisioningWindowOpen flips to
 * False at exactly closesAt; a Hello reopens the window. Certificates are
 * made with openssl: a PEM chain in a Secret, then a PFX with its password
 * in another, then a wrong password seen after the policy's refresh.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { startAgent } from '../../src/agent/agent.ts';
import type { RunningAgent } from '../../src/agent/agent.ts';
import { API_VERSION, GROUP, VERSION } from '../../src/api/v1alpha1/index.ts';
import { CERTIFICATE_REFRESH_MS } from '../../src/controller/manager/reconcile.ts';
import { createAgentMetrics } from '../../src/observability/metrics.ts';
import { MessageType, OptionCode, decodePacket, encodePacket, getOption, replyFrom, setOption } from '../../src/protocol/dhcp/index.ts';
import { kubeStoreApi, kubeStoreSources, openKubeStore } from '../../src/store/kube.ts';
import type { KubeStore } from '../../src/store/kube.ts';
import { startAmtSim } from '../support/amt-sim.ts';
import type { AmtSim } from '../support/amt-sim.ts';
import { teardown } from '../support/cleanup.ts';
import { installCrds, startCluster } from '../support/cluster.ts';
import { until as pollUntil } from './support/kube-json.ts';
import type { TestCluster } from '../support/cluster.ts';
import { request, withArch, withCiaddr, withMac, withType } from '../support/dhcp.ts';
import { CertLab, INTEL_EKU } from '../unit/amt/openssl.ts';
import { captureLogger } from '../unit/store/fake-kube.ts';
import { startController } from './support/controller-proc.ts';
import type { ControllerProcess } from './support/controller-proc.ts';

const NS = 'controller-amt';
const MAC = '52:54:00:c0:ff:ee';
const NAME = '52-54-00-c0-ff-ee';
const UUID = '4c4c4544-0042-3510-8052-b4c04f4d3733';
// Unprivileged ports, none shared with test/kube/agent-amt.test.ts or test/protocol/amt-serve.test.ts.
// Fixed ports that something binds: unique across the suite (two test files run at once) and below 32768, outside
// Linux's ephemeral range (32768-60999), where a client connection of any test may hold the same port for a while.
// agent-store 21067-21081, agent-amt 21111-21180, this file 23011-23993 and 30068/30623, amt-serve 22011-22081.
const PORTS = { dhcp: 23067, pxe: 23011, tftp: 23069, http: 23083 };
const AMT_PORTS = { rmcp: 30623, http: 23992, https: 23993, hello: 23971, dhcpClient: 30068 };
const HOUR = 3_600_000;

let cluster: TestCluster;
let kc: KubeConfig;
let api: CustomObjectsApi;
let controller: ControllerProcess | undefined;
let store: KubeStore | undefined;
let agent: RunningAgent | undefined;
let sim: AmtSim | undefined;
const certs = new CertLab();
const dir = mkdtempSync(join(tmpdir(), 'netboot-controller-amt-'));
const clockFile = join(dir, 'now');

/** Test time's start: certificates are valid from the real instant openssl made them, so it starts just after. */
let T0 = 0;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const setClock = (ms: number) => writeFileSync(clockFile, `${iso(ms)}\n`);
/** The agent reads the same file, so its sightings and Hellos carry test time too. */
const clockNow = () => Date.parse(readFileSync(clockFile, 'utf8').trim());

before(async () => {
  cluster = await startCluster();
  await installCrds(cluster);
  kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfig);
  api = kc.makeApiClient(CustomObjectsApi);
});
after(async () => {
  await teardown([
    ['agent', () => agent?.stop()],
    ['store', () => store?.close()],
    ['AMT simulator', () => sim?.close()],
    ['controller', () => controller?.stop()],
    ['cluster', () => cluster?.stop()],
    ['certificates', () => certs.dispose()],
    ['state directory', () => rmSync(dir, { recursive: true, force: true })],
  ]);
});

/** `until` with the controller's recent log in the timeout error. */
const until = <T>(what: string, probe: () => Promise<T | undefined> | T | undefined) =>
  pollUntil(what, probe, 20_000, 100, () => (controller === undefined ? 'no controller' : `controller log:\n${controller.output().slice(-3000)}`));

type Cond = { type: string; status: string; reason: string; message: string; lastTransitionTime: string };
type Machine = { status?: { conditions?: Cond[]; amt?: Record<string, unknown>; boot?: { amt?: Record<string, unknown> } } };
type Policy = { status?: { conditions?: Cond[]; certificate?: Record<string, string>; machines?: Record<string, number> } };
const getMachine = async () => await api.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: 'bootmachines', name: NAME }) as Machine;
const getPolicy = async () => await api.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: 'amtnetworkpolicies', name: 'fleet' }) as Policy;
const cond = (m: { status?: { conditions?: Cond[] } }, type: string) => m.status?.conditions?.find((c) => c.type === type);
/** The machine once `check` accepts it. */
const machineWhen = (what: string, check: (m: Machine) => boolean) => until(what, async () => { const m = await getMachine(); return check(m) ? m : undefined; });

function secretYaml(name: string, data: Record<string, string | Buffer>): string {
  const entries = Object.entries(data).map(([k, v]) => `  ${k}: ${Buffer.from(v).toString('base64')}`).join('\n');
  return `apiVersion: v1\nkind: Secret\nmetadata: {name: ${name}, namespace: ${NS}}\ndata:\n${entries}\n`;
}

test('simulated AMT seen by the agent → controller status.amt: version, suffix mismatch with remediation, window closing at closesAt on the test clock, a Hello reopening it; PEM and PFX certificates', async () => {
  const root = certs.root();
  const inter = certs.intermediate(root);
  const leaf = certs.leaf(inter, { eku: INTEL_EKU, cn: 'rcs.contoso.com' });
  T0 = Math.ceil(Date.now() / 1000) * 1000;
  setClock(T0);

  await cluster.kubectl(['create', 'namespace', NS]);
  await cluster.kubectl(['apply', '-f', '-'], secretYaml('amt-pem', { 'chain.pem': leaf.pem + inter.pem + root.pem }));
  await cluster.kubectl(['apply', '-n', NS, '-f', '-'], `apiVersion: ${API_VERSION}
kind: BootNetwork
metadata: {name: lab}
spec:
  mode: proxy
  subnet: 127.0.0.0/8
  unknownMachines: ignore
  ports: {dhcp: ${PORTS.dhcp}, pxe: ${PORTS.pxe}, tftp: ${PORTS.tftp}, http: ${PORTS.http}}
---
apiVersion: ${API_VERSION}
kind: BootProfile
metadata: {name: hello}
spec:
  ipxe: {script: "#!ipxe\\necho hello\\n"}
---
apiVersion: ${API_VERSION}
kind: MachineClass
metadata: {name: vpro}
spec: {default: true, profile: hello, amtPolicy: fleet}
---
apiVersion: ${API_VERSION}
kind: AmtNetworkPolicy
metadata: {name: fleet}
spec:
  dnsSuffix: contoso.com
  certificate: {pem: {name: amt-pem, key: chain.pem}}
---
apiVersion: ${API_VERSION}
kind: BootMachine
metadata: {name: ${NAME}}
spec: {mac: "${MAC}", network: lab, uuid: ${UUID}}
`);

  controller = await startController({ kubeconfig: cluster.kubeconfig, args: ['--leader-elect=false', '--namespace', NS, '--test-clock-file', clockFile] });
  const warning = await controller.waitForLog((l) => /^TEST CLOCK IN USE/.test(l.msg));
  assert.equal(warning.level, 40, 'logged as a warning');
  assert.equal(warning['now'], new Date(T0).toISOString());

  // Before any agent saw it: AMT conditions from the policy, no window yet, the certificate checked.
  const fresh = await machineWhen('AMT conditions', (m) => cond(m, 'AmtCertificateTrusted') !== undefined);
  assert.deepEqual([cond(fresh, 'AmtProvisioningWindowOpen')?.status, cond(fresh, 'AmtProvisioningWindowOpen')?.reason], ['Unknown', 'NotSeen']);
  assert.deepEqual([cond(fresh, 'AmtCertificateTrusted')?.status, cond(fresh, 'AmtCertificateTrusted')?.reason], ['True', 'CertificateTrusted']);

  // The agent, in this process, on loopback.
  const { log } = captureLogger();
  store = await openKubeStore({ namespace: NS, network: 'lab', node: 'node-a', stateDir: join(dir, 'state'), log, signal: AbortSignal.timeout(60_000) },
    { api: kubeStoreApi(kc), sources: kubeStoreSources(kc, NS) });
  agent = await startAgent({
    store, iface: { name: 'lo', address: '127.0.0.1', serverAddress: '127.0.0.1' }, ports: PORTS, amtPorts: AMT_PORTS,
    node: 'node-a', log, metrics: createAgentMetrics(), now: clockNow,
  });
  sim = await startAmtSim({ address: '127.0.0.1', rmcpPort: AMT_PORTS.rmcp, httpPort: AMT_PORTS.http, version: '11.8.50.3425', provisioningState: 'pre' });

  const sock = createSocket('udp4');
  try {
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    // The machine's PXE request on 4011 (shifted): the agent has now seen it at 127.0.0.1 and probes it.
    const reply = new Promise<Buffer>((r) => sock.once('message', r));
    sock.send(encodePacket(request(withArch(7), withType(MessageType.Request), withCiaddr('127.0.0.1'), withMac(MAC))), PORTS.pxe, '127.0.0.1');
    const ack = decodePacket(await Promise.race([reply, new Promise<never>((_, rej) => setTimeout(() => rej(new Error('no PXE reply')), 10_000))]));
    assert.equal(getOption(ack.options, OptionCode.MessageType), MessageType.Ack);

    // Discovery sets the version: simulator → agent (status.boot.amt.probe) → controller (status.amt.version).
    const probed = await machineWhen('status.amt.version', (m) => m.status?.amt?.['version'] !== undefined);
    assert.deepEqual(probed.status?.amt?.['version'], { value: '11.8.50.3425', source: 'http-server-header' });
    assert.equal(probed.status?.amt?.['provisioningState'], 'pre');
    assert.equal(probed.status?.amt?.['firstSeenAt'], iso(T0), 'first seen in test time');
    assert.ok(sim.requests.length >= 1 && sim.requests.every((r) => !/^authorization:/im.test(r.head)), 'no credentials sent');

    // The site DHCP server's OFFER hands out the wrong domain: a mismatch with the remediation.
    const offer = replyFrom(request(withMac(MAC)));
    offer.yiaddr = '127.0.0.1';
    setOption(offer.options, OptionCode.MessageType, MessageType.Offer);
    setOption(offer.options, OptionCode.ServerIdentifier, '127.0.0.9');
    setOption(offer.options, OptionCode.DomainName, 'sales.fabrikam.com');
    await new Promise<void>((resolve, reject) => sock.send(encodePacket(offer), AMT_PORTS.dhcpClient, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
  } finally {
    sock.close();
  }
  const closesAt = T0 + 24 * HOUR;
  const mismatch = await machineWhen('suffixMatch Mismatch', (m) => m.status?.amt?.['suffixMatch'] === 'Mismatch');
  const amt = mismatch.status?.amt ?? {};
  assert.deepEqual(amt['dnsSuffix'], { value: 'sales.fabrikam.com', source: 'site-dhcp-option15' });
  assert.equal(amt['certificateSuffix'], 'contoso.com');
  assert.equal(amt['suffixRule'], 'last-two-labels');
  const deadline = iso(closesAt).replace(/:\d\dZ$/, 'Z');
  assert.equal(amt['remediation'], `set option 15 (domain name) to contoso.com on the site DHCP server of BootNetwork lab, then renew the lease before ${deadline} (ipconfig /renew or dhclient). `
    + 'Use a short lease time on the site DHCP server for these machines so they pick up the corrected suffix sooner.');
  assert.deepEqual(amt['window'], { openedAt: iso(T0), openedBy: 'first-seen', closesAt: iso(closesAt), open: true });
  assert.deepEqual([cond(mismatch, 'AmtDnsSuffixMatched')?.status, cond(mismatch, 'AmtDnsSuffixMatched')?.reason], ['False', 'SuffixMismatch']);
  assert.equal(cond(mismatch, 'Ready')?.status, 'True', 'AMT does not change Ready');
  const events = await until('the AmtSuffixMismatch event', async () => {
    const list = await kc.makeApiClient(CoreV1Api).listNamespacedEvent({ namespace: NS, fieldSelector: 'reason=AmtSuffixMismatch' });
    return list.items.length > 0 ? list.items : undefined;
  });
  assert.equal(events[0]?.type, 'Warning');
  assert.match(events[0]?.message ?? '', /to fix: set option 15 \(domain name\) to contoso\.com on the site DHCP server of BootNetwork lab/);
  const policy = await until('policy counts', async () => { const p = await getPolicy(); return p.status?.machines?.['windowOpen'] === 1 ? p : undefined; });
  assert.deepEqual(policy.status?.machines, { matched: 1, suffixOk: 0, windowOpen: 1, windowExpired: 0 });
  assert.equal(policy.status?.certificate?.['domain'], 'rcs.contoso.com');

  // Test time: a minute before closesAt the window is open; at closesAt it closes, stamped with that instant.
  setClock(closesAt - 60_000);
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(cond(await getMachine(), 'AmtProvisioningWindowOpen')?.status, 'True');
  setClock(closesAt);
  const closed = await machineWhen('the window closed', (m) => cond(m, 'AmtProvisioningWindowOpen')?.status === 'False');
  assert.deepEqual([cond(closed, 'AmtProvisioningWindowOpen')?.reason, cond(closed, 'AmtProvisioningWindowOpen')?.lastTransitionTime], ['WindowClosed', iso(closesAt)]);
  assert.equal((closed.status?.amt?.['window'] as { open: boolean }).open, false);
  assert.match(String(closed.status?.amt?.['remediation']), /AMT's window closed at .*start a provisioning attempt to reopen it/);
  await until('policy windowExpired', async () => ((await getPolicy()).status?.machines?.['windowExpired'] === 1 ? true : undefined));

  // A provisioning attempt an hour later: the simulator's Hello to the agent's listener reopens the window.
  const attemptAt = closesAt + HOUR;
  setClock(attemptAt);
  await sim.sendHello({ host: '127.0.0.1', port: AMT_PORTS.hello }, { adminCredentialsSet: false, retryCount: 1, uuid: UUID, rootHashes: [{ algorithm: 'sha256', hex: 'ab'.repeat(32) }] });
  const reopened = await machineWhen('the window reopened', (m) => cond(m, 'AmtProvisioningWindowOpen')?.status === 'True' && m.status?.amt?.['attempts'] === 1);
  assert.deepEqual(reopened.status?.amt?.['window'], { openedAt: iso(attemptAt), openedBy: 'attempt', closesAt: iso(attemptAt + 24 * HOUR), open: true });
  assert.equal(reopened.status?.amt?.['nextRetryAt'], iso(attemptAt + 24 * HOUR));
  assert.equal(reopened.status?.amt?.['lastAttemptAt'], iso(attemptAt));
  // The Hello listed a root hash that is not this chain's: the certificate's root is not trusted by the machine.
  assert.deepEqual([cond(reopened, 'AmtCertificateTrusted')?.status, cond(reopened, 'AmtCertificateTrusted')?.reason], ['False', 'RootNotTrusted']);

  // PFX with its password in another Secret (made with openssl); the policy change reaches the machine at once.
  const pfx = certs.pfx(leaf, [inter, root], 'Secr3t!');
  await cluster.kubectl(['apply', '-f', '-'], secretYaml('amt-pfx', { 'bundle.pfx': pfx }) + '---\n' + secretYaml('amt-pfx-pass', { password: 'Secr3t!' }));
  await cluster.kubectl(['-n', NS, 'patch', 'amtnetworkpolicy', 'fleet', '--type=merge', '-p',
    JSON.stringify({ spec: { certificate: { pem: null, pfx: { name: 'amt-pfx', key: 'bundle.pfx' }, pfxPassword: { name: 'amt-pfx-pass', key: 'password' } } } })]);
  const viaPfx = await until('the PFX certificate on the policy', async () => { const p = await getPolicy(); return p.status?.certificate?.['domain'] === 'rcs.contoso.com' && cond(p, 'AmtCertificateTrusted')?.status === 'True' ? p : undefined; });
  assert.equal(viaPfx.status?.certificate?.['domain'], 'rcs.contoso.com');

  // A wrong password, written to the Secret: seen at the policy's next refresh, which test time brings forward.
  await cluster.kubectl(['apply', '-f', '-'], secretYaml('amt-pfx-pass', { password: 'wrong' }));
  setClock(attemptAt + CERTIFICATE_REFRESH_MS + 60_000);
  const wrong = await machineWhen('the wrong password', (m) => cond(m, 'AmtCertificateTrusted')?.reason === 'CertificateUnreadable');
  assert.match(cond(wrong, 'AmtCertificateTrusted')?.message ?? '', /NB5002: the PFX password from the Secret is wrong/);
  assert.ok(!controller.output().includes('Secr3t!') && !JSON.stringify(await getPolicy()).includes('Secr3t!'), 'the password appears nowhere');
});
