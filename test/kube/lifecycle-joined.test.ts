/**
 * The issue's full lifecycle, joined: a real kube-apiserver, `netboot
 * controller` and `netboot agent` as processes, and a PXE client on a
 * network-namespace segment. Resources in → the DaemonSet rendered → the
 * agent, started with the DaemonSet's own arguments, serves a client (scapy:
 * DISCOVER → proxy OFFER, 4011 REQUEST → ACK with the loader; tftp-hpa fetches
 * the loader; an iPXE DISCOVER gets the script URL; curl fetches the script)
 * → BootMachine status shows the boot, BootNetwork status the agent's report
 * → a class change re-resolves the machine and reaches the agent → the agent
 * stops and leaves the report list → deleting the network leaves an owned
 * DaemonSet.
 *
 * What is played by the test, because it cannot run here: the kubelet (the
 * agent runs as a process in the lab namespace `server`, started from the
 * rendered DaemonSet's args with --kubeconfig and a temporary --state; SIGTERM
 * stands in for pod termination) and kube-controller-manager (the DaemonSet
 * status is written by setDaemonSetStatus; there is no garbage collector, so
 * after the network is deleted the DaemonSet stays and the test checks its
 * owner reference instead). No QEMU: test/e2e boots real firmware against the
 * same agent code.
 *
 * The API server listens on host loopback, which the agent's namespace cannot
 * reach: test/support/netns-bridge.ts relays 127.0.0.1:<port> in the namespace
 * to the host's through a unix socket, so the cluster's kubeconfig works as is.
 *
 * Root only; fails (never skips) when a tool is missing.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { GROUP, VERSION } from '../../src/api/v1alpha1/index.ts';
import { Lab, NETBOOT_JS, NODE_BIN, agentErrors, requireLabPrerequisites, tail } from '../e2e/support/lab.ts';
import { describeReplies, optionText, runProbe, step } from '../e2e/support/probe.ts';
import type { ProbeReply, ProbeResult } from '../e2e/support/probe.ts';
import { installCrds, startCluster } from '../support/cluster.ts';
import type { TestCluster } from '../support/cluster.ts';
import { bridgeIntoNetns } from '../support/netns-bridge.ts';
import type { NetnsBridge } from '../support/netns-bridge.ts';
import { setDaemonSetStatus, startController } from './support/controller-proc.ts';
import type { ControllerProcess } from './support/controller-proc.ts';
import { getJson, until, waitForJson } from './support/kube-json.ts';
import type { Json } from './support/kube-json.ts';

const NS = 'joined';
const NODE = 'lab-node-1';
const IMAGE = 'registry.example.test/netboot:joined';
/** Lab index 150: subnet 10.213.150.0/24 (test/e2e uses 120-128, the protocol tests 140-141). */
const INDEX = 150;
const SERVER_N = 3;
const CLIENT_N = 50;
/** lab.sh gives host N of lab I the MAC 02:4e:42:<I>:00:<N>. */
const CLIENT_MAC = `02:4e:42:${INDEX.toString(16).padStart(2, '0')}:00:${CLIENT_N.toString(16).padStart(2, '0')}`;
const MACHINE = CLIENT_MAC.replaceAll(':', '-');
const LOADER = '/usr/lib/ipxe/ipxe.efi';
/** The issue's target for a change to reach the agents; asserted with room for a loaded 2-core machine. */
const CATCH_UP_BOUND_MS = 10_000;

let cluster: TestCluster | undefined;
let ctl: ControllerProcess | undefined;
let lab: Lab | undefined;
let bridge: NetnsBridge | undefined;
/** The agent's --state (a hostPath in the pod), inside the lab directory. */
let stateDir: string | undefined;
let passed = false;
// Killed or interrupted, the test process runs no `after`: the lab (lab.ts) and the cluster
// (cluster.ts) tear themselves down at exit, and so must the controller process.
process.once('exit', () => { if (ctl !== undefined && ctl.child.exitCode === null && ctl.child.signalCode === null) ctl.child.kill('SIGKILL'); });

