/**
 * iPXE script rendering: a BootProfile's ipxe stage turned into the script
 * one machine fetches. Templates use `{{ field }}`; an unknown field is an
 * error, not an empty string, so a typo shows up in status rather than as a
 * kernel booted with half a command line.
 */
import type { ProfileSpec } from './plan.ts';

/** Machine facts a template can use. */
export interface ScriptFacts {
  readonly mac: string;
  readonly uuid?: string;
  readonly hostname?: string;
  readonly arch?: string;
  readonly serverAddress: string;
  readonly httpBase: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** A rendered script, or the reason it could not be rendered. */
export type RenderResult = { readonly ok: true; readonly script: string } | { readonly ok: false; readonly reason: string };

const FIELD = /\{\{\s*([A-Za-z][\w.\-/]*)\s*\}\}/g;

function lookup(facts: ScriptFacts, field: string): string | undefined {
  if (field.startsWith('labels.')) return facts.labels[field.slice('labels.'.length)];
  switch (field) {
    case 'mac': return facts.mac;
    case 'uuid': return facts.uuid;
    case 'hostname': return facts.hostname ?? facts.mac.replaceAll(':', '-');
    case 'arch': return facts.arch;
    case 'serverAddress': return facts.serverAddress;
    case 'httpBase': return facts.httpBase;
    default: return undefined;
  }
}

/** Substitutes every {{ field }}; fails naming the first field with no value. */
export function renderTemplate(template: string, facts: ScriptFacts): RenderResult {
  let missing: string | undefined;
  const out = template.replace(FIELD, (_, field: string) => {
    const v = lookup(facts, field);
    if (v === undefined) missing ??= field;
    return v ?? '';
  });
  return missing === undefined ? { ok: true, script: out } : { ok: false, reason: `template field {{ ${missing} }} has no value for ${facts.mac}` };
}

/** The per-machine iPXE script for a profile's ipxe stage. */
export function renderScript(profile: ProfileSpec, facts: ScriptFacts): RenderResult {
  const { ipxe } = profile;
  if (ipxe.script !== undefined) return renderTemplate(ipxe.script, facts);
  if (ipxe.chain !== undefined) return renderTemplate(`#!ipxe\nchain ${ipxe.chain}\n`, facts);
  if (ipxe.kernel !== undefined) {
    const lines = ['#!ipxe', `kernel ${ipxe.kernel}${ipxe.cmdline === undefined ? '' : ` ${ipxe.cmdline}`}`];
    for (const initrd of ipxe.initrds ?? []) lines.push(`initrd ${initrd}`);
    lines.push('boot', '');
    return renderTemplate(lines.join('\n'), facts);
  }
  return { ok: false, reason: 'the profile has no ipxe stage' };
}
