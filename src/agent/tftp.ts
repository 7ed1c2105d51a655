/**
 * The agent's TFTP server (read-only): the socket loop around the pure
 * protocol library. A request reads as a pipeline, each step either passing
 * on or returning a refusal that is answered from the listener:
 * decode -> RRQ only -> under the cap -> open inside the root (or a
 * generated file) -> negotiate -> a transfer on its own socket (a new TID,
 * RFC 1350 §4). Files up to the cache's per-file cap are served from one
 * shared in-memory copy; larger ones are read in chunks per transfer.
 */
import type { FileHandle } from 'node:fs/promises';
import { Errors, NetbootError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import type { AgentMetrics } from '../observability/metrics.ts';
import { accessViolation, decodePacket, defaultPolicy, encodeData, fileNotFound, FinishReason, illegalOperation, negotiateRead, normaliseRequestPath, otherError, ReadTransfer } from '../protocol/tftp/index.ts';
import type { Request, TransferAction, TransferPlan, TransferPolicy } from '../protocol/tftp/index.ts';
import { BlockReader, WholeFile } from './block-source.ts';
import type { BlockSource } from './block-source.ts';
import { FileCache } from './file-cache.ts';
import type { BootFiles } from './files.ts';
import { bindUdp } from './udp.ts';
import type { BindUdp, Peer, UdpConn } from './udp.ts';

/** One request that ended, for boot status. `reason` is human text ("transfer complete", "x not found"). */
export interface TftpTransferEvent {
  readonly client: string;
  readonly clientPort: number;
  readonly file: string;
  /** Payload bytes the client acknowledged. */
  readonly bytes: number;
  /** True only when the whole file was delivered. */
  readonly ok: boolean;
  readonly reason: string;
  readonly ms: number;
}

/**
 * A file the server makes up per client, e.g. autoexec.ipxe; undefined when
 * it has none for this client (the request then gets "file not found").
 */
export type GeneratedFile = (client: Peer) => Uint8Array | undefined;

/** What {@link createTftpServer} needs; `src/cli/` (through the agent) chooses each. */
export interface TftpServerOptions {
  readonly files: BootFiles;
  /** Bind address of the listener and of every transfer socket: the serving interface's address. */
  readonly address: string;
  /** Listener port (69 in production; 0 picks a free one, see {@link TftpServer.port}). */
  readonly port: number;
  /** Concurrent transfers; past it a request gets ERROR 0 "server busy" at once. */
  readonly maxTransfers: number;
  readonly policy?: TransferPolicy;
  readonly metrics: AgentMetrics;
  readonly log: Logger;
  /** Monotonic milliseconds; default `performance.now`. */
  readonly now?: () => number;
  /** Called once per answered request, except tsize probes (EDK2 asks the size, then fetches for real). */
  readonly onTransfer?: (e: TftpTransferEvent) => void;
  /** Socket factory; tests may pass a fake. Default: node:dgram. */
  readonly bind?: BindUdp;
  /** Whole-file copies shared by transfers. Default: a {@link FileCache} with the default limits. */
  readonly cache?: FileCache;
  /**
   * Generated files by file name. A request whose last path component names
   * one gets it, in any directory (iPXE asks for autoexec.ipxe next to its
   * own boot file), but only when no root has a file by that path: a real
   * file always wins.
   */
  readonly generated?: ReadonlyMap<string, GeneratedFile>;
}

/** A running server. */
export interface TftpServer {
  /** Resolves once the listener is bound; rejects with NB2002 SocketBindFailed. */
  readonly listening: Promise<void>;
  /** Stops listening, aborts transfers (ERROR 0 to each client) and waits until every socket and file is closed. */
  close(): Promise<void>;
  /** Requests being served, including those still opening their file. */
  active(): number;
  /** The bound listener port (meaningful after `listening`). */
  port(): number;
}

/** Metrics `result` labels for requests refused before a transfer starts; transfers use {@link FinishReason}. */
export const TftpRefusal = {
  ReadOnly: 'ReadOnly',
  Busy: 'Busy',
  PathRefused: 'PathRefused',
  NotFound: 'NotFound',
  ModeRefused: 'ModeRefused',
  ServerError: 'ServerError',
} as const;

type Refusal = { readonly result: string; readonly packet: Uint8Array; readonly reason: string; readonly code?: string; readonly level: 'info' | 'warn' };
type Opened = { readonly source: BlockSource; readonly handle?: FileHandle; readonly plan: TransferPlan; readonly path: string };

/** Starts serving at once; await `listening` before relying on it. */
export function createTftpServer(opts: TftpServerOptions): TftpServer {
  const { files, log, metrics } = opts;
  const now = opts.now ?? (() => performance.now());
  const policy = opts.policy ?? defaultPolicy;
  const bind = opts.bind ?? bindUdp;
  const cache = opts.cache ?? new FileCache();
  const transfers = new Set<Transfer>();
  const inflight = new Set<Promise<void>>();
  let reserved = 0;
  let closing = false;
  let listener: UdpConn | undefined;

  const setActive = (delta: number) => {
    reserved += delta;
    metrics.tftpActive.set(reserved);
  };
  const report = (from: Peer, file: string, result: string, ok: boolean, bytes: number, reason: string, started: number) => {
    metrics.tftpTransfers.inc({ result });
    if (bytes > 0) metrics.tftpBytes.inc(bytes);
    if (result === FinishReason.TsizeProbe) return;
    try {
      opts.onTransfer?.({ client: from.address, clientPort: from.port, file, bytes, ok, reason, ms: Math.round(now() - started) });
    } catch (err) {
      log.error({ err }, 'TFTP onTransfer callback threw');
    }
  };

  /** The generated file `requested` names for `client`, if any. */
  const generatedFor = (requested: string, client: Peer): { name: string; content: Uint8Array } | undefined => {
    const normal = normaliseRequestPath(requested);
    if (!normal.ok || opts.generated === undefined) return undefined;
    const name = normal.path.slice(normal.path.lastIndexOf('/') + 1);
    const content = opts.generated.get(name)?.(client);
    return content === undefined ? undefined : { name, content };
  };

  /** The pipeline's filesystem and negotiation steps: an open file (or a generated one) and a plan, or a refusal. */
  const prepare = async (request: Request, from: Peer): Promise<Opened | Refusal> => {
    const found = await files.open(request.filename).catch((err: unknown) => ({ ok: false as const, notFound: false, reason: `cannot open: ${String(err)}`, io: true }));
    if (!found.ok) {
      if ('io' in found) return { result: TftpRefusal.ServerError, packet: otherError('cannot read file'), reason: found.reason, level: 'warn' };
      const generated = found.notFound ? generatedFor(request.filename, from) : undefined;
      if (generated !== undefined) return negotiate(request, generated.content.length, () => new WholeFile(generated.content), `(generated ${generated.name})`);
      return found.notFound
        ? { result: TftpRefusal.NotFound, packet: fileNotFound(`file not found: ${request.filename}`), reason: found.reason, code: Errors.TftpFileNotFound.code, level: 'info' }
        : { result: TftpRefusal.PathRefused, packet: accessViolation(`access violation: ${found.reason}`), reason: found.reason, code: Errors.TftpPathRefused.code, level: 'warn' };
    }
    const opened = negotiate(request, found.size, (plan) => {
      const content = cache.content(found);
      return content === undefined ? new BlockReader(found.handle, plan) : new WholeFile(content);
    }, found.path, found.handle);
    if (!('source' in opened)) await found.handle.close();
    return opened;
  };

  const negotiate = (request: Request, size: number, source: (plan: TransferPlan) => BlockSource, path: string, handle?: FileHandle): Opened | Refusal => {
    const negotiation = negotiateRead(request, size, policy);
    if (!negotiation.ok) return { result: TftpRefusal.ModeRefused, packet: negotiation.reply, reason: negotiation.reason, level: 'info' };
    for (const o of negotiation.ignored) log.debug({ file: request.filename, option: o.name, value: o.value, reason: o.reason }, 'TFTP option ignored');
    return { source: source(negotiation.plan), plan: negotiation.plan, path, ...(handle === undefined ? {} : { handle }) };
  };

  const serve = async (request: Request, from: Peer, started: number): Promise<void> => {
    const file = request.filename;
    const refuse = (r: Refusal) => {
      listener?.send(r.packet, from);
      log[r.level]({ code: r.code, client: from.address, file, result: r.result, reason: r.reason }, 'TFTP request refused');
      report(from, file, r.result, false, 0, r.reason, started);
    };
    if (request.kind === 'wrq') return refuse({ result: TftpRefusal.ReadOnly, packet: illegalOperation('read-only: write requests are refused'), reason: 'write request', level: 'info' });
    if (reserved >= opts.maxTransfers) {
      return refuse({ result: TftpRefusal.Busy, packet: otherError('server busy'), reason: `${reserved} transfers running, cap ${opts.maxTransfers}`, code: Errors.TftpTooManyTransfers.code, level: 'warn' });
    }
    setActive(1);
    let conn: UdpConn | undefined;
    let opened: Opened | Refusal | undefined;
    try {
      opened = await prepare(request, from);
      if (!('source' in opened)) return refuse(opened);
      if (closing) throw new Error('server shutting down');
      conn = await bind(opts.address, 0);
      await conn.connect(from);
      const transfer = new Transfer({ conn, peer: from, source: opened.source, ...(opened.handle === undefined ? {} : { handle: opened.handle }), plan: opened.plan, now, log: log.child({ client: `${from.address}:${from.port}`, file }) });
      transfers.add(transfer);
      log.debug({ client: from.address, file, path: opened.path, size: opened.plan.size, blksize: opened.plan.blksize, windowsize: opened.plan.windowsize }, 'TFTP transfer started');
      const running = transfer.run();
      if (closing) transfer.abort('server shutting down');
      const end = await running;
      transfers.delete(transfer);
      const fields = { client: from.address, file, result: end.reason, bytes: end.bytesSent, ms: Math.round(now() - started), blksize: opened.plan.blksize, windowsize: opened.plan.windowsize, retransmitted: end.retransmitted };
      if (end.ok) log.info(fields, 'TFTP transfer finished');
      else log.warn({ ...fields, reason: end.message }, 'TFTP transfer failed');
      report(from, file, end.reason, end.ok && end.reason === FinishReason.Complete, end.bytesSent, end.message, started);
    } catch (err) {
      // Only our own plumbing gets here (bind, connect, shutdown): the client gets a generic error.
      if (opened !== undefined && 'source' in opened) await opened.handle?.close().catch(() => {});
      await conn?.close();
      refuse({ result: TftpRefusal.ServerError, packet: otherError('server error'), reason: err instanceof Error ? err.message : String(err), level: 'warn' });
    } finally {
      setActive(-1);
    }
  };

  const onDatagram = (data: Uint8Array, from: Peer) => {
    const started = now();
    const decoded = decodePacket(data);
    if (!decoded.ok) {
      log.debug({ code: Errors.PacketMalformed.code, client: from.address, reason: decoded.reason }, 'dropped malformed TFTP packet');
      return;
    }
    const packet = decoded.packet;
    if (closing) return;
    if (packet.kind !== 'rrq' && packet.kind !== 'wrq') {
      log.debug({ client: from.address, kind: packet.kind }, 'dropped TFTP packet: the listener takes only requests');
      return;
    }
    const done = serve(packet, from, started).catch((err: unknown) => log.error({ err }, 'TFTP request handler failed (bug)'));
    inflight.add(done);
    void done.finally(() => inflight.delete(done));
  };

  const listening = bind(opts.address, opts.port).then((conn) => {
    listener = conn;
    conn.onMessage(onDatagram);
    conn.onError((err) => log.warn({ err: err.message }, 'TFTP listener socket error'));
    log.info({ address: opts.address, port: conn.port, maxTransfers: opts.maxTransfers }, 'TFTP listener ready');
  }, (err: unknown) => {
    throw new NetbootError(Errors.SocketBindFailed, `TFTP cannot listen on ${opts.address}:${opts.port}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  });

  return {
    listening,
    active: () => reserved,
    port: () => listener?.port ?? opts.port,
    async close() {
      closing = true;
      await listening.catch(() => {});
      await listener?.close();
      for (const t of transfers) t.abort('server shutting down');
      while (inflight.size > 0) await Promise.all(inflight);
    },
  };
}

type Finish = Extract<TransferAction, { type: 'finish' }>;

interface TransferContext {
  readonly conn: UdpConn;
  readonly peer: Peer;
  readonly source: BlockSource;
  /** The open file, closed when the transfer ends; none for a generated file. */
  readonly handle?: FileHandle;
  readonly plan: TransferPlan;
  readonly now: () => number;
  readonly log: Logger;
}

/**
 * Runs one ReadTransfer against its socket: events go into the state machine
 * one at a time and its actions are carried out in order. When a DATA block
 * is not in memory yet the pump parks on the read, and events arriving
 * meanwhile queue behind it, so an ACK never overtakes the DATA it follows.
 */
class Transfer {
  readonly #ctx: TransferContext;
  readonly #machine: ReadTransfer;
  readonly #reader: BlockSource;
  readonly #queue: Array<(now: number) => readonly TransferAction[]> = [];
  /** The actions of the current event, and the next one to carry out. */
  #actions: readonly TransferAction[] = [];
  #next = 0;
  /** Inside #pump (a send error can post synchronously), or parked on a read. */
  #busy = false;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = 0;
  /** Timer firings in a row that resent something, with no progress from the client in between. */
  #stalls = 0;
  #finished: ((f: Finish) => void) | undefined;

  constructor(ctx: TransferContext) {
    this.#ctx = ctx;
    this.#machine = new ReadTransfer(ctx.plan);
    this.#reader = ctx.source;
  }

  /** Starts the transfer; resolves once it finished and its socket and file are closed. */
  run(): Promise<Finish> {
    const { conn, peer, log } = this.#ctx;
    conn.onMessage((data, from) => {
      // The kernel filters a connected socket; this check keeps a fake one honest too.
      if (from.address !== peer.address || from.port !== peer.port) return log.debug({ from }, 'dropped TFTP packet from another TID');
      const decoded = decodePacket(data);
      if (!decoded.ok) return log.debug({ code: Errors.PacketMalformed.code, reason: decoded.reason }, 'dropped malformed TFTP packet');
      const packet = decoded.packet;
      this.#post((now) => {
        const actions = this.#machine.receive(packet, now);
        if (actions.length > 1 || actions[0]?.type !== 'ignore') this.#stalls = 0;
        return actions;
      });
    });
    conn.onError((err) => {
      // ECONNREFUSED: ICMP port unreachable, the client's port is closed and no ACK can ever come.
      if ((err as NodeJS.ErrnoException).code === 'ECONNREFUSED') this.abort('client port closed');
      else log.debug({ err: err.message }, 'TFTP transfer socket error');
    });
    const done = new Promise<Finish>((resolve) => { this.#finished = resolve; });
    this.#post((now) => this.#machine.start(now));
    return done;
  }

  /** Ends the transfer from our side with ERROR 0 `message`; a no-op once finished. */
  abort(message: string): void {
    this.#post(() => this.#machine.abort(message));
  }

  #post(event: (now: number) => readonly TransferAction[]): void {
    this.#queue.push(event);
    if (!this.#busy) this.#pump();
  }

  /** Synchronous while blocks are in memory: no promise per packet, and a window goes out in one turn of the event loop. */
  #pump(): void {
    this.#busy = true;
    try {
      while (this.#finished !== undefined) {
        if (this.#next === this.#actions.length) {
          const event = this.#queue.shift();
          if (event === undefined) break;
          this.#actions = event(this.#ctx.now());
          this.#next = 0;
          continue;
        }
        const action = this.#actions[this.#next] as TransferAction;
        if (action.type === 'sendData') {
          const bytes = this.#reader.block(action.offset, action.length);
          if (bytes === undefined) return this.#park(this.#reader.load(action.offset));
          this.#ctx.conn.send([encodeData(action.block, EMPTY), bytes], this.#ctx.peer);
        } else if (action.type === 'send') {
          this.#ctx.conn.send(action.packet, this.#ctx.peer);
        } else if (action.type === 'timer') {
          this.#arm(action.at);
        } else if (action.type === 'ignore') {
          this.#ctx.log.debug({ reason: action.reason }, 'TFTP event ignored');
        } else {
          return void this.#finish(action);
        }
        this.#next += 1;
      }
    } catch (err) {
      // A bug in our plumbing, or the file shrank under us: this transfer ends, never the process.
      this.#replace(err);
      queueMicrotask(() => this.#pump());
    }
    this.#busy = false;
  }

  /** Waits for a read with the pump stopped, then carries on where it stopped. */
  #park(read: Promise<void>): void {
    read.then(() => this.#pump(), (err: unknown) => {
      this.#replace(err);
      this.#pump();
    });
  }

  /** Drops what is left of the current event and aborts the transfer instead. */
  #replace(err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    if (!message.startsWith('file shrank')) this.#ctx.log.error({ err }, 'TFTP transfer failed internally; aborting it');
    this.#actions = [];
    this.#next = 0;
    this.#queue.unshift(() => this.#machine.abort(`cannot read the file: ${message}`));
  }

  /**
   * One timer per transfer, re-armed lazily: deadlines only move later (each
   * ACK pushes them on), so an early firing asks the machine, which answers
   * with the current deadline, instead of a clearTimeout per ACK.
   *
   * After a resend that got no answer the wait doubles (up to 8x), as RFC
   * 1123 §4.2.3.2 asks and tftpd-hpa does. ReadTransfer resends at a fixed
   * interval; firing it late is within its contract. Without the backoff a
   * client like atftp 0.8.0, which re-ACKs only the first duplicate of a
   * block and restarts its own timer on every later one, never times out
   * while we resend faster than its timer, and the transfer dies after a
   * lost ACK and a lost re-ACK.
   */
  #arm(at: number): void {
    const now = this.#ctx.now();
    const fireAt = now + Math.max(0, at - now) * 2 ** Math.min(this.#stalls, 3);
    if (this.#timer !== undefined && this.#timerAt <= fireAt) return;
    clearTimeout(this.#timer);
    this.#timerAt = fireAt;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#post((n) => {
        const actions = this.#machine.timeout(n);
        if (actions.some((a) => a.type === 'send' || a.type === 'sendData')) this.#stalls += 1;
        return actions;
      });
    }, fireAt - now);
  }

  async #finish(action: Finish): Promise<void> {
    const resolve = this.#finished;
    this.#finished = undefined;
    this.#queue.length = 0;
    clearTimeout(this.#timer);
    await this.#ctx.conn.close();
    await this.#ctx.handle?.close().catch(() => {});
    resolve?.(action);
  }
}

/** A DATA header comes from the codec as encodeData(block, EMPTY); the payload is sent from the chunk without a copy. */
const EMPTY = new Uint8Array(0);
