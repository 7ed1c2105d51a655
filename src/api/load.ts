/**
 * Reads netboot resources from YAML text with the same schemas the CRDs are
 * generated from, so a file that `netboot serve` accepts is one that
 * `kubectl apply` accepts, and the errors name the file, document and field.
 */
import { parseAllDocuments } from 'yaml';
import { Errors, NetbootError } from '../errors.ts';
import { API_VERSION, kindDefinition } from './v1alpha1/index.ts';

/** A validated resource with defaults applied, and where it came from. */
export interface LoadedResource {
  readonly kind: string;
  readonly name: string;
  readonly namespace: string;
  readonly object: Record<string, unknown>;
  readonly source: string;
}

/** One problem in one document. */
export interface LoadProblem {
  readonly code: string;
  readonly source: string;
  readonly message: string;
}

/** Everything found in a set of YAML texts: resources, problems, and documents skipped. */
export interface LoadResult {
  readonly resources: LoadedResource[];
  readonly problems: LoadProblem[];
}

/** A YAML text and the name to report it by. */
export interface ResourceText {
  readonly file: string;
  readonly text: string;
}

/**
 * Parses and validates every document of every text. Documents of other API
 * groups (Namespaces, Secrets in an example) are skipped, not errors;
 * netboot.dev documents of an unknown kind are errors, and so are two
 * documents with the same kind, namespace and name.
 */
export function loadResources(texts: readonly ResourceText[], defaultNamespace = 'default'): LoadResult {
  const resources: LoadedResource[] = [];
  const problems: LoadProblem[] = [];
  for (const { file, text } of texts) loadText(text, file, defaultNamespace, resources, problems);
  return { resources, problems: [...problems, ...duplicates(resources)] };
}

function loadText(text: string, file: string, defaultNamespace: string, resources: LoadedResource[], problems: LoadProblem[]): void {
  parseAllDocuments(text).forEach((doc, index) => {
    const where = `${file} (document ${index + 1})`;
    if (doc.errors.length > 0) {
      problems.push({ code: Errors.ResourceFileUnreadable.code, source: where, message: doc.errors.map((e) => e.message).join('; ') });
      return;
    }
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) return;
    if (typeof value !== 'object' || Array.isArray(value)) {
      problems.push({ code: Errors.ResourceFileUnreadable.code, source: where, message: 'a document must be a YAML mapping with apiVersion and kind' });
      return;
    }
    const obj = value as Record<string, unknown>;
    const apiVersion = String(obj['apiVersion'] ?? '');
    if (!apiVersion.startsWith('netboot.dev/')) return;
    const def = kindDefinition(String(obj['kind'] ?? ''));
    if (apiVersion !== API_VERSION || def === undefined) {
      problems.push({ code: Errors.ResourceUnknownKind.code, source: where, message: `${apiVersion} ${String(obj['kind'])} is not a kind of ${API_VERSION}` });
      return;
    }
    const parsed = def.schema.safeParse(obj);
    const meta = (obj['metadata'] ?? {}) as Record<string, unknown>;
    const label = `${where}, ${def.kind} "${String(meta['name'] ?? '?')}"`;
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const path = issue.path.map(String).join('.');
        problems.push({ code: Errors.ResourceInvalid.code, source: label, message: path === '' ? issue.message : `${path}: ${issue.message}` });
      }
      return;
    }
    const data = parsed.data as Record<string, unknown> & { metadata: { name: string; namespace?: string } };
    resources.push({ kind: def.kind, name: data.metadata.name, namespace: data.metadata.namespace ?? defaultNamespace, object: data, source: label });
  });
}

function duplicates(resources: readonly LoadedResource[]): LoadProblem[] {
  const seen = new Map<string, LoadedResource>();
  const out: LoadProblem[] = [];
  for (const r of resources) {
    const key = `${r.kind}/${r.namespace}/${r.name}`;
    const first = seen.get(key);
    if (first !== undefined) out.push({ code: Errors.ResourceDuplicate.code, source: r.source, message: `${r.kind} ${r.namespace}/${r.name} is also declared in ${first.source}` });
    else seen.set(key, r);
  }
  return out;
}

/** Throws one NetbootError listing every problem, or returns the resources. */
export function requireValid(result: LoadResult): LoadedResource[] {
  if (result.problems.length === 0) return result.resources;
  const lines = result.problems.map((p) => `  ${p.code} ${p.source}: ${p.message}`);
  throw new NetbootError(Errors.ResourceInvalid, `${result.problems.length} problem(s) in the resources:\n${lines.join('\n')}`);
}
