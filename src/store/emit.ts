/**
 * A fast block-style YAML emitter for plain data (objects, arrays, strings,
 * numbers, booleans, null), used for status files. The `yaml` package's
 * stringify costs ~0.2-0.4 ms per BootMachine, which at 500 machines blocked
 * the agent's event loop for over 100 ms per flush and showed up as DHCP
 * tail latency. Strings are emitted as JSON strings, which are valid YAML
 * double-quoted scalars, so every value round-trips exactly.
 */

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_./-]*$/;

function key(k: string): string {
  return PLAIN_KEY.test(k) ? k : JSON.stringify(k);
}

function scalar(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : JSON.stringify(String(v));
  if (typeof v === 'boolean') return String(v);
  throw new TypeError(`cannot emit a ${typeof v} as YAML`);
}

const isContainer = (v: unknown): v is Record<string, unknown> | unknown[] => typeof v === 'object' && v !== null;
const isEmpty = (v: Record<string, unknown> | unknown[]) => (Array.isArray(v) ? v.length === 0 : Object.values(v).every((x) => x === undefined));

function emit(value: unknown, indent: string, out: string[]): void {
  if (Array.isArray(value)) {
    for (const item of value) {
      if (isContainer(item) && !isEmpty(item)) {
        const inner: string[] = [];
        emit(item, `${indent}  `, inner);
        out.push(`${indent}- ${(inner[0] ?? '').trimStart()}`, ...inner.slice(1));
      } else {
        out.push(`${indent}- ${isContainer(item) ? (Array.isArray(item) ? '[]' : '{}') : scalar(item)}`);
      }
    }
    return;
  }
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (v === undefined) continue;
    if (isContainer(v) && !isEmpty(v)) {
      out.push(`${indent}${key(k)}:`);
      emit(v, `${indent}${Array.isArray(v) ? '' : '  '}`, out);
    } else {
      out.push(`${indent}${key(k)}: ${isContainer(v) ? (Array.isArray(v) ? '[]' : '{}') : scalar(v)}`);
    }
  }
}

/** One YAML document (without the `---` separator) for a plain-data object. */
export function emitYaml(value: Record<string, unknown>): string {
  const out: string[] = [];
  emit(value, '', out);
  return `${out.join('\n')}\n`;
}

/** Written between the documents of a multi-document stream. */
export const DOCUMENT_SEPARATOR = '---\n';
const SEPARATOR_BYTES = Buffer.from(DOCUMENT_SEPARATOR);

/** How {@link YamlStream.render} shares the event loop: after every `every` documents it emits, it awaits `wait()`. */
export interface RenderPacing {
  readonly every: number;
  readonly wait: () => Promise<void>;
}

/**
 * A multi-document YAML stream kept as one emitted document per item, so a
 * rewrite costs the items that changed, not the whole stream. Items are
 * immutable values replaced on every change: an item is re-emitted only when
 * the object under its key is not the one emitted last time. The document
 * of an item must depend on the item alone; when whatever else `toDocument`
 * reads changes, call {@link clear}.
 */
export class YamlStream<T extends object> {
  readonly #emit: (doc: Record<string, unknown>) => string;
  readonly #docs = new Map<string, { item: T; bytes: Buffer; round: number }>();
  #round = 0;

  /** `emit` is the document emitter; tests pass a spy. */
  constructor(emit: (doc: Record<string, unknown>) => string = emitYaml) {
    this.#emit = emit;
  }

  /**
   * The stream for `items` in order, as UTF-8 pieces to write one after the
   * other (documents and separators); their concatenation is byte-identical
   * to the documents emitted afresh and joined with {@link DOCUMENT_SEPARATOR}.
   * With `pacing`, the emission is spread over turns of the event loop, so
   * however many items changed, no turn emits more than `pacing.every`.
   * Items must not be re-rendered while a render is under way.
   */
  async render(items: readonly (readonly [key: string, item: T])[], toDocument: (item: T) => Record<string, unknown>, pacing?: RenderPacing): Promise<Buffer[]> {
    const round = ++this.#round;
    const out: Buffer[] = [];
    let emitted = 0;
    for (const [key, item] of items) {
      let doc = this.#docs.get(key);
      if (doc?.item !== item) {
        if (pacing !== undefined && emitted > 0 && emitted % pacing.every === 0) await pacing.wait();
        doc = { item, bytes: Buffer.from(this.#emit(toDocument(item))), round };
        this.#docs.set(key, doc);
        emitted += 1;
      }
      doc.round = round;
      if (out.length > 0) out.push(SEPARATOR_BYTES);
      out.push(doc.bytes);
    }
    // Forget items no longer listed; a pass over the cache only when something left.
    if (this.#docs.size > items.length) for (const [key, doc] of this.#docs) if (doc.round !== round) this.#docs.delete(key);
    return out;
  }

  /** Forgets every emitted document, so the next render emits all of them. */
  clear(): void {
    this.#docs.clear();
  }
}