function requireTools(): void {
  requireLabPrerequisites({ qemu: false, scapy: true });
  const missing = ['tftp', 'curl'].filter((t) => { try { execFileSync('which', [t], { stdio: 'pipe' }); return false; } catch { return true; } });
  if (missing.length > 0) throw new Error(`the joined lifecycle test cannot run here: ${missing.join(', ')} not found (apt-get install tftp-hpa curl)`);
  if (!existsSync(LOADER)) throw new Error(`${LOADER} is missing (apt-get install ipxe)`);
}

before(async () => {
  requireTools();
  cluster = await startCluster();
  await installCrds(cluster);
  await cluster.kubectl(['create', 'namespace', NS]);
  lab = await Lab.up(INDEX, 'joined');
  await lab.host('server', SERVER_N);
  await lab.host('client', CLIENT_N);
  stateDir = join(lab.dir, 'agent-state');
});

after(async () => {
  // Everything, even after a failure: the controller, the relay, the lab (its namespaces and
  // every process in them: the agent and the in-namespace relay), the API server.
  await ctl?.stop('SIGKILL').catch(() => {});
  await bridge?.close().catch(() => {});
  await lab?.down({ purge: passed }).catch(() => {});
  if (!passed && lab !== undefined) console.log(`# lab kept for inspection: ${lab.dir}`);
  await cluster?.stop();
});

const resources = (net: string) => `
apiVersion: ${GROUP}/${VERSION}
kind: BootProfile
metadata: {name: hello, namespace: ${NS}}
spec:
  ipxe: {script: "#!ipxe\\necho hello {{ mac }}\\n"}
---
apiVersion: ${GROUP}/${VERSION}
kind: BootProfile
metadata: {name: rescue, namespace: ${NS}}
spec:
  ipxe: {script: "#!ipxe\\necho rescue {{ mac }}\\n"}
---
apiVersion: ${GROUP}/${VERSION}
kind: MachineClass
metadata: {name: lab, namespace: ${NS}}
spec:
  selector: {macPrefixes: ["02:4e:42"]}
  profile: hello
---
apiVersion: ${GROUP}/${VERSION}
kind: BootNetwork
metadata: {name: segment, namespace: ${NS}}
spec:
  mode: proxy
  subnet: ${net}.0/24
  nodeSelector: {netboot.dev/segment: lab}
  ports: {dhcp: 67, pxe: 4011, tftp: 69, http: 8080}
---
apiVersion: ${GROUP}/${VERSION}
kind: BootMachine
metadata: {name: ${MACHINE}, namespace: ${NS}}
spec: {mac: "${CLIENT_MAC}", network: segment}
`;

const get = (kind: string, name: string) => getJson(cluster!, kind, name, NS);
const condition = (obj: Json, type: string) => (obj.status?.conditions as { type: string; status: string; reason: string }[] | undefined)?.find((c) => c.type === type);
const healthy = (obj: Json | undefined) => obj !== undefined && obj.status?.observedGeneration === obj.metadata.generation && condition(obj, 'Ready')?.status === 'True';
type Report = { node: string; planDigest?: string; planGeneration?: number; ready?: boolean; message?: string };
const reports = (n: Json) => (n.status?.agentReports ?? []) as Report[];
const ourReport = (n: Json) => reports(n).find((r) => r.node === NODE);
type History = { event: string; detail?: string; node?: string }[];
type Managed = { manager: string; operation: string; subresource?: string; fieldsV1?: Record<string, unknown> };

/** True when `want` occurs in `history` in order (other events may sit between). */
function inOrder(history: History, want: readonly { event: string; detail: RegExp }[]): boolean {
  let i = 0;
  for (const h of history) {
    const w = want[i];
    if (w !== undefined && h.event === w.event && w.detail.test(h.detail ?? '')) i++;
  }
  return i === want.length;
}

/** A running `netboot agent` in the lab host `server`; stdout and stderr go to `log`. */
interface AgentProcess { readonly child: ChildProcess; readonly log: string; readonly exited: Promise<number | null> }

/**
 * Starts the agent as the DaemonSet's pod would, from its container args:
 * $(NODE_NAME) is the node, --state a temporary directory (a hostPath in the
 * pod), and --kubeconfig added because no service account token is mounted.
 * A child of this process (so its exit code is known) inside the namespace
 * (so lab.down() kills it whatever happens).
 */
