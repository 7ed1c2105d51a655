/**
 * Boot observations folded into BootMachine status.boot, pure. Both stores
 * (file and Kubernetes) use this, so standalone status reads like cluster
 * status. History is bounded so a machine in a boot loop cannot grow its
 * object without limit.
 */
import type { BootMachine, BootPhase } from '../api/v1alpha1/bootmachine.ts';
import { BootPhases } from '../api/v1alpha1/bootmachine.ts';
import { mergeAmtFacts } from './amt-observation.ts';
import type { AmtFactsPatch } from './amt-observation.ts';

export type { AmtFactsPatch } from './amt-observation.ts';

export type BootStatus = NonNullable<NonNullable<BootMachine['status']>['boot']>;
type HistoryEntry = NonNullable<BootStatus['history']>[number];
export type BootEvent = HistoryEntry['event'];
type Firmware = NonNullable<BootStatus['firmware']>;

export const HISTORY_LIMIT = 20;

/**
 * One thing an agent saw or did for one machine. Without an `event` it only
 * carries AMT facts (a probe answer, a Hello, a lease seen on the segment):
 * those leave the boot's phase, history and lastSeen alone.
 */
export interface BootObservation {
  readonly mac: string;
  readonly network: string;
  readonly node: string;
  /** RFC 3339, second precision. */
  readonly time: string;
  readonly event?: BootEvent;
  /** The phase this event proves the boot reached, if any. */
  readonly phase?: BootPhase;
  readonly detail?: string;
  readonly firmware?: Firmware;
  readonly ipAddress?: string;
  /** Why the agent stayed silent or the boot stopped; cleared by progress. */
  readonly stoppedReason?: string;
  /** True when this event completes a boot (script served); sets completedAt. */
  readonly completes?: boolean;
  /** AMT facts merged into status.boot.amt (see amt-observation.ts for how each field merges). */
  readonly amt?: AmtFactsPatch;
}

const rank = (p: BootPhase | undefined): number => (p === undefined ? -1 : BootPhases.indexOf(p));

/**
 * The status after `obs`. A DISCOVER from firmware starts a new boot (phase
 * back to Discovered, lastBoot set); later events only move the phase forward.
 * An observation without an event that adds no AMT fact returns `prev` itself.
 */
export function applyObservation(prev: BootStatus | undefined, obs: BootObservation): BootStatus {
  const amt = obs.amt === undefined ? prev?.amt : mergeAmtFacts(prev?.amt, obs.amt, obs.time);
  if (obs.event === undefined) {
    if (prev !== undefined && amt === prev.amt) return prev;
    return { ...prev, ...(amt === undefined ? {} : { amt }) };
  }
  const startsBoot = obs.event === 'Discover' && obs.firmware?.stage !== 'ipxe';
  let phase = prev?.phase;
  if (startsBoot) phase = 'Discovered';
  if (obs.phase !== undefined && (startsBoot || rank(obs.phase) > rank(phase) || obs.phase === 'Stopped')) phase = obs.phase;
  const entry: HistoryEntry = { time: obs.time, event: obs.event, node: obs.node, ...(obs.detail === undefined ? {} : { detail: obs.detail.slice(0, 512) }) };
  const last = prev?.history?.at(-1);
  // A firmware retrying DISCOVER every few seconds would flush the history: fold repeats.
  const repeat = last !== undefined && last.event === entry.event && last.detail === entry.detail && last.node === entry.node;
  const history = [...(prev?.history ?? []).slice(0, repeat ? -1 : undefined), entry].slice(-HISTORY_LIMIT);
  const stoppedReason = obs.stoppedReason ?? (obs.phase !== undefined && obs.phase !== 'Stopped' ? undefined : prev?.stoppedReason);
  return {
    ...prev,
    ...(phase === undefined ? {} : { phase }),
    lastSeen: obs.time,
    ...(startsBoot ? { lastBoot: obs.time } : {}),
    ...(obs.completes === true ? { completedAt: obs.time } : {}),
    node: obs.node,
    network: obs.network,
    ...(obs.ipAddress === undefined ? {} : { ipAddress: obs.ipAddress }),
    firmware: { ...prev?.firmware, ...obs.firmware },
    ...(stoppedReason === undefined ? { stoppedReason: undefined } : { stoppedReason }),
    history,
    ...(amt === undefined ? {} : { amt }),
  };
}

/** The last second timestampOf formatted, and its text: the DHCP path stamps many packets within one second. */
let lastSecond = Number.NaN;
let lastText = '';

/** The RFC 3339 second-precision form Kubernetes uses for timestamps. */
export function timestampOf(date: Date): string {
  const second = Math.floor(date.getTime() / 1000);
  if (second !== lastSecond) {
    lastText = date.toISOString().replace(/\.\d{3}Z$/, 'Z');
    lastSecond = second;
  }
  return lastText;
}
