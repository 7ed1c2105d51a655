/**
 * Simulated PXE BIOS clients for the boot storm, run inside the lab's client
 * namespace (it must never run anywhere else: it broadcasts DHCP). Each
 * client has its own MAC (chaddr), xid and UUID and goes through what a PXE
 * ROM does against a ProxyDHCP:
 *
 *   DISCOVER (broadcast, 68 -> 67) -> proxy OFFER (yiaddr 0.0.0.0, option 60 PXEClient)
 *   -> REQUEST to the server's UDP 4011 (option 43 sub 71 when the OFFER had a boot menu)
 *   -> ACK with the boot file -> TFTP RRQ (blksize 1456, tsize) from its own port
 *   -> lock-step DATA/ACK until the whole file is in, every block checked against the file.
 *
 * The host has one IP (a ProxyDHCP client already has one from the site DHCP
 * server, set as ciaddr); DHCP replies reach one shared socket on port 68
 * and are told apart by xid. At most --concurrency clients run at a time.
 * Retransmissions: DHCP after 1, 2, 4 s; TFTP after 1 s (checked every 100 ms), 5 times. Everything
 * stops at --deadline-s. Prints one JSON object (StormClientReport).
 *
 *   node scripts/bench/storm-client.ts --server IP --client-ip IP --file NAME --expect PATH
 *        [--clients 500] [--concurrency 50] [--deadline-s 300] [--seed 1]
 */
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { DhcpType, TftpOp, bootItemRequest, decodeDhcp, encodeDhcp, oackOptions, tftpAck, tftpRrq } from './lib/wire.ts';
import type { DhcpIn } from './lib/wire.ts';

const argv = process.argv.slice(2);
const arg = (name: string, fallback?: string): string => {
  const i = argv.indexOf(name);
  const v = i === -1 ? fallback : argv[i + 1];
  if (v === undefined) throw new Error(`storm-client: ${name} is required`);
  return v;
};
const SERVER = arg('--server');
const CLIENT_IP = arg('--client-ip');
const FILE = arg('--file');
const EXPECTED = readFileSync(arg('--expect'));
const CLIENTS = Number(arg('--clients', '500'));
const CONCURRENCY = Number(arg('--concurrency', '50'));
const DEADLINE = performance.now() + Number(arg('--deadline-s', '300')) * 1000;
const SEED = Number(arg('--seed', '1'));

// It broadcasts DHCP: run only where the sole non-loopback interface is the lab's eth0 holding
// --client-ip (a lab client namespace), never in a host namespace with real networks.
const foreign = Object.entries(networkInterfaces()).flatMap(([name, addrs]) => (addrs ?? []).filter((a) => !a.internal).map((a) => ({ name, address: a.address })))
  .filter((a) => !(a.name === 'eth0' && (a.address === CLIENT_IP || a.address.startsWith('fe80:'))));
if (foreign.length > 0 || !/^10\.213\.\d+\.\d+$/.test(CLIENT_IP)) {
  process.stderr.write(`storm-client: refusing to run: not in a lab client namespace (other interfaces: ${foreign.map((a) => `${a.name} ${a.address}`).join(', ') || 'none'}); storm.ts runs it there\n`);
  process.exit(2);
}
const BLKSIZE = 1456;
const DHCP_TIMEOUTS_MS = [1000, 2000, 4000];
const TFTP_TIMEOUT_MS = 1000;
const TFTP_RETRIES = 5;

/** What happened to one client. Times in ms. */
export interface ClientResult {
  readonly ok: boolean;
  readonly reason?: string;
  readonly dhcpMs?: number;
  readonly pxeMs?: number;
  readonly tftpMs?: number;
  readonly totalMs: number;
  readonly retries: number;
}

export interface StormClientReport {
  readonly clients: number;
  readonly concurrency: number;
  readonly wallMs: number;
  readonly results: ClientResult[];
  /** Times the client process slept (voluntary) or was preempted (involuntary): how the server's pace shapes the client's cost. */
  readonly contextSwitches: { readonly voluntary: number; readonly involuntary: number };
}

class Failure extends Error {}

// ---- DHCP: one shared socket on port 68, replies routed by xid ----

const waiting = new Map<number, (msg: DhcpIn) => void>();
const usedXids = new Set<number>();
let dhcp: Socket;

