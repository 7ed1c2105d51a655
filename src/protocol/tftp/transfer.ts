/**
 * The server side of one read transfer as a pure state machine: events in
 * (start, ACK, ERROR, timer fired, abort), actions out (send, set timer,
 * finish). Time is an argument (`now`, in milliseconds, from any monotonic
 * clock), so loss, retries and timeouts are tested without waiting.
 */
import type { Packet } from './packet.ts';
import type { TransferPlan } from './options.ts';
import { encodeError, encodeOack } from './packet.ts';
import { describeErrorCode, ErrorCode } from './error-packet.ts';

/** Why a transfer ended; CamelCase constants for logs and metrics labels. */
export const FinishReason = {
  /** The client acknowledged the last block. */
  Complete: 'Complete',
  /** ERROR 8 right after an OACK with tsize: the client only wanted the size (EDK2 does this). Not a failure. */
  TsizeProbe: 'TsizeProbe',
  /** ERROR 8 after an OACK without tsize: the client did not like the options we accepted. */
  ClientRefusedOptions: 'ClientRefusedOptions',
  /** The client sent any other ERROR. */
  ClientError: 'ClientError',
  /** No progress after `maxRetries` retransmissions. */
  Timeout: 'Timeout',
  /** The caller called {@link ReadTransfer.abort} (a read error, shutdown). */
  Aborted: 'Aborted',
} as const;

/** One of the {@link FinishReason} values. */
export type FinishReasonValue = (typeof FinishReason)[keyof typeof FinishReason];

/**
 * What the caller must do, in the order given:
 * - `send`: put these bytes on the wire (an OACK or ERROR).
 * - `sendData`: read `length` bytes at `offset` of the file and send
 *   `encodeData(block, bytes)`. `block` is the 16-bit wire number. The last
 *   block may have length 0. A short read means the file changed: call abort.
 * - `timer`: (re)arm the transfer's single timer for time `at`; call
 *   `timeout(now)` when it fires. A new `timer` replaces the previous one.
 * - `ignore`: nothing to do; `reason` is for the debug log.
 * - `finish`: the transfer is over; stop the timer and close the socket.
 *   `ok` false is worth a warning; `bytesSent` counts acknowledged bytes.
 */
export type TransferAction =
  | { readonly type: 'send'; readonly packet: Uint8Array }
  | { readonly type: 'sendData'; readonly block: number; readonly offset: number; readonly length: number }
  | { readonly type: 'timer'; readonly at: number }
  | { readonly type: 'ignore'; readonly reason: string }
  | {
    readonly type: 'finish';
    readonly ok: boolean;
    readonly reason: FinishReasonValue;
    readonly message: string;
    readonly bytesSent: number;
    /** DATA (or OACK) packets sent more than once, for metrics. */
    readonly retransmitted: number;
  };

/**
 * One read transfer, from after the RRQ was accepted to its `finish` action.
 *
 * File content never passes through here: DATA is asked for as a byte range
 * (`sendData`), so the caller streams a file of any size from a file handle
 * with one block buffer, synchronously or not. Retransmission re-reads the
 * range, which the page cache makes cheap.
 *
 * Blocks are counted internally from 1 without limit (block 0 is the OACK) and
 * put on the wire modulo 65536, so block 65536 goes out as 0 (the common
 * rollover of tftp-hpa, iPXE and EDK2); ACKs are mapped back relative to the
 * window, which is unambiguous because a window never exceeds 65535 blocks.
 *
 * Loss recovery is go-back-N (RFC 7440 §4): when the timer fires, or when an
 * ACK names a block before the end of what was sent (the client saw a gap),
 * sending restarts at the first unacknowledged block. A duplicate or stale ACK
 * never triggers a send, which avoids the Sorcerer's Apprentice bug (RFC 1123
 * §4.2.3.1); only the timer retransmits unprompted.
 *
 * The caller must drop packets from any address/port other than the client's
 * (RFC 1350 TID check) before they reach this object.
 */
export class ReadTransfer {
  readonly #plan: TransferPlan;
  readonly #lastBlock: number;
  readonly #oack: Uint8Array | null;
  /** First unacknowledged block; 0 while the OACK is unacknowledged. */
  #base: number;
  /** Next block to send. */
  #next: number;
  #deadline = 0;
  #retries = 0;
  #retransmitted = 0;
  #started = false;
  #finished = false;

  /** Throws RangeError on a plan no negotiation could produce. */
  constructor(plan: TransferPlan) {
    const positive = (n: number) => Number.isSafeInteger(n) && n > 0;
    if (!positive(plan.blksize) || !positive(plan.windowsize) || plan.windowsize > 65535 || !(plan.timeoutMs > 0)
      || !Number.isSafeInteger(plan.size) || plan.size < 0 || !Number.isInteger(plan.maxRetries) || plan.maxRetries < 0) {
      throw new RangeError(`invalid TFTP transfer plan ${JSON.stringify({ ...plan, oack: undefined })}`);
    }
    this.#plan = plan;
    // A size that is a multiple of blksize still needs a final short (empty) block.
    this.#lastBlock = Math.floor(plan.size / plan.blksize) + 1;
    this.#oack = plan.oack === null ? null : encodeOack(plan.oack);
    this.#base = this.#oack === null ? 1 : 0;
    this.#next = this.#base;
  }