async function startAgentFromDaemonSet(l: Lab, args: readonly string[], label: string): Promise<AgentProcess> {
  const argv = args.map((a, i) => (a === '$(NODE_NAME)' ? NODE : args[i - 1] === '--state' ? stateDir! : a));
  argv.push('--kubeconfig', cluster!.kubeconfig);
  const log = join(l.dir, `${label}.log`);
  const fd = openSync(log, 'w');
  const child = spawn('ip', ['netns', 'exec', l.ns('server'), NODE_BIN, NETBOOT_JS, ...argv], {
    stdio: ['ignore', fd, fd], env: { ...process.env, NETBOOT_LOG_LEVEL: 'debug', NODE_NAME: NODE },
  });
  closeSync(fd);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const deadline = Date.now() + 30_000;
  while (!readFileSync(log, 'utf8').includes('"agent ready"')) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`netboot agent exited before it was ready; log ${log}:\n${tail(log)}`);
    if (Date.now() > deadline) throw new Error(`netboot agent not ready after 30 s; log ${log}:\n${tail(log)}`);
    await sleep(100);
  }
  return { child, log, exited };
}

/** SIGTERM (what the kubelet sends) and the exit code; SIGKILL after 15 s. */
async function stopAgent(agent: AgentProcess): Promise<number | null> {
  agent.child.kill('SIGTERM');
  const timer = setTimeout(() => agent.child.kill('SIGKILL'), 15_000);
  const code = await agent.exited;
  clearTimeout(timer);
  return code;
}