function newXid(): number {
  for (;;) {
    const x = randomBytes(4).readUInt32BE(0);
    if (x !== 0 && !usedXids.has(x)) { usedXids.add(x); return x; }
  }
}

/** Sends `packet` and waits for a reply with `xid` that `accept` takes, retransmitting on the DHCP schedule. */
async function exchange(packet: Buffer, to: { address: string; port: number }, xid: number, accept: (m: DhcpIn) => boolean, count: { retries: number }): Promise<DhcpIn> {
  for (const [attempt, timeout] of DHCP_TIMEOUTS_MS.entries()) {
    if (attempt > 0) count.retries++;
    if (performance.now() > DEADLINE) throw new Failure('deadline');
    const reply = await new Promise<DhcpIn | undefined>((resolve) => {
      const timer = setTimeout(() => { waiting.delete(xid); resolve(undefined); }, timeout);
      waiting.set(xid, (m) => { if (!accept(m)) return; clearTimeout(timer); waiting.delete(xid); resolve(m); });
      dhcp.send(packet, to.port, to.address);
    });
    if (reply !== undefined) return reply;
  }
  throw new Failure(`no answer to ${to.port === 67 ? 'DISCOVER' : 'REQUEST'} after ${DHCP_TIMEOUTS_MS.length} tries`);
}

const typeOf = (m: DhcpIn) => m.options.get(53)?.[0];
const vendorClass = Buffer.from('PXEClient:Arch:00000:UNDI:002001', 'latin1');
/** Parameter request list of an Intel PXE ROM. */
const PRL = Uint8Array.from([1, 2, 3, 4, 5, 6, 11, 12, 13, 15, 16, 17, 18, 22, 23, 28, 40, 41, 42, 43, 50, 51, 54, 58, 59, 60, 66, 67, 128, 129, 130, 131, 132, 133, 134, 135]);

function identity(i: number): { mac: Uint8Array; uuid: Uint8Array } {
  const mac = Uint8Array.from([0x02, 0x62, SEED & 0xff, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff]);
  const uuid = new Uint8Array(17);
  uuid.set(mac, 1);
  uuid[16] = SEED & 0xff;
  return { mac, uuid };
}

function pxeOptions(uuid: Uint8Array): Array<[number, Uint8Array]> {
  return [[57, Uint8Array.from([0x04, 0xec])], [93, Uint8Array.from([0, 0])], [94, Uint8Array.from([1, 2, 1])], [97, uuid], [55, PRL], [60, vendorClass]];
}

// ---- TFTP: one socket per client (its own source port = its TID) ----

/**
 * Fetches `file` in lock-step. One 100 ms ticker per transfer checks for a
 * timeout instead of a timer per block, so the client spends its CPU on
 * packets, not timers (it shares the machine with the server under test).
 */
function tftpFetch(server: string, file: string, count: { retries: number }): Promise<number> {
  return new Promise((resolve, reject) => {
    const sock = createSocket('udp4');
    let tid: number | undefined;
    let blksize = 512;
    let expected = 1;
    let received = 0;
    let last: Buffer = tftpRrq(file, { blksize: String(BLKSIZE), tsize: '0' });
    let tries = 0;
    let sentAt = 0;
    let done = false;
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      clearInterval(ticker);
      sock.close();
      if (err === undefined) resolve(received); else reject(err);
    };
    const send = () => {
      sentAt = performance.now();
      sock.send(last, tid ?? 69, server);
    };
    const ticker = setInterval(() => {
      const now = performance.now();
      if (now > DEADLINE) return finish(new Failure('deadline'));
      if (now - sentAt < TFTP_TIMEOUT_MS) return;
      if (++tries > TFTP_RETRIES) return finish(new Failure(`TFTP timeout at block ${expected}`));
      count.retries++;
      send();
    }, 100);
    sock.on('error', (err) => finish(new Failure(`TFTP socket: ${err.message}`)));
    sock.on('message', (msg, rinfo) => {
      if (done || rinfo.address !== server || (tid !== undefined && rinfo.port !== tid)) return;
      tid ??= rinfo.port;
      const op = msg.readUInt16BE(0);
      if (op === TftpOp.Error) return finish(new Failure(`TFTP error ${msg.readUInt16BE(2)}: ${msg.subarray(4, msg.length - 1).toString('latin1')}`));
      if (op === TftpOp.Oack && expected === 1 && received === 0) {
        blksize = Number(oackOptions(msg).get('blksize') ?? '512');
        last = tftpAck(0);
        tries = 0;
        return send();
      }
      if (op !== TftpOp.Data) return;
      const block = msg.readUInt16BE(2);
      if (block === ((expected - 1) & 0xffff)) return send(); // duplicate: our ACK was lost
      if (block !== (expected & 0xffff)) return;
      const data = msg.subarray(4);
      if (data.length > blksize || !data.equals(EXPECTED.subarray(received, received + data.length))) return finish(new Failure(`TFTP block ${block}: content differs from the file`));
      received += data.length;
      last = tftpAck(block);
      tries = 0;
      if (data.length < blksize) {
        clearInterval(ticker);
        // Close only once the final ACK left, or the server waits for it and retransmits.
        return sock.send(last, tid, server, () => finish(received === EXPECTED.length ? undefined : new Failure(`TFTP got ${received} bytes, file has ${EXPECTED.length}`)));
      }
      expected++;
      send();
    });
    sock.bind(0, () => send());
  });
}

