/**
 * The controller against a real kube-apiserver, as a process: resources in,
 * DaemonSet and statuses out, a class change re-resolving a machine with an
 * Event, agents' readiness and plan reports turning the network Ready, an
 * idle controller writing nothing, and the owner reference that lets the
 * garbage collector remove the DaemonSet.
 *
 * Not here: kube-controller-manager (no DaemonSet controller, no garbage
 * collector) and kubelets. The test writes the DaemonSet status the way the
 * DaemonSet controller would and an agentReports entry the way an agent
 * would; deleting the network is checked through the owner reference.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { BootMachine } from '../../src/api/v1alpha1/bootmachine.ts';
import type { BootNetwork } from '../../src/api/v1alpha1/bootnetwork.ts';
import type { BootProfile } from '../../src/api/v1alpha1/bootprofile.ts';
import { GROUP, VERSION } from '../../src/api/v1alpha1/index.ts';
import type { MachineClass } from '../../src/api/v1alpha1/machineclass.ts';
import { compilePlan } from '../../src/boot/plan.ts';
import { planDigest } from '../../src/boot/plan-digest.ts';
import { agentSelector } from '../../src/controller/daemonset.ts';
import { EventReason } from '../../src/controller/reasons.ts';
import { installCrds, startCluster } from '../support/cluster.ts';
import type { TestCluster } from '../support/cluster.ts';
import { setDaemonSetStatus, startController } from './support/controller-proc.ts';
import type { ControllerProcess } from './support/controller-proc.ts';
import { getJson, until, waitForJson } from './support/kube-json.ts';
import type { Json } from './support/kube-json.ts';

let cluster: TestCluster;
const NS = 'lab';
const IMAGE = 'registry.example.test/netboot:lifecycle';

before(async () => {
  cluster = await startCluster();
  await installCrds(cluster);
  await cluster.kubectl(['create', 'namespace', NS]);
});
after(async () => { await cluster?.stop(); });

const resources = `
apiVersion: ${GROUP}/${VERSION}
kind: BootProfile
metadata: {name: hello, namespace: ${NS}}
spec:
  ipxe: {script: "#!ipxe\\necho hello {{ mac }}\\n"}
---
apiVersion: ${GROUP}/${VERSION}
kind: MachineClass
metadata: {name: qemu, namespace: ${NS}}
spec:
  selector: {macPrefixes: ["52:54:00"]}
  profile: hello
---
apiVersion: ${GROUP}/${VERSION}
kind: BootNetwork
metadata: {name: segment, namespace: ${NS}}
spec:
  mode: proxy
  subnet: 192.168.100.0/24
  nodeSelector: {netboot.dev/segment: lab}
  tolerations: [{key: node-role.kubernetes.io/control-plane, operator: Exists, effect: NoSchedule}]
  ports: {dhcp: 67, pxe: 4011, tftp: 69, http: 8081}
---
apiVersion: ${GROUP}/${VERSION}
kind: BootMachine
metadata: {name: 52-54-00-12-34-56, namespace: ${NS}}
spec: {mac: "52:54:00:12:34:56", network: segment}
`;

const get = (kind: string, name: string) => getJson(cluster, kind, name, NS);
const list = async <T>(kind: string) => (JSON.parse((await cluster.kubectl(['get', kind, '-n', NS, '-o', 'json'])).stdout) as { items: T[] }).items;

/** The digest an agent would compute for the network from what the API server holds now. */
async function expectedDigest(): Promise<string> {
  const [network] = (await list<BootNetwork>('bootnetworks')).filter((n) => n.metadata.name === 'segment');
  assert.ok(network !== undefined);
  return planDigest(compilePlan({ network, profiles: await list<BootProfile>('bootprofiles'), classes: await list<MachineClass>('machineclasses'), machines: await list<BootMachine>('bootmachines') }, 0));
}
const condition = (obj: Json, type: string) => (obj.status?.conditions as { type: string; status: string; reason: string }[] | undefined)?.find((c) => c.type === type);
/** Ready=True and observedGeneration == generation: what kstatus and Argo CD call healthy. */
const healthy = (obj: Json | undefined) => obj !== undefined && obj.status?.observedGeneration === obj.metadata.generation && condition(obj, 'Ready')?.status === 'True';

