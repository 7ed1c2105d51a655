/**
 * The one catalogue of coded errors. Every error a user can see carries a code
 * from here and a message they can act on. Codes are stable: never reuse or
 * renumber one; add new entries at the end of their block.
 *
 * Blocks: NB1xxx configuration and resources, NB2xxx boot protocol, NB3xxx
 * TFTP/HTTP serving, NB4xxx control plane, NB5xxx AMT, NB9xxx tooling.
 *
 * `src/protocol/` does not import this file (protocol code imports nothing
 * else in src); its decode failures carry a reason string, and the agent maps
 * them to `PacketMalformed` at the edge.
 */

/** One catalogue entry: a stable code and a one-line summary for the docs. */
export interface ErrorDefinition {
  readonly code: string;
  readonly summary: string;
}

export const Errors = {
  ResourceInvalid: { code: 'NB1001', summary: 'A resource does not satisfy its schema.' },
  ResourceFileUnreadable: { code: 'NB1002', summary: 'A resource file could not be read or parsed as YAML.' },
  ResourceUnknownKind: { code: 'NB1003', summary: 'A YAML document is not a netboot.dev/v1alpha1 kind.' },
  ResourceDuplicate: { code: 'NB1004', summary: 'Two documents declare the same kind, namespace and name.' },
  ReferenceMissing: { code: 'NB1005', summary: 'A resource names another resource that does not exist.' },

  PacketMalformed: { code: 'NB2001', summary: 'A received packet could not be decoded and was dropped.' },
  SocketBindFailed: { code: 'NB2002', summary: 'A listener could not bind its address or port.' },
  InterfaceNotFound: { code: 'NB2003', summary: 'The configured network interface does not exist on this host.' },

  TftpPathRefused: { code: 'NB3001', summary: 'A TFTP or HTTP path escapes the served root or is not allowed.' },
  TftpFileNotFound: { code: 'NB3002', summary: 'A requested boot file does not exist.' },
  TftpTooManyTransfers: { code: 'NB3003', summary: 'The TFTP concurrency cap was reached.' },

  KubeApiUnavailable: { code: 'NB4001', summary: 'The Kubernetes API server could not be reached.' },
  KubeApplyFailed: { code: 'NB4002', summary: 'A server-side apply was rejected by the API server.' },
  LeaderLost: { code: 'NB4003', summary: 'This controller lost its leader Lease and stops writing.' },
  KubeForbidden: { code: 'NB4004', summary: 'The API server refused a request for lack of authentication or RBAC permission.' },
  KubeWatchFailed: { code: 'NB4005', summary: 'A list or watch of a resource was rejected; the informer retries with backoff.' },
  LeaseRequestFailed: { code: 'NB4006', summary: 'A read or write of the leader-election Lease was rejected by the API server.' },

  AmtCertificateUnreadable: { code: 'NB5001', summary: 'A provisioning certificate Secret could not be parsed.' },

  ToolMissing: { code: 'NB9001', summary: 'A required external tool is not installed.' },
  TestClusterFailed: { code: 'NB9002', summary: 'The test kube-apiserver or etcd did not become ready.' },
} as const satisfies Record<string, ErrorDefinition>;

export type ErrorName = keyof typeof Errors;

/** An error with a catalogue code; `message` is written for the user. */
export class NetbootError extends Error {
  readonly code: string;
  readonly definition: ErrorDefinition;

  constructor(definition: ErrorDefinition, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NetbootError';
    this.code = definition.code;
    this.definition = definition;
  }

  override toString(): string {
    return `${this.code}: ${this.message}`;
  }
}

/** True when `err` is a NetbootError carrying `definition`'s code. */
export function isNetbootError(err: unknown, definition?: ErrorDefinition): err is NetbootError {
  return err instanceof NetbootError && (definition === undefined || err.code === definition.code);
}
