/**
 * The Node floor: the least a Node 24 server built on node:dgram can do per
 * packet for the benchmarks' clients, run beside the agent and dnsmasq so a
 * result shows how much of the agent's cost is its own code and how much is
 * the runtime's per-datagram path (epoll, one JS callback and one Buffer per
 * datagram received, one sendmsg per datagram sent).
 *
 * It is not a DHCP or TFTP server anyone should run: it parses nothing it
 * can skip and checks almost nothing.
 * - UDP 67 and 4011: any BOOTREQUEST gets a copy of one prebuilt reply (a
 *   proxy OFFER, or an ACK naming the boot file) with the request's xid,
 *   flags and chaddr patched in; no option is read, so nothing is decided
 *   and option 97 is not echoed. An OFFER goes to giaddr:67 when the
 *   request was relayed (perfdhcp acts as a relay), else to
 *   255.255.255.255:68, from a socket bound to the serving address, as the
 *   agent sends them.
 * - UDP 69: an RRQ for the one boot file gets a transfer on its own
 *   connected socket: OACK for blksize/tsize, then lock-step DATA. Every
 *   DATA packet of a block size is built once, so an ACK costs a lookup and
 *   a send. A duplicate ACK resends the block; there are no timers (the
 *   client's retries cover a loss).
 *
 * Usage (the benchmarks start it in the server namespace):
 *   node scripts/bench/node-floor.ts --address IP --files DIR --file NAME
 */
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { option } from './lib/report.ts';
import { MAGIC, TftpOp, tftpOptions, tftpStrings } from './lib/wire.ts';

const argv = process.argv.slice(2);
const ADDRESS = option(argv, '--address', '');
const FILE = option(argv, '--file', '');
const FILES = option(argv, '--files', '');
if (ADDRESS === '' || FILE === '' || FILES === '') throw new Error('usage: node-floor.ts --address IP --files DIR --file NAME');
const CONTENT = readFileSync(join(FILES, FILE));
const server = Uint8Array.from(ADDRESS.split('.').map(Number));

/** A BOOTREPLY of message type `type` from this server (yiaddr 0.0.0.0), padded to the BOOTP minimum. */
function template(type: number, file: string): Buffer {
  const pxeClient = Buffer.from('PXEClient', 'latin1');
  // Option 43: PXE_DISCOVERY_CONTROL = 8 (boot from the file named here, no menu).
  const options = [53, 1, type, 54, 4, ...server, 60, pxeClient.length, ...pxeClient, 43, 4, 6, 1, 8, 255, 255];
  const b = Buffer.alloc(Math.max(300, 240 + options.length));
  b[0] = 2; b[1] = 1; b[2] = 6;
  b.set(server, 20);
  b.write(file, 108, 'latin1');
  b.writeUInt32BE(MAGIC, 236);
  b.set(options, 240);
  return b;
}

/** The template with the request's xid and flags (4-11) and chaddr (28-43); undefined for what is not a BOOTREQUEST. */
function replyTo(request: Buffer, reply: Buffer): Buffer | undefined {
  if (request.length < 240 || request[0] !== 1) return undefined;
  const out = Buffer.allocUnsafe(reply.length);
  reply.copy(out);
  request.copy(out, 4, 4, 12);
  request.copy(out, 28, 28, 44);
  return out;
}

function bound(address: string, port: number): Promise<Socket> {
  const socket = createSocket({ type: 'udp4', reuseAddr: true });
  socket.on('error', (err) => process.stderr.write(`node-floor: ${address}:${port}: ${err.message}\n`));
  return new Promise((resolve) => socket.bind(port, address, () => resolve(socket)));
}

const OFFER = template(2, '');
const ACK = template(5, FILE);

const dhcpAny = await bound('0.0.0.0', 67);
const dhcpOwn = await bound(ADDRESS, 67);
dhcpOwn.setBroadcast(true);
const onDiscover = (msg: Buffer) => {
  const reply = replyTo(msg, OFFER);
  if (reply === undefined) return;
  if (msg.readUInt32BE(24) === 0) dhcpOwn.send(reply, 68, '255.255.255.255');
  else dhcpOwn.send(reply, 67, `${msg[24]}.${msg[25]}.${msg[26]}.${msg[27]}`);
};
dhcpAny.on('message', onDiscover);
dhcpOwn.on('message', onDiscover);

const pxe = await bound(ADDRESS, 4011);
pxe.on('message', (msg, from) => {
  const reply = replyTo(msg, ACK);
  if (reply !== undefined) pxe.send(reply, from.port, from.address);
});

/** RRQ fields: file name and lower-cased options. */
function parseRrq(msg: Buffer): { file: string; options: Map<string, string> } | undefined {
  if (msg.length < 4 || msg.readUInt16BE(0) !== TftpOp.Rrq) return undefined;
  const [file = '', , ...options] = tftpStrings(msg);
  return { file: file.replace(/^\/+/, ''), options: tftpOptions(options) };
}

/** The boot file's DATA packets by block size; index n is block n + 1 (its number wraps past 65535). */
const packets = new Map<number, Buffer[]>();
function dataPackets(blksize: number): Buffer[] {
  let list = packets.get(blksize);
  if (list === undefined) {
    list = [];
    for (let n = 1; n <= Math.floor(CONTENT.length / blksize) + 1; n++) {
      const payload = CONTENT.subarray((n - 1) * blksize, Math.min(CONTENT.length, n * blksize));
      const packet = Buffer.allocUnsafe(4 + payload.length);
      packet.writeUInt32BE((TftpOp.Data << 16) | (n & 0xffff));
      payload.copy(packet, 4);
      list.push(packet);
    }
    packets.set(blksize, list);
  }
  return list;
}

function transfer(peer: { address: string; port: number }, options: Map<string, string>): void {
  const blksize = Math.min(65464, Math.max(8, Number(options.get('blksize') ?? '512') || 512));
  const data = dataPackets(blksize);
  const last = data.length;
  const oack: string[] = [];
  if (options.has('blksize')) oack.push('blksize', String(blksize));
  if (options.has('tsize')) oack.push('tsize', String(CONTENT.length));
  const socket = createSocket('udp4');
  socket.on('error', () => socket.close());
  /** The last block sent, unwrapped (0: the OACK). */
  let sent = 0;
  const sendBlock = (n: number) => socket.send(data[n - 1] as Buffer);
  socket.on('message', (msg) => {
    if (msg.length < 4 || msg.readUInt16BE(0) !== TftpOp.Ack) return;
    const acked = msg.readUInt16BE(2);
    if (acked === (sent & 0xffff)) {
      if (sent === last) return void socket.close();
      sendBlock(++sent);
    } else if (sent > 0 && acked === ((sent - 1) & 0xffff)) {
      sendBlock(sent);
    }
  });
  socket.bind(0, ADDRESS, () => socket.connect(peer.port, peer.address, () => {
    if (oack.length > 0) socket.send(Buffer.from(`\0\x06${oack.join('\0')}\0`, 'latin1'));
    else sendBlock(++sent);
  }));
}

const tftp = await bound(ADDRESS, 69);
tftp.on('message', (msg, from) => {
  const rrq = parseRrq(msg);
  if (rrq === undefined) return;
  if (rrq.file !== FILE) return void tftp.send(Buffer.from(`\0\x05\0\x01file not found\0`, 'latin1'), from.port, from.address);
  transfer(from, rrq.options);
});

process.on('SIGTERM', () => process.exit(0));
process.stderr.write(`node-floor: serving ${FILE} (${CONTENT.length} bytes) on ${ADDRESS}: UDP 67, 4011, 69\n`);
