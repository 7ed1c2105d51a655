/**
 * What the CRD generator and the loaders need to know about one kind. Each
 * kind module exports one of these; `index.ts` lists them all.
 */
import { z } from 'zod';
import { conditionsField } from './conditions.ts';
import { described } from './fields.ts';
import type { Rule } from './fields.ts';

export const GROUP = 'netboot.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

/** A `kubectl get` column. */
export interface PrinterColumn {
  readonly name: string;
  readonly type: 'string' | 'integer' | 'date' | 'boolean' | 'number';
  readonly jsonPath: string;
  readonly description: string;
  readonly priority?: number;
}

/** A kind: its names, its schema (spec + status) and how `kubectl get` shows it. */
export interface KindDefinition<S extends z.ZodType = z.ZodType> {
  readonly kind: string;
  readonly plural: string;
  readonly shortNames: readonly string[];
  /** The whole object: apiVersion, kind, metadata, spec, status. */
  readonly schema: S;
  readonly description: string;
  readonly printerColumns: readonly PrinterColumn[];
}

const metadata = z.object({
  name: z.string().max(253),
  namespace: z.string().max(63).optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  generation: z.number().int().optional(),
  uid: z.string().optional(),
  resourceVersion: z.string().optional(),
  creationTimestamp: z.string().optional(),
}).loose();

/** The fields every status carries: observedGeneration and conditions. */
export function statusBase() {
  return {
    observedGeneration: described(z.number().int().min(0), 'The metadata.generation the controller last acted on. Equal to metadata.generation when the status is current.').optional(),
    conditions: conditionsField().optional(),
  };
}

/**
 * The top-level object schema of a kind. `rootRules` may read
 * `self.metadata.name` (the only metadata CEL can see besides generateName).
 */
export function objectSchema<K extends string, Spec extends z.ZodType, Status extends z.ZodType>(
  kind: K, spec: Spec, status: Status, description: string, rootRules: readonly Rule<{ metadata: { name: string }; spec: z.output<Spec> }>[] = [],
) {
  const base = z.object({
    apiVersion: z.literal(API_VERSION),
    kind: z.literal(kind),
    metadata,
    spec,
    status: status.optional(),
  });
  return described(base, description, rootRules as never);
}

/** The age column every kind ends with. */
export const AGE_COLUMN: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: 'Time since creation.' };

/** The Ready column, read from the Ready condition. */
export const READY_COLUMN: PrinterColumn = { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status', description: 'Ready condition status.' };

/** The reason column, shown with -o wide, so a failing object says why. */
export const REASON_COLUMN: PrinterColumn = { name: 'Reason', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].reason', description: 'Why Ready is what it is.', priority: 1 };