  /** True once a `finish` action was returned; every later event is ignored. */
  get finished(): boolean {
    return this.#finished;
  }

  /** Sends the OACK, or the first window of DATA when no option was accepted. Call once. */
  start(now: number): TransferAction[] {
    if (this.#started) throw new Error('ReadTransfer.start called twice');
    this.#started = true;
    return this.#fill(now);
  }

  /** Dispatches a decoded packet from the client: ACK and ERROR matter, anything else is ignored. */
  receive(packet: Packet, now: number): TransferAction[] {
    if (packet.kind === 'ack') return this.ack(packet.block, now);
    if (packet.kind === 'error') return this.clientError(packet.code, packet.message);
    return [ignore(`unexpected ${packet.kind.toUpperCase()} during a read transfer`)];
  }

  /** The client acknowledged wire block `block` (0..65535). */
  ack(block: number, now: number): TransferAction[] {
    if (!this.#started || this.#finished) return [ignore(`ACK ${block} outside a running transfer`)];
    const lastAcked = this.#base - 1;
    const acked = lastAcked + wire(block - wire(lastAcked));
    if (acked === lastAcked) return [ignore(`duplicate ACK ${block}`)];
    if (acked >= this.#next) return [ignore(`ACK ${block} for a block not sent (stale or bogus)`)];

    this.#retries = 0;
    this.#base = acked + 1;
    if (this.#base > this.#lastBlock) return [this.#finish(true, FinishReason.Complete, 'transfer complete')];
    if (this.#base < this.#next) {
      // The client acknowledged the middle of what we sent: it lost the block after.
      this.#retransmitted += this.#next - this.#base;
      this.#next = this.#base;
    }
    return this.#fill(now);
  }

  /** The client sent ERROR `code`. Never answered (RFC 1350: errors are not acknowledged). */
  clientError(code: number, message: string): TransferAction[] {
    if (this.#finished) return [ignore(`ERROR ${code} after the transfer finished`)];
    if (code === ErrorCode.optionRefused && this.#base === 0) {
      return this.#plan.oack?.some((o) => o.name === 'tsize')
        ? [this.#finish(true, FinishReason.TsizeProbe, 'client aborted after tsize probe')]
        : [this.#finish(false, FinishReason.ClientRefusedOptions, `client refused the OACK: ${message}`)];
    }
    return [this.#finish(false, FinishReason.ClientError, `client sent error ${code} (${describeErrorCode(code)}): ${message}`)];
  }

  /**
   * The timer fired. A call before the deadline (a stale or early timer) only
   * re-arms it. Otherwise resends from the first unacknowledged block, or
   * finishes with Timeout after `maxRetries` resends without progress.
   */
  timeout(now: number): TransferAction[] {
    if (!this.#started || this.#finished) return [ignore('timer outside a running transfer')];
    if (now < this.#deadline) return [{ type: 'timer', at: this.#deadline }];
    if (this.#retries >= this.#plan.maxRetries) {
      const what = this.#base === 0 ? 'the OACK' : `block ${wire(this.#base)}`;
      return [this.#finish(false, FinishReason.Timeout, `no ACK for ${what} after ${this.#plan.maxRetries} retries`)];
    }
    this.#retries += 1;
    this.#retransmitted += this.#next - this.#base;
    this.#next = this.#base;
    return this.#fill(now);
  }

  /** Ends the transfer from our side: tells the client with an ERROR (default code 0) and finishes. */
  abort(message: string, code: number = ErrorCode.notDefined): TransferAction[] {
    if (this.#finished) return [ignore('abort after the transfer finished')];
    return [{ type: 'send', packet: encodeError(code, message) }, this.#finish(false, FinishReason.Aborted, message)];
  }

  /** Sends every block from `#next` to the end of the window, then arms the timer. */
  #fill(now: number): TransferAction[] {
    const { windowsize, blksize, size, timeoutMs } = this.#plan;
    // While the OACK is outstanding the window is the OACK alone (RFC 2347: DATA 1 waits for ACK 0).
    const end = this.#base === 0 ? 0 : Math.min(this.#base + windowsize - 1, this.#lastBlock);
    const actions: TransferAction[] = [];
    for (; this.#next <= end; this.#next += 1) {
      if (this.#next === 0 && this.#oack !== null) {
        actions.push({ type: 'send', packet: this.#oack });
      } else {
        const offset = (this.#next - 1) * blksize;
        actions.push({ type: 'sendData', block: wire(this.#next), offset, length: Math.min(blksize, size - offset) });
      }
    }
    this.#deadline = now + timeoutMs;
    actions.push({ type: 'timer', at: this.#deadline });
    return actions;
  }

  #finish(ok: boolean, reason: FinishReasonValue, message: string): TransferAction {
    this.#finished = true;
    const bytesSent = Math.min(this.#plan.size, Math.max(0, this.#base - 1) * this.#plan.blksize);
    return { type: 'finish', ok, reason, message, bytesSent, retransmitted: this.#retransmitted };
  }
}

/** Absolute block number (or difference) to its 16-bit wire form. */
function wire(n: number): number {
  return ((n % 65536) + 65536) % 65536;
}

function ignore(reason: string): TransferAction {
  return { type: 'ignore', reason };
}
