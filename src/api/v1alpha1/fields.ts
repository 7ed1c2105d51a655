/**
 * Building blocks for the v1alpha1 schemas. Each helper yields a zod schema
 * that validates in standalone mode AND carries the same rule as CEL
 * (`x-kubernetes-validations`) for the CRD, so `kubectl apply` and
 * `netboot serve -f` reject the same input with the same message.
 *
 * Every string and list has a maximum size: the API server estimates the cost
 * of each CEL rule from those bounds and refuses unbounded ones.
 */
import { z } from 'zod';

/** A CEL validation rule with its TypeScript twin for standalone validation. */
export interface Rule<T> {
  /** CEL expression, evaluated by the API server with `self` bound to the value. */
  readonly cel: string;
  /** What the user reads when the rule fails: name the rule and the fix. */
  readonly message: string;
  /** Same rule in TypeScript; true when the value is valid. */
  readonly holds: (value: T) => boolean;
  /** JSON path (relative to `self`) of the field to blame, e.g. `.dhcp`. */
  readonly fieldPath?: string;
}

/** Attaches a description and rules (CEL + zod refinement) to a schema. */
export function described<S extends z.ZodType>(schema: S, description: string, rules: readonly Rule<z.output<S>>[] = []): S {
  const checked = rules.length === 0 ? schema : (schema.superRefine((value, ctx) => {
    for (const rule of rules) {
      if (!rule.holds(value)) {
        ctx.addIssue({ code: 'custom', message: rule.message, path: pathOf(rule.fieldPath) });
      }
    }
  }) as unknown as S);
  const meta: Record<string, unknown> = { description };
  if (rules.length > 0) {
    meta['x-kubernetes-validations'] = rules.map((r) =>
      r.fieldPath === undefined ? { rule: r.cel, message: r.message } : { rule: r.cel, message: r.message, fieldPath: r.fieldPath });
  }
  return checked.meta(meta) as S;
}

function pathOf(fieldPath: string | undefined): string[] {
  return fieldPath === undefined ? [] : fieldPath.split('.').filter((p) => p !== '');
}

/** A bounded free-text string. */
export function text(description: string, maxLength = 253): z.ZodString {
  return described(z.string().max(maxLength), description);
}

/** A string checked by a regular expression, both in zod and in CEL `matches()`. */
export function matching(description: string, re: RegExp, message: string, maxLength: number): z.ZodString {
  // CEL string literals: escape backslashes and double quotes.
  const literal = re.source.replaceAll('\\', '\\\\').replaceAll('"', '\\"');
  return described(z.string().max(maxLength), description, [
    { cel: `self.matches("${literal}")`, message, holds: (s) => re.test(s) },
  ]);
}

export const MAC_RE = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/;
export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const DNS_NAME_RE = /^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)*[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const IPV4_RE = /^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$/;
const CIDR4_RE = /^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\/([0-9]|[12][0-9]|3[0-2])$/;
const OBJECT_NAME_RE = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/** A MAC address, lowercase and colon-separated (how agents report them). */
export function mac(description: string): z.ZodString {
  return matching(description, MAC_RE, 'must be a MAC address in lowercase colon form, such as 52:54:00:12:34:56', 17);
}

/** A SMBIOS/PXE machine UUID in lowercase 8-4-4-4-12 form. */
export function uuid(description: string): z.ZodString {
  return matching(description, UUID_RE, 'must be a UUID in lowercase 8-4-4-4-12 form, such as 4c4c4544-0042-3510-8052-b4c04f4d3732', 36);
}

/** A dotted-quad IPv4 address. */
export function ipv4(description: string): z.ZodString {
  return matching(description, IPV4_RE, 'must be an IPv4 address such as 192.168.10.5', 15);
}

/** An IPv4 prefix in CIDR notation. */
export function cidr4(description: string): z.ZodString {
  return matching(description, CIDR4_RE, 'must be an IPv4 prefix in CIDR notation, such as 192.168.10.0/24', 18);
}

/** A DNS domain or host name, lowercase, no trailing dot. */
export function dnsName(description: string): z.ZodString {
  return matching(description, DNS_NAME_RE, 'must be a lowercase DNS name without a trailing dot, such as lab.example.com', 253);
}

/** The name of another object in the same namespace. */
export function objectName(description: string): z.ZodString {
  return matching(description, OBJECT_NAME_RE, 'must be a Kubernetes object name: lowercase letters, digits, "-" and "."', 253);
}

/** An RFC 3339 timestamp as Kubernetes writes them. */
export function timestamp(description: string): z.ZodString {
  return described(z.string().max(64).meta({ format: 'date-time' }), description);
}

/** A bounded list. */
export function list<T extends z.ZodType>(item: T, description: string, maxItems: number): z.ZodArray<T> {
  return described(z.array(item).max(maxItems), description);
}

/** A map of Kubernetes label keys to values. */
export function labelMap(description: string): z.ZodRecord<z.ZodString, z.ZodString> {
  return described(z.record(z.string().max(317), z.string().max(63)), description);
}
