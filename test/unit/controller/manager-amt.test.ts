/**
 * The AMT wiring of the manager, on fake sources, fake write APIs, a fake
 * Secret reader and a fake clock: a machine whose class names a policy gets
 * status.amt and the Amt* conditions, its window flips at exactly closesAt
 * (the requeue lands on the instant), the policy counts its machines and
 * summarises a certificate read with `get` from a Secret (PEM made with
 * openssl), re-reads it on its refresh and requeues the machines when it
 * changed, and a controller started after a window closed writes it closed
 * on its first reconcile.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { SecretRead, SecretReader } from '../../../src/controller/amt-certificates.ts';
import { Manager } from '../../../src/controller/manager/manager.ts';
import type { CacheSources, CachedKinds } from '../../../src/controller/manager/caches.ts';
import type { WatchedKind } from '../../../src/controller/manager/fanout.ts';
import { CERTIFICATE_REFRESH_MS } from '../../../src/controller/manager/reconcile.ts';
import { createControllerMetrics } from '../../../src/controller/metrics.ts';
import type { ApplyApi } from '../../../src/kube/apply.ts';
import type { ApplyableObject, ObjectApplyApi } from '../../../src/kube/apply-object.ts';
import type { KubeObject, ListWatchSource, WatchEvent } from '../../../src/kube/informer.ts';
import { FakeClock } from '../../support/fake-clock.ts';
import { CertLab, INTEL_EKU } from '../amt/openssl.ts';
import { AGENT, amtPolicy, machine, machineClass, network, profile, withGeneration, withSpec, withStatus } from './builders.ts';

type Stored = KubeObject & { metadata: { name: string; namespace: string; resourceVersion: string }; status?: Record<string, unknown> };
type Cond = { type: string; status: string; reason: string; message: string; lastTransitionTime: string };

class FakeSource implements ListWatchSource<Stored> {
  readonly resource: string;
  readonly objects = new Map<string, Stored>();
  #watcher: ((e: WatchEvent) => void) | undefined;
  readonly #rv: () => string;
  constructor(resource: string, rv: () => string) { this.resource = resource; this.#rv = rv; }
  async list() { return { items: [...this.objects.values()].map((o) => structuredClone(o)), resourceVersion: this.#rv() }; }
  watch(_rv: string, onEvent: (e: WatchEvent) => void, signal: AbortSignal): Promise<void> {
    this.#watcher = onEvent;
    return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  }
  put(obj: object, type: 'ADDED' | 'MODIFIED' = 'MODIFIED'): void {
    const o = { ...structuredClone(obj), metadata: { ...(obj as Stored).metadata, resourceVersion: this.#rv() } } as Stored;
    this.objects.set(`${o.metadata.namespace}/${o.metadata.name}`, o);
    this.#watcher?.({ type, object: structuredClone(o) });
  }
}

const lab = new CertLab();
after(() => lab.dispose());
const root = lab.root();
const inter = lab.intermediate(root);
const good = lab.leaf(inter, { eku: INTEL_EKU, cn: 'rcs.contoso.com' });
const noUsage = lab.leaf(inter, { eku: 'serverAuth', cn: 'rcs.contoso.com' });
const b64 = (s: string) => Buffer.from(s).toString('base64');

// Certificates are valid from the real now, so the fake clock starts there (to the second).
const START = Math.floor(Date.now() / 1000) * 1000;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const MAC = '52:54:00:00:00:01';
const KEY = 'lab/52-54-00-00-00-01';

function world(start = START, seenAt = START, stored: Record<string, unknown> = {}) {
  let rv = 1;
  const next = () => String(rv++);
  const kinds: WatchedKind[] = ['BootNetwork', 'BootProfile', 'MachineClass', 'BootMachine', 'AmtNetworkPolicy', 'DaemonSet'];
  const sources = Object.fromEntries(kinds.map((k) => [k, new FakeSource(k, next)])) as Record<WatchedKind, FakeSource>;
  const events: ApplyableObject[] = [];
  const writes: string[] = [];
  const kindOf: Record<string, keyof CachedKinds> = { bootnetworks: 'BootNetwork', bootprofiles: 'BootProfile', machineclasses: 'MachineClass', bootmachines: 'BootMachine', amtnetworkpolicies: 'AmtNetworkPolicy' };
  const applyApi = {
    patchNamespacedCustomObjectStatus: async (p: { plural: string; namespace: string; name: string; body: unknown }) => {
      writes.push(`${p.plural} ${p.name}`);
      const source = sources[kindOf[p.plural] as WatchedKind];
      const current = source.objects.get(`${p.namespace}/${p.name}`) as Stored;
      // The controller owns every status field but status.boot: replace them, keep the agents' part.
      source.put({ ...current, status: { ...(p.body as { status: Record<string, unknown> }).status, ...(current.status?.['boot'] === undefined ? {} : { boot: current.status['boot'] }) } });
      return {};
    },
  } as unknown as ApplyApi;
  const objectApi: ObjectApplyApi = {
    applyPatch: async (body) => {
      if (body.kind === 'Event') events.push(body);
      else sources.DaemonSet.put({ ...body, metadata: { ...body.metadata, generation: 1 } });
      return body;
    },
  };
  const secrets = new Map<string, SecretRead>([['amt-cert', { resourceVersion: '100', data: { 'chain.pem': b64(good.pem + inter.pem + root.pem) } }]]);
  const reads: string[] = [];
  const reader: SecretReader = { read: async (_ns, name) => { reads.push(name); return secrets.get(name) ?? 'not-found'; } };
  const clock = new FakeClock(start);
  const manager = new Manager({
    sources: sources as unknown as CacheSources, applyApi, objectApi, agent: AGENT, identity: 'test', clock, metrics: createControllerMetrics(new Registry()),
    logger: pino({ level: 'silent' }), secrets: reader,
  });
  sources.BootNetwork.put(network('lab', withGeneration(1), withSpec({ mode: 'dhcp', subnet: '10.0.0.0/24', dhcp: { pool: { start: '10.0.0.100', end: '10.0.0.200' }, router: '10.0.0.1', domainName: 'corp.fabrikam.com', leaseSeconds: 86400 } })), 'ADDED');
  sources.BootProfile.put(profile('linux', withGeneration(1)), 'ADDED');
  sources.MachineClass.put(machineClass('vpro', 'linux', withGeneration(1), withSpec({ amtPolicy: 'fleet' })), 'ADDED');
  sources.MachineClass.put(machineClass('plain', 'linux', withGeneration(1), withSpec({ selector: { macPrefixes: ['52:54:01'] } })), 'ADDED');
  sources.AmtNetworkPolicy.put(amtPolicy('fleet', withGeneration(1), withSpec({ dnsSuffix: 'contoso.com', certificate: { pem: { name: 'amt-cert', key: 'chain.pem' } } })), 'ADDED');
  sources.BootMachine.put(machine(MAC, withGeneration(1), withSpec({ network: 'lab' }), withStatus({
    ...stored,
    boot: { network: 'lab', amt: { firstSeenAt: iso(seenAt), probe: { at: iso(seenAt), address: '10.0.0.100', httpServerHeader: '11.8.50', provisioningState: 'pre' }, servedOption15: [{ value: 'corp.fabrikam.com', at: iso(seenAt) }] } },
  })), 'ADDED');
  // A machine of a class without a policy: no AMT status at all.
  sources.BootMachine.put(machine('52:54:01:00:00:02', withGeneration(1), withSpec({ network: 'lab' })), 'ADDED');
  return { sources, events, clock, manager, secrets, reads, writes };
}

async function drain(clock: FakeClock, manager: Manager): Promise<void> {
  for (let i = 0; i < 200; i++) {
    await clock.advance(100);
    if (manager.backlog() === 0) { await clock.advance(1500); if (manager.backlog() === 0) return; }
  }
  throw new Error('queues did not drain');
}

const statusOf = (w: ReturnType<typeof world>, kind: WatchedKind, key: string) => w.sources[kind].objects.get(key)?.status as Record<string, unknown> & { conditions?: Cond[] } | undefined;
const cond = (s: { conditions?: Cond[] } | undefined, type: string) => s?.conditions?.find((c) => c.type === type);

test('machine and policy AMT status; the window flips at exactly closesAt; the certificate is re-read and rotation reaches the machines', async () => {
  // Seen an hour before the controller starts, so closesAt is no multiple of the 12-hour requeue cap away.
  const seenAt = START - 3_600_000;
  const w = world(START, seenAt);
  const { clock, manager } = w;
  manager.start();
  await manager.caches.waitForSync();
  const leading = new AbortController();
  const run = manager.lead(leading.signal);
  await drain(clock, manager);

  const m = statusOf(w, 'BootMachine', KEY);
  const amt = m?.['amt'] as Record<string, unknown>;
  assert.deepEqual(amt['version'], { value: '11.8.50', source: 'http-server-header' });
  assert.deepEqual(amt['dnsSuffix'], { value: 'corp.fabrikam.com', source: 'served-option15' });
  assert.equal(amt['suffixMatch'], 'Mismatch');
  assert.match(String(amt['remediation']), /^set option 15 on BootNetwork lab to contoso\.com, then renew the lease before /);
  const closesAt = seenAt + 24 * 3_600_000;
  assert.deepEqual(amt['window'], { openedAt: iso(seenAt), openedBy: 'first-seen', closesAt: iso(closesAt), open: true });
  assert.deepEqual([cond(m, 'AmtCertificateTrusted')?.status, cond(m, 'AmtCertificateTrusted')?.reason], ['True', 'CertificateTrusted']);
  assert.equal(cond(m, 'AmtProvisioningWindowOpen')?.status, 'True');
  assert.equal(cond(m, 'Ready')?.status, 'True', 'AMT does not change Ready');
  assert.equal(w.events.filter((e) => e['reason'] === 'AmtSuffixMismatch').length, 1);
  const plain = statusOf(w, 'BootMachine', 'lab/52-54-01-00-00-02');
  assert.equal(plain?.['amt'], undefined, 'no policy, no status.amt');
  assert.deepEqual(plain?.conditions?.filter((c) => c.type.startsWith('Amt')), []);

  const p = statusOf(w, 'AmtNetworkPolicy', 'lab/fleet');
  assert.deepEqual(p?.['machines'], { matched: 1, suffixOk: 0, windowOpen: 1, windowExpired: 0 });
  const cert = p?.['certificate'] as Record<string, string>;
  assert.equal(cert['domain'], 'rcs.contoso.com');
  assert.match(cert['rootSha256'] ?? '', /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  assert.equal(cond(p, 'AmtCertificateTrusted')?.status, 'True');
  assert.equal(cond(p, 'Ready')?.status, 'True');
  assert.ok(w.reads.length >= 1 && w.reads.every((n) => n === 'amt-cert'), 'only the named Secret is read');

  // Idle: two certificate refreshes (GETs) and nothing due: no status write.
  const settled = w.writes.length;
  const readsSettled = w.reads.length;
  await clock.advance(2 * CERTIFICATE_REFRESH_MS + 1000);
  await drain(clock, manager);
  assert.deepEqual(w.writes.slice(settled), [], 'idle writes');
  assert.ok(w.reads.length >= readsSettled + 2, 'the Secret is re-read on each refresh');

  // One millisecond before closesAt: still open. At closesAt: closed, stamped with that very instant.
  await clock.advance(closesAt - 1 - clock.now());
  assert.equal(cond(statusOf(w, 'BootMachine', KEY), 'AmtProvisioningWindowOpen')?.status, 'True');
  await clock.advance(1);
  const closed = cond(statusOf(w, 'BootMachine', KEY), 'AmtProvisioningWindowOpen');
  assert.deepEqual([closed?.status, closed?.reason, closed?.lastTransitionTime], ['False', 'WindowClosed', iso(closesAt)]);
  await drain(clock, manager);
  assert.deepEqual(statusOf(w, 'AmtNetworkPolicy', 'lab/fleet')?.['machines'], { matched: 1, suffixOk: 0, windowOpen: 0, windowExpired: 1 });

  // Rotation: the Secret now holds a leaf without Intel's usage; the next refresh sees it and requeues the machine.
  w.secrets.set('amt-cert', { resourceVersion: '101', data: { 'chain.pem': b64(noUsage.pem + inter.pem + root.pem) } });
  const readsBefore = w.reads.length;
  await clock.advance(CERTIFICATE_REFRESH_MS);
  await drain(clock, manager);
  assert.ok(w.reads.length > readsBefore, 'the policy re-read its Secret');
  const rotated = cond(statusOf(w, 'BootMachine', KEY), 'AmtCertificateTrusted');
  assert.deepEqual([rotated?.status, rotated?.reason], ['False', 'MissingIntelUsage']);

  // The Secret is deleted: SecretNotFound with the code and the name, never the bytes.
  w.secrets.delete('amt-cert');
  await clock.advance(CERTIFICATE_REFRESH_MS);
  await drain(clock, manager);
  const gone = cond(statusOf(w, 'BootMachine', KEY), 'AmtCertificateTrusted');
  assert.deepEqual([gone?.status, gone?.reason], ['False', 'SecretNotFound']);
  assert.match(gone?.message ?? '', /NB5023: Secret lab\/amt-cert \(spec\.certificate\.pem\) does not exist/);
  const policyNow = statusOf(w, 'AmtNetworkPolicy', 'lab/fleet');
  assert.equal(policyNow?.['certificate'], undefined, 'no summary without a certificate');
  assert.deepEqual([cond(policyNow, 'Ready')?.status, cond(policyNow, 'Ready')?.reason], ['False', 'SecretNotFound']);
  const everything = JSON.stringify([...w.sources.BootMachine.objects.values(), ...w.sources.AmtNetworkPolicy.objects.values(), w.events]);
  assert.ok(!everything.includes('BEGIN CERTIFICATE') && !everything.includes(b64(good.pem).slice(0, 40)), 'no certificate bytes in status or events');

  leading.abort();
  await run;
  await manager.stop();
});

test('a controller started after the window closed writes it closed on its first reconcile', async () => {
  const seenAt = START - 30 * 3_600_000;
  // What the previous controller wrote while the window was open.
  const before = { amt: { window: { openedAt: iso(seenAt), closesAt: iso(seenAt + 24 * 3_600_000), open: true } }, conditions: [
    { type: 'AmtProvisioningWindowOpen', status: 'True', reason: 'WindowOpen', message: 'open', lastTransitionTime: iso(seenAt) },
  ] };
  const w = world(START, seenAt, before);
  w.manager.start();
  await w.manager.caches.waitForSync();
  const leading = new AbortController();
  const run = w.manager.lead(leading.signal);
  await w.clock.advance(1);
  await w.clock.advance(1);
  const c = cond(statusOf(w, 'BootMachine', KEY), 'AmtProvisioningWindowOpen');
  assert.deepEqual([c?.status, c?.reason], ['False', 'WindowClosed']);
  assert.equal((statusOf(w, 'BootMachine', KEY)?.['amt'] as { window: { open: boolean } }).window.open, false);
  leading.abort();
  await run;
  await w.manager.stop();
});