// ---- one client ----

async function boot(i: number): Promise<ClientResult> {
  const t0 = performance.now();
  const count = { retries: 0 };
  const { mac, uuid } = identity(i);
  try {
    const xid = newXid();
    const discover = encodeDhcp({ type: DhcpType.Discover, xid, mac, broadcast: true, options: pxeOptions(uuid) });
    const offer = await exchange(discover, { address: '255.255.255.255', port: 67 }, xid,
      (m) => m.op === 2 && typeOf(m) === DhcpType.Offer && m.yiaddr === '0.0.0.0' && m.options.get(60)?.toString('latin1').startsWith('PXEClient') === true, count);
    const t1 = performance.now();
    const item = bootItemRequest(offer);
    const request = encodeDhcp({
      type: DhcpType.Request, xid, mac, ciaddr: CLIENT_IP, broadcast: false,
      options: [...pxeOptions(uuid), ...(item === undefined ? [] : [[43, item] as [number, Uint8Array]])],
    });
    const serverId = offer.options.get(54);
    const server = serverId?.length === 4 ? [...serverId].join('.') : SERVER;
    const ack = await exchange(request, { address: server, port: 4011 }, xid, (m) => m.op === 2 && typeOf(m) === DhcpType.Ack, count);
    const t2 = performance.now();
    const file = (ack.options.get(67)?.toString('latin1').replace(/\0+$/, '') ?? '') || ack.file;
    if (file !== FILE) throw new Failure(`ACK names boot file "${file}", expected "${FILE}"`);
    const tftpServer = ack.siaddr !== '0.0.0.0' ? ack.siaddr : server;
    await tftpFetch(tftpServer, file, count);
    const t3 = performance.now();
    return { ok: true, dhcpMs: t1 - t0, pxeMs: t2 - t1, tftpMs: t3 - t2, totalMs: t3 - t0, retries: count.retries };
  } catch (err) {
    if (!(err instanceof Failure)) throw err;
    return { ok: false, reason: err.message, totalMs: performance.now() - t0, retries: count.retries };
  }
}

async function main(): Promise<void> {
  dhcp = createSocket({ type: 'udp4', reuseAddr: true });
  dhcp.on('message', (msg) => {
    const m = decodeDhcp(msg);
    if (m !== undefined) waiting.get(m.xid)?.(m);
  });
  await new Promise<void>((resolve, reject) => { dhcp.once('error', reject); dhcp.bind(68, '0.0.0.0', () => { dhcp.setBroadcast(true); resolve(); }); });
  const results: ClientResult[] = new Array(CLIENTS);
  let next = 0;
  const t0 = performance.now();
  const usage0 = process.resourceUsage();
  const worker = async () => {
    while (next < CLIENTS) {
      const i = next++;
      results[i] = performance.now() > DEADLINE ? { ok: false, reason: 'deadline', totalMs: 0, retries: 0 } : await boot(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, CLIENTS) }, worker));
  const usage = process.resourceUsage();
  const report: StormClientReport = {
    clients: CLIENTS, concurrency: CONCURRENCY, wallMs: performance.now() - t0, results,
    contextSwitches: { voluntary: usage.voluntaryContextSwitches - usage0.voluntaryContextSwitches, involuntary: usage.involuntaryContextSwitches - usage0.involuntaryContextSwitches },
  };
  dhcp.close();
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

await main();
