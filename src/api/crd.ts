/**
 * Generates CustomResourceDefinitions from the zod schemas: the single source
 * of truth. The JSON Schema zod emits is post-processed into a structural
 * schema (every node typed, no anyOf/oneOf, no `additionalProperties: false`)
 * as apiextensions.k8s.io/v1 requires; anything that cannot be made
 * structural is an error at generation time, not at `kubectl apply`.
 */
import { z } from 'zod';
import { stringify } from 'yaml';
import { GROUP, Kinds, VERSION } from './v1alpha1/index.ts';
import type { KindDefinition } from './v1alpha1/index.ts';

type JsonSchema = { [key: string]: unknown };

/** The apiextensions.k8s.io/v1 CRD object for one kind. */
export function crdFor(def: KindDefinition): Record<string, unknown> {
  const raw = z.toJSONSchema(def.schema, { target: 'openapi-3.0', io: 'input' }) as JsonSchema;
  // metadata is the API server's own schema; the CRD only says it is an object.
  delete (raw['properties'] as Record<string, unknown>)['metadata'];
  const root = structural(raw, def.kind);
  const props = root['properties'] as Record<string, JsonSchema>;
  props['metadata'] = { type: 'object' };
  props['apiVersion'] = { type: 'string', description: 'APIVersion defines the versioned schema of this representation of an object.' };
  props['kind'] = { type: 'string', description: 'Kind is a string value representing the REST resource this object represents.' };
  root['required'] = ['spec'];
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${def.plural}.${GROUP}`, labels: { 'app.kubernetes.io/name': 'netboot-operator', 'app.kubernetes.io/part-of': 'netboot-operator' } },
    spec: {
      group: GROUP,
      names: { kind: def.kind, listKind: `${def.kind}List`, plural: def.plural, singular: def.kind.toLowerCase(), shortNames: [...def.shortNames], categories: ['netboot'] },
      scope: 'Namespaced',
      versions: [{
        name: VERSION,
        served: true,
        storage: true,
        subresources: { status: {} },
        additionalPrinterColumns: def.printerColumns.map((c) => ({ ...c })),
        schema: { openAPIV3Schema: root },
      }],
    },
  };
}

/** All CRDs as one multi-document YAML stream, as `netboot crds` prints it. */
export function crdsYaml(): string {
  return Kinds.map((k) => crdYaml(k)).join('---\n');
}

/** One CRD as YAML, with the generated-file header. */
export function crdYaml(def: KindDefinition): string {
  return `# Generated from src/api/v1alpha1 by \`npm run generate\`. Do not edit.\n${stringify(crdFor(def), { lineWidth: 0 })}`;
}

/** The file name under crds/ for a kind. */
export function crdFileName(def: KindDefinition): string {
  return `${GROUP}_${def.plural}.yaml`;
}

const DROP = new Set(['$schema', 'id', '$id']);

function structural(node: JsonSchema, path: string): JsonSchema {
  for (const bad of ['anyOf', 'oneOf', 'allOf', 'not', '$ref']) {
    if (bad in node) throw new Error(`${path}: '${bad}' cannot be expressed in a structural CRD schema; use an enum or an object with optional fields`);
  }
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    if (DROP.has(key)) continue;
    if (key === 'additionalProperties' && value === false) continue;
    if (key === 'properties') {
      out[key] = Object.fromEntries(Object.entries(value as Record<string, JsonSchema>).map(([k, v]) => [k, structural(v, `${path}.${k}`)]));
    } else if (key === 'items' || (key === 'additionalProperties' && typeof value === 'object')) {
      out[key] = structural(value as JsonSchema, `${path}[]`);
    } else {
      out[key] = value;
    }
  }
  if (typeof out['type'] !== 'string' && out['x-kubernetes-preserve-unknown-fields'] !== true) {
    throw new Error(`${path}: every node of a structural schema needs a type`);
  }
  if (out['type'] === 'string' && out['maxLength'] === undefined && out['enum'] === undefined) {
    throw new Error(`${path}: strings need a maxLength so the API server can bound CEL cost`);
  }
  return out;
}