/** Runs CMD in the client's namespace; throws with its output on a non-zero exit. */
async function onClient(l: Lab, cmd: readonly string[]): Promise<string> {
  const r = await l.exec('client', cmd, { timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`${cmd.join(' ')} in the client namespace exited ${r.code}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

test('joined lifecycle: controller and agent processes, a PXE client in a netns, class change, agent stop, network delete', async (t) => {
  const l = lab!;
  const c = cluster!;
  const server = l.ip('server');
  let agent: AgentProcess | undefined;
  let probe: ProbeResult | undefined;
  const logs = () => [
    `  lab ${l.dir}: agent log ${agent?.log ?? '(not started)'}`,
    `  agent log (last lines):\n${agent === undefined ? '    (none)' : tail(agent.log, 15)}`,
    probe === undefined ? '' : `  probe saw:\n${probe.steps.map(describeReplies).join('\n')}`,
    `  controller (last lines):\n${ctl?.output().split('\n').slice(-8).join('\n') ?? ''}`,
  ].join('\n');
  const started = Date.now();
  const mark = (what: string) => t.diagnostic(`${((Date.now() - started) / 1000).toFixed(1)} s: ${what}`);

  // 1. The controller, and the resources it renders the agents' DaemonSet from.
  ctl = await startController({ kubeconfig: c.kubeconfig, args: ['--leader-elect=false'], env: { NETBOOT_AGENT_IMAGE: IMAGE } });
  await ctl.waitForLog('initial reconcile done');
  await c.kubectl(['apply', '-f', '-'], resources(l.net));
  const ds = await waitForJson('the agent DaemonSet', () => get('daemonset', 'netboot-agent-segment'), () => true);
  const network1 = await waitForJson('the BootNetwork with a plan', () => get('bootnetwork', 'segment'), (n) => typeof n.status?.planGeneration === 'number');
  const pod = ds.spec?.template as { spec: Record<string, unknown> & { containers: (Record<string, unknown> & { args: string[] })[]; nodeSelector: Record<string, string> } };
  assert.equal(pod.spec.hostNetwork, true);
  assert.equal(pod.spec.dnsPolicy, 'ClusterFirstWithHostNet');
  assert.equal(pod.spec.nodeSelector['netboot.dev/segment'], 'lab');
  const container = pod.spec.containers.find((x) => x['name'] === 'agent');
  assert.ok(container !== undefined, 'the DaemonSet has no agent container');
  assert.deepEqual(container.args, ['agent', '--network', 'segment', '--namespace', NS, '--node', '$(NODE_NAME)', '--state', '/var/lib/netboot']);
  assert.deepEqual((container['readinessProbe'] as { httpGet: unknown }).httpGet, { path: '/readyz', port: 8080, scheme: 'HTTP' });
  assert.deepEqual((container['securityContext'] as { capabilities: unknown }).capabilities, { drop: ['ALL'], add: ['NET_BIND_SERVICE'] });
  mark(`DaemonSet rendered; plan generation ${String(network1.status?.planGeneration)}`);

  // 2. The agent on the segment, reaching the API server through the relay; the pod's readiness probe, run for real.
  bridge = await bridgeIntoNetns(l.ns('server'), Number(new URL(c.server).port), join(l.dir, 'apiserver.sock'));
  agent = await startAgentFromDaemonSet(l, ['agent', ...container.args.slice(1)], 'agent');
  assert.equal((await onClient(l, ['curl', '-sS', '-o', '/dev/null', '-w', '%{http_code}', `http://${server}:8080/readyz`])).trim(), '200', `the agent's /readyz (the DaemonSet's readiness probe)\n${logs()}`);
  const before = await waitForJson('the agent\'s first report', () => get('bootnetwork', 'segment'), (n) => ourReport(n)?.planGeneration === n.status?.planGeneration);
  mark(`agent ready, reporting plan generation ${String(before.status?.planGeneration)}`);

  // 3. A PXE client: firmware DISCOVER → proxy OFFER, boot-server REQUEST on 4011 → ACK with the loader.
  probe = await runProbe(l, 'client', [
    { name: 'firmware DISCOVER', arch: 7, wait: 1.5 },
    { name: 'boot-server REQUEST', type: 'request', arch: 7, ciaddr: 'self', to: server, dport: 4011, sport: 4011, wait: 1.5 },
  ]);
  assert.equal(probe.mac, CLIENT_MAC);
  const fromUs = (name: string) => step(probe!, name).replies.filter((r) => r.src === server);
  const [offer] = fromUs('firmware DISCOVER');
  assert.ok(offer !== undefined && fromUs('firmware DISCOVER').length === 1, `expected one proxy OFFER from ${server}\n${logs()}`);
  assert.equal(offer.messageType, 2);
  assert.equal(offer.yiaddr, '0.0.0.0', 'a proxy OFFER assigns no address');
  assert.equal(optionText(offer, 60), 'PXEClient');
  assert.equal(offer.file, 'ipxe.efi');
  const [ack] = fromUs('boot-server REQUEST');
  assert.ok(ack !== undefined, `no ACK on 4011\n${logs()}`);
  assert.deepEqual([ack.messageType, ack.sport, ack.dport, ack.file], [5, 4011, 4011, 'ipxe.efi'], `the 4011 ACK\n${logs()}`);

  // ... the loader over TFTP (tftp-hpa), byte for byte what the agent serves from Debian's ipxe package ...
  const fetched = join(l.dir, 'ipxe.efi');
  await onClient(l, ['tftp', '-m', 'binary', server, '-c', 'get', 'ipxe.efi', fetched]);
  const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
  assert.equal(sha(fetched), sha(LOADER), 'the TFTP download differs from the loader');

  // ... then the chainloaded iPXE asks again and gets its script URL, and fetches the script.
  probe = await runProbe(l, 'client', [{ name: 'iPXE DISCOVER', arch: 7, ipxe: true, wait: 1.5 }]);
  const [ipxeOffer] = fromUs('iPXE DISCOVER') as ProbeReply[];
  const scriptUrl = `http://${server}:8080/ipxe/${CLIENT_MAC}`;
  assert.ok(ipxeOffer?.file?.startsWith(scriptUrl), `iPXE should be offered ${scriptUrl}...\n${logs()}`);
  assert.equal(await onClient(l, ['curl', '-sSf', ipxeOffer?.file ?? '']), `#!ipxe\necho hello ${CLIENT_MAC}\n`);
  mark('client booted: OFFER, 4011 ACK, TFTP, script');

  // 4. The BootMachine's status: the agent's boot observations and the controller's resolution, each under its manager.
  const booted = await waitForJson('the boot in BootMachine status', () => get('bootmachine', MACHINE),
    (m) => (m.status?.boot as { phase?: string } | undefined)?.phase === 'ScriptServed' && healthy(m), 15_000);
  const boot = booted.status?.boot as { phase: string; node?: string; network?: string; firmware?: { arch?: string }; history: History };
  assert.equal(booted.status?.machineClass, 'lab');
  assert.equal(booted.status?.profile, 'hello');
  assert.equal(boot.node, NODE);
  assert.equal(boot.network, 'segment');
  assert.equal(boot.firmware?.arch, 'uefi-x64');
  const want = [
    { event: 'ProxyOffer', detail: /^loader ipxe\.efi/ },
    { event: 'PxeAck', detail: /^loader ipxe\.efi/ },
    { event: 'TftpCompleted', detail: new RegExp(`^ipxe\\.efi ${readFileSync(LOADER).length} bytes`) },
    { event: 'ProxyOffer', detail: new RegExp(`script ${scriptUrl.replaceAll('.', '\\.')}`) },
    { event: 'ScriptFetched', detail: /^profile hello$/ },
  ];
  assert.ok(inOrder(boot.history, want), `status.boot.history: ${boot.history.map((h) => `${h.event} (${h.detail ?? ''})`).join(' -> ')}`);
  assert.equal(boot.history.at(-1)?.event, 'ScriptFetched');
  assert.ok(boot.history.every((h) => h.node === NODE));
  const managed = booted.metadata.managedFields as Managed[];
  const agentFields = managed.find((f) => f.manager === 'netboot-agent' && f.subresource === 'status');
  assert.deepEqual(Object.keys((agentFields?.fieldsV1?.['f:status'] ?? {}) as object), ['f:boot'], 'netboot-agent owns status.boot, and only that');
  const controllerFields = managed.find((f) => f.manager === 'netboot-controller' && f.subresource === 'status');
  assert.ok(controllerFields !== undefined && !('f:boot' in ((controllerFields.fieldsV1?.['f:status'] ?? {}) as object)), 'netboot-controller writes the rest of status, not status.boot');
  const row = (await c.kubectl(['get', 'bootmachines', '-n', NS])).stdout.split('\n').find((r) => r.startsWith(MACHINE));
  assert.match(row ?? '', new RegExp(`^${MACHINE}\\s+${CLIENT_MAC}\\s+lab\\s+ScriptServed\\b`), 'kubectl get bootmachines');

  // 5. The agent's report in the network's status: the generation the controller published, its digest, ready.
  const reported = await waitForJson('the agent\'s entry in status.agentReports', () => get('bootnetwork', 'segment'),
    (n) => ourReport(n)?.planGeneration === n.status?.planGeneration && ourReport(n)?.ready === true);
  const report1 = ourReport(reported)!;
  assert.equal(report1.planDigest, reported.status?.planDigest, 'the agent compiled the plan the controller digested');
  assert.equal(reports(reported).length, 1);
  assert.ok((reported.metadata.managedFields as Managed[]).some((f) => f.manager === `netboot-agent-${NODE}` && f.subresource === 'status'));
  // The DaemonSet controller's part (not running here): one node scheduled and ready. Then the network is Ready.
  await setDaemonSetStatus(c.kubeconfig, NS, 'netboot-agent-segment', 1);
  const ready = await waitForJson('the network Ready, its plan served', () => get('bootnetwork', 'segment'), (n) => healthy(n) && condition(n, 'PlanServed')?.status === 'True');
  assert.equal(ready.status?.planServed, ready.status?.planGeneration);
  const generation1 = ready.status?.planGeneration as number;
  mark(`agent reports plan generation ${generation1}; network Ready`);

  // 6. A class change: a pinned class with another profile re-resolves the machine; the agent catches up.
  const changeAt = Date.now();
  await c.kubectl(['apply', '-f', '-'], `
apiVersion: ${GROUP}/${VERSION}
kind: MachineClass
metadata: {name: pinned, namespace: ${NS}}
spec:
  priority: 10
  selector: {macs: ["${CLIENT_MAC}"]}
  profile: rescue
`);
  let resolvedMs = 0;
  let caughtUp: Json | undefined;
  await until('the machine re-resolved and the agent serving the new generation', async () => {
    const [m, n] = [await get('bootmachine', MACHINE), await get('bootnetwork', 'segment')];
    if (resolvedMs === 0 && m?.status?.machineClass === 'pinned' && m.status.profile === 'rescue') resolvedMs = Date.now() - changeAt;
    const gen = n?.status?.planGeneration as number | undefined;
    if (n !== undefined && gen !== undefined && gen > generation1 && ourReport(n)?.planGeneration === gen) caughtUp = n;
    return resolvedMs > 0 && caughtUp !== undefined ? true : undefined;
  }, 30_000, 50);
  const caughtUpMs = Date.now() - changeAt;
  t.diagnostic(`class change: machine re-resolved after ${resolvedMs} ms; the agent reported the new plan generation after ${caughtUpMs} ms (issue target 2000 ms, bound ${CATCH_UP_BOUND_MS} ms)`);
  assert.ok(caughtUpMs <= CATCH_UP_BOUND_MS, `the agent took ${caughtUpMs} ms to serve the new plan`);
  assert.equal(caughtUp?.status?.planGeneration, generation1 + 1);
  assert.equal(ourReport(caughtUp!)?.planDigest, caughtUp?.status?.planDigest);
  // What the agent serves did change: the script now comes from the pinned class's profile.
  assert.equal(await onClient(l, ['curl', '-sSf', scriptUrl]), `#!ipxe\necho rescue ${CLIENT_MAC}\n`);
  await waitForJson('the machine healthy in class pinned', () => get('bootmachine', MACHINE),
    (m) => healthy(m) && (m.status?.boot as { history: History }).history.at(-1)?.detail === 'profile rescue');
  mark('class change served');

  // 7. The agent stops (the kubelet's SIGTERM): it exits cleanly and removes its own report.
  assert.deepEqual(agentErrors(agent.log), [], 'the agent logged errors');
  assert.equal(await stopAgent(agent), 0, `the agent did not stop cleanly\n${logs()}`);
  const gone = await waitForJson('the agent\'s entry removed', () => get('bootnetwork', 'segment'), (n) => ourReport(n) === undefined);
  assert.deepEqual(reports(gone), []);
  assert.equal(condition(gone, 'PlanServed')?.status, 'False', 'no agent reports: the plan is not known to be served');
  mark('agent stopped, report removed');

  // 8. Deleting the network. The garbage collector (kube-controller-manager, not running here) removes the
  // DaemonSet through its owner reference; the controller leaves it alone and does not recreate anything.
  agent = await startAgentFromDaemonSet(l, ['agent', ...container.args.slice(1)], 'agent-2');
  await waitForJson('the restarted agent reporting the current generation', () => get('bootnetwork', 'segment'), (n) => ourReport(n)?.planGeneration === n.status?.planGeneration);
  await c.kubectl(['delete', 'bootnetwork', 'segment', '-n', NS, '--wait=true']);
  await sleep(1000);
  const orphan = await get('daemonset', 'netboot-agent-segment');
  assert.ok(orphan !== undefined, 'without a garbage collector the DaemonSet stays');
  assert.deepEqual((orphan.metadata.ownerReferences as { kind: string; uid: string }[]).map((o) => [o.kind, o.uid]), [['BootNetwork', network1.metadata.uid]]);
  // The kubelet would now stop the pod: the agent exits cleanly, and its report removal does not recreate the network.
  assert.equal(agent.child.exitCode, null, 'the agent serves its last plan until its pod is stopped');
  assert.equal(await stopAgent(agent), 0, `the agent did not stop cleanly\n${logs()}`);
  assert.equal(await get('bootnetwork', 'segment'), undefined, 'the deleted network came back');
  assert.equal(await ctl.metric('netboot_controller_reconcile_total', { result: 'error' }), 0, 'a reconcile failed');
  assert.equal(await ctl.stop('SIGTERM'), 0, ctl.output().slice(-3000));
  mark('network deleted');
  passed = true;
});
