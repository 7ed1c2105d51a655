/**
 * BootProfile: how many machines boot it, and whether its iPXE template
 * renders. Ready=True means every {{ field }} in the template is one the
 * renderer knows, so no machine gets a half-rendered command line because
 * of a typo. Per-machine values (a label a machine lacks, an unknown UUID)
 * can only be checked when that machine boots: the agent then refuses the
 * script and status.boot.stoppedReason says which field was missing.
 */
import type { BootMachine } from '../../api/v1alpha1/bootmachine.ts';
import type { BootProfile } from '../../api/v1alpha1/bootprofile.ts';
import type { DesiredCondition } from '../../api/v1alpha1/conditions.ts';
import { renderTemplate } from '../../boot/ipxe.ts';
import type { ScriptFacts } from '../../boot/ipxe.ts';
import { ConditionType, EventReason, Reason } from '../reasons.ts';
import { failureEvents, generationOf, objectConditions, plural, readyFrom } from './common.ts';
import type { ControllerProfileStatus, EventSpec } from './types.ts';

export interface ProfileInput {
  readonly profile: BootProfile;
  /** BootMachines in the profile's namespace, with the status.profile the controller resolved. */
  readonly machines: readonly BootMachine[];
  readonly now: Date;
}

export interface ProfileResult {
  readonly status: ControllerProfileStatus;
  readonly events: EventSpec[];
}

/** The fields a template may use, for messages. */
export const TEMPLATE_FIELDS = 'mac, uuid, hostname, arch, serverAddress, httpBase, labels.<key>';

/** A machine with every fact set; any label key has a value, since labels vary per machine. */
const SAMPLE: ScriptFacts = {
  mac: '52:54:00:12:34:56',
  uuid: '00000000-0000-4000-8000-000000000000',
  hostname: 'sample',
  arch: 'uefi-x64',
  serverAddress: '192.0.2.1',
  httpBase: 'http://192.0.2.1:8080',
  labels: new Proxy({}, { get: (_, key) => (typeof key === 'string' ? `label-${key}` : undefined) }) as Record<string, string>,
};

/** The spec fields that are templates, with their paths for messages. */
function templates(spec: BootProfile['spec']): [string, string][] {
  const { ipxe } = spec;
  const out: [string, string | undefined][] = [
    ['spec.ipxe.script', ipxe.script], ['spec.ipxe.chain', ipxe.chain], ['spec.ipxe.kernel', ipxe.kernel], ['spec.ipxe.cmdline', ipxe.cmdline],
    ...(ipxe.initrds ?? []).map((t, i): [string, string] => [`spec.ipxe.initrds[${i}]`, t]),
  ];
  return out.filter((e): e is [string, string] => e[1] !== undefined);
}

/** TemplateValid for a profile spec. */
export function templateCondition(spec: BootProfile['spec']): DesiredCondition {
  const type = ConditionType.TemplateValid;
  for (const [path, template] of templates(spec)) {
    const r = renderTemplate(template, SAMPLE);
    if (!r.ok) {
      const field = /\{\{ (.+?) \}\}/.exec(r.reason)?.[1] ?? '?';
      return { type, status: 'False', reason: Reason.UnknownTemplateField, message: `${path} uses {{ ${field} }}, which is not a template field (known: ${TEMPLATE_FIELDS})` };
    }
  }
  return { type, status: 'True', reason: Reason.Valid, message: 'the iPXE template renders' };
}

/** Evaluates one BootProfile. Pure. */
export function evaluateProfile(input: ProfileInput): ProfileResult {
  const { profile, now } = input;
  const name = profile.metadata.name;
  const generation = generationOf(profile);
  const machines = input.machines.filter((m) => m.status?.profile === name).length;
  const template = templateCondition(profile.spec);
  const ready = readyFrom([template], `booted by ${plural(machines, 'machine')}`);
  return {
    status: {
      observedGeneration: generation,
      conditions: objectConditions(profile.status?.conditions, ready, [template], generation, now),
      machines,
    },
    events: failureEvents(profile.status?.conditions, [template], () => EventReason.InvalidSpec),
  };
}