test('controller lifecycle: DaemonSet, statuses, class change with an Event, agents ready, idle writes nothing, owner reference', async (t) => {
  let ctl: ControllerProcess | undefined;
  let code: number | null | undefined;
  try {
    ctl = await startController({ kubeconfig: cluster.kubeconfig, args: ['--leader-elect=false'], env: { NETBOOT_AGENT_IMAGE: IMAGE } });
    await ctl.waitForLog('initial reconcile done');
    assert.equal(await ctl.probe('/healthz'), 200);
    assert.equal(await ctl.probe('/readyz'), 200);
    await cluster.kubectl(['apply', '-f', '-'], resources);

    // The DaemonSet, rendered as the issue specifies.
    const network = await waitForJson('the BootNetwork with a plan digest', () => get('bootnetwork', 'segment'), (n) => typeof n.status?.planDigest === 'string');
    const ds = await waitForJson('the agent DaemonSet', () => get('daemonset', 'netboot-agent-segment'), () => true);
    const pod = ds.spec?.template as { spec: Record<string, unknown> & { containers: Json[]; tolerations: unknown[]; nodeSelector: Record<string, string> } };
    assert.equal(pod.spec.hostNetwork, true);
    assert.equal(pod.spec.dnsPolicy, 'ClusterFirstWithHostNet');
    assert.equal(pod.spec.serviceAccountName, 'netboot-agent');
    assert.equal(pod.spec.nodeSelector['netboot.dev/segment'], 'lab');
    assert.deepEqual(pod.spec.tolerations, [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }]);
    const agent = pod.spec.containers.find((c) => c['name'] === 'agent') as unknown as Record<string, unknown> & { securityContext: Record<string, unknown>; readinessProbe: { httpGet: { path: string; port: number } }; resources: { requests: Record<string, string> }; args: string[] };
    assert.equal(agent['image'], IMAGE);
    assert.deepEqual(agent.args.slice(0, 8), ['agent', '--network', 'segment', '--namespace', NS, '--node', '$(NODE_NAME)', '--state']);
    assert.deepEqual(agent.securityContext['capabilities'], { drop: ['ALL'], add: ['NET_BIND_SERVICE'] });
    assert.equal(agent.securityContext['readOnlyRootFilesystem'], true);
    assert.deepEqual(agent.securityContext['seccompProfile'], { type: 'RuntimeDefault' });
    assert.deepEqual(agent.readinessProbe.httpGet, { path: '/readyz', port: 8081, scheme: 'HTTP' });
    assert.ok(agent.resources.requests['cpu'] !== undefined && agent.resources.requests['memory'] !== undefined);
    const owners = ds.metadata.ownerReferences as { apiVersion: string; kind: string; name: string; uid: string; controller: boolean; blockOwnerDeletion: boolean }[];
    assert.deepEqual(owners, [{ apiVersion: `${GROUP}/${VERSION}`, kind: 'BootNetwork', name: 'segment', uid: network.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    assert.ok((ds.metadata.managedFields as { manager: string; operation: string }[]).some((m) => m.manager === 'netboot-controller' && m.operation === 'Apply'));

    // Statuses: every kind current (observedGeneration == generation), Ready where nothing outside is missing.
    const machine = await waitForJson('the BootMachine resolved and Ready', () => get('bootmachine', '52-54-00-12-34-56'), healthy);
    assert.equal(machine.status?.machineClass, 'qemu');
    assert.equal(machine.status?.profile, 'hello');
    await waitForJson('the BootProfile Ready, booted by 1 machine', () => get('bootprofile', 'hello'), (p) => healthy(p) && p.status?.machines === 1);
    await waitForJson('the MachineClass Ready, matching 1 machine', () => get('machineclass', 'qemu'), (c) => healthy(c) && c.status?.matchedMachines === 1);
    // The published digest is the one an agent computes from the same objects (compilePlan + planDigest).
    const digest1 = await expectedDigest();
    const pending = await waitForJson('the BootNetwork status current, with the plan digest of the objects', () => get('bootnetwork', 'segment'),
      (n) => n.status?.observedGeneration === n.metadata.generation && n.status?.planDigest === digest1);
    const generation1 = pending.status?.planGeneration as number;
    assert.ok(generation1 >= 1);
    // No DaemonSet controller has observed the DaemonSet yet: agents are not ready, so neither is the network.
    assert.equal(condition(pending, 'AgentsReady')?.status, 'False');
    assert.equal(condition(pending, 'Ready')?.status, 'False');

    // A second, higher-priority class for this machine: it re-resolves, with a ClassChanged Event.
    await cluster.kubectl(['apply', '-f', '-'], `
apiVersion: ${GROUP}/${VERSION}
kind: MachineClass
metadata: {name: pinned-mac, namespace: ${NS}}
spec:
  priority: 10
  selector: {macs: ["52:54:00:12:34:56"]}
  profile: hello
`);
    const moved = await waitForJson('the machine in class pinned-mac', () => get('bootmachine', '52-54-00-12-34-56'), (m) => healthy(m) && m.status?.machineClass === 'pinned-mac');
    await waitForJson('pinned-mac matching 1', () => get('machineclass', 'pinned-mac'), (c) => healthy(c) && c.status?.matchedMachines === 1);
    await waitForJson('qemu matching 0', () => get('machineclass', 'qemu'), (c) => c.status?.matchedMachines === 0);
    const event = await until('a ClassChanged Event on the machine', async () => {
      const list = JSON.parse((await cluster.kubectl(['get', 'events', '-n', NS, '-o', 'json', '--field-selector', `involvedObject.name=52-54-00-12-34-56,reason=${EventReason.ClassChanged}`])).stdout) as { items: Json[] };
      return list.items[0];
    });
    assert.equal(event['type'], 'Normal');
    assert.equal(event['message'], 'class qemu -> pinned-mac');
    assert.deepEqual(event['source'], { component: 'netboot-controller' });
    assert.equal(event['reportingComponent'], 'netboot-controller');
    assert.equal(event['count'], 1);
    assert.deepEqual(event['involvedObject'], { apiVersion: `${GROUP}/${VERSION}`, kind: 'BootMachine', name: '52-54-00-12-34-56', namespace: NS, uid: moved.metadata.uid });
    // The plan changed (a new class): a new generation is published, one more than before.
    const digest2 = await expectedDigest();
    assert.notEqual(digest2, digest1);
    const replanned = await waitForJson('the new plan published', () => get('bootnetwork', 'segment'), (n) => n.status?.planDigest === digest2);
    assert.equal(replanned.status?.planGeneration, generation1 + 1);

    // The DaemonSet controller's part, played by the test: 2 nodes, both agents ready.
    await setDaemonSetStatus(cluster.kubeconfig, NS, 'netboot-agent-segment', 2);
    const agentsReady = await waitForJson('AgentsReady', () => get('bootnetwork', 'segment'), (n) => condition(n, 'AgentsReady')?.status === 'True');
    assert.equal(agentsReady.status?.agentsReady, '2/2');
    assert.equal(condition(agentsReady, 'PlanServed')?.status, 'False', 'no agent has reported yet');

    // Two agents report the plan they serve, each under its own field manager, as the agent does.
    for (const node of ['node1', 'node2']) {
      const body = {
        apiVersion: `${GROUP}/${VERSION}`, kind: 'BootNetwork', metadata: { name: 'segment', namespace: NS },
        status: { agentReports: [{ node, planDigest: replanned.status?.planDigest, planGeneration: replanned.status?.planGeneration, ready: true, updatedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), counters: { offers: 3 } }] },
      };
      await cluster.kubectl(['apply', '--server-side', `--field-manager=netboot-agent-${node}`, '--subresource=status', '-f', '-'], JSON.stringify(body));
    }
    const served = await waitForJson('the network Ready with the plan served', () => get('bootnetwork', 'segment'), (n) => healthy(n) && condition(n, 'PlanServed')?.status === 'True');
    assert.equal(served.status?.planServed, replanned.status?.planGeneration);
    assert.deepEqual(served.status?.counters, { offers: 6 });
    assert.equal((served.status?.agentReports as unknown[]).length, 2, 'the controller leaves the agents\' entries alone');

    // Idle: nothing changes, so nothing is written (no resourceVersion moves, no write request).
    await new Promise((r) => setTimeout(r, 1000));
    const versions = async () => {
      const out: Record<string, string> = {};
      for (const kind of ['bootnetworks', 'bootprofiles', 'machineclasses', 'bootmachines', 'daemonsets', 'events']) {
        const list = JSON.parse((await cluster.kubectl(['get', kind, '-n', NS, '-o', 'json'])).stdout) as { items: Json[] };
        for (const o of list.items) out[`${kind}/${o.metadata.name}`] = String(o.metadata.resourceVersion);
      }
      return out;
    };
    // A reconcile with nothing to change (a label the controller does not read) writes nothing either.
    const writesBefore = await ctl.metric('netboot_controller_api_writes_total');
    const reconcilesBefore = await ctl.metric('netboot_controller_reconcile_total', { kind: 'BootNetwork' });
    await cluster.kubectl(['label', 'bootnetwork', 'segment', '-n', NS, 'touched=yes']);
    await until('the network reconciled after the label', async () => (await ctl!.metric('netboot_controller_reconcile_total', { kind: 'BootNetwork' }) > reconcilesBefore ? true : undefined));
    const before = await versions();
    await new Promise((r) => setTimeout(r, 5000));
    assert.deepEqual(await versions(), before, 'an idle controller changed an object');
    const writesAfter = await ctl.metric('netboot_controller_api_writes_total');
    assert.equal(writesAfter - writesBefore, 0, 'an idle controller sent writes');
    t.diagnostic(`writes so far: ${writesAfter}; reconciles: ${await ctl.metric('netboot_controller_reconcile_total')}`);
    assert.ok(writesAfter > 0);
    assert.equal(await ctl.metric('netboot_controller_reconcile_total', { result: 'error' }), 0, 'no reconcile failed');
    assert.equal(await ctl.metric('netboot_controller_leader'), 1);

    // A restarted controller reconciles everything once and finds nothing to write.
    assert.equal(await ctl.stop('SIGTERM'), 0, ctl.output().slice(-3000));
    ctl = await startController({ kubeconfig: cluster.kubeconfig, args: ['--leader-elect=false'], env: { NETBOOT_AGENT_IMAGE: IMAGE } });
    const initial = await ctl.waitForLog('initial reconcile done');
    t.diagnostic(`restarted: initial reconcile ${String(initial['ms'])} ms, ${String(initial['reconciles'])} reconciles`);
    assert.equal(initial['writes'], 0, 'a restart wrote something');
    assert.deepEqual(await versions(), before, 'a restart changed an object');

    // A node that vanished leaves its agent's entry behind (the agent never stopped cleanly). With no agent pod on that
    // node and the entry older than STALE_AFTER_MS, the controller removes it; entries of nodes with a pod stay.
    // No kubelet runs here: the pods are objects bound to their nodes, which is all the controller reads.
    await cluster.kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: NS } }));
    for (const node of ['node1', 'node2']) {
      await cluster.kubectl(['apply', '-f', '-'], JSON.stringify({
        apiVersion: 'v1', kind: 'Pod', metadata: { name: `netboot-agent-segment-${node}`, namespace: NS, labels: agentSelector('segment') },
        spec: { nodeName: node, automountServiceAccountToken: false, containers: [{ name: 'agent', image: IMAGE }] },
      }));
    }
    const longAgo = new Date(Date.now() - 10 * 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const gone = { apiVersion: `${GROUP}/${VERSION}`, kind: 'BootNetwork', metadata: { name: 'segment', namespace: NS },
      status: { agentReports: [{ node: 'node-gone', planDigest: 'ffffffffffffffffffffffffffffffff', planGeneration: 1, ready: true, updatedAt: longAgo }] } };
    await cluster.kubectl(['apply', '--server-side', '--field-manager=netboot-agent-node-gone', '--subresource=status', '-f', '-'], JSON.stringify(gone));
    const pruned = await waitForJson('the stale entry removed', () => get('bootnetwork', 'segment'),
      (n) => !(n.status?.agentReports as { node: string }[]).some((r) => r.node === 'node-gone') && condition(n, 'PlanServed')?.status === 'True');
    assert.deepEqual((pruned.status?.agentReports as { node: string }[]).map((r) => r.node).sort(), ['node1', 'node2'], 'the live agents\' entries stay');
    const removedEvents = (await list<Json & { reason?: string; message?: string }>('events')).filter((e) => e.reason === EventReason.StaleAgentReportRemoved);
    assert.equal(removedEvents.length, 1, 'one Event says which entry went and why');
    assert.match(String(removedEvents[0]?.message), /node node-gone: no agent pod/);

    // Deleting the network: its DaemonSet is owned by it, so the garbage collector (in
    // kube-controller-manager, not running here) deletes it; the controller does not recreate the network's agents.
    await cluster.kubectl(['delete', 'bootnetwork', 'segment', '-n', NS, '--wait=true']);
    await new Promise((r) => setTimeout(r, 1000));
    const orphan = await get('daemonset', 'netboot-agent-segment');
    assert.ok(orphan !== undefined, 'without a garbage collector the DaemonSet stays');
    assert.equal((orphan.metadata.ownerReferences as { uid: string }[])[0]?.uid, network.metadata.uid, 'owned by the deleted network, so the garbage collector removes it');
    assert.equal(await ctl.metric('netboot_controller_reconcile_total', { result: 'error' }), 0);
  } finally {
    code = await ctl?.stop('SIGTERM');
    assert.equal(code, 0, `controller exit: ${ctl?.output().slice(-3000)}`);
    assert.ok(ctl?.lines.some((l) => l.msg === 'controller stopped'));
  }
});
