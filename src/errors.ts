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
  BootStatusWriteFailed: { code: 'NB4010', summary: 'An agent could not write BootMachine status.boot; it keeps the latest status per machine and retries with backoff.' },
  DiscoveryCreateFailed: { code: 'NB4011', summary: 'An agent could not create the BootMachine for a discovered MAC.' },
  NetworkNotFound: { code: 'NB4012', summary: 'The agent\'s BootNetwork does not exist or is invalid; the agent waits for it or keeps serving its last plan.' },
  AgentReportWriteFailed: { code: 'NB4013', summary: 'An agent could not write its entry in BootNetwork status.agentReports; it retries with backoff.' },
  StatusBacklogFull: { code: 'NB4014', summary: 'Too many BootMachine statuses are waiting to be written (API server unreachable); observations of further machines are dropped.' },
  DhcpStandby: { code: 'NB4016', summary: 'Mode dhcp: another agent answers DHCP for this BootNetwork, so this one stands by (one lease table per agent: two would hand out the same address).' },
  AgentRestartRequired: { code: 'NB4015', summary: 'The BootNetwork\'s mode, ports or interface changed; the agent exits so its DaemonSet restarts it with the new listeners.' },
  ControllerNotLeader: { code: 'NB4020', summary: 'A controller write was not sent because this replica does not hold the leader Lease (anymore).' },
  ControllerConfigInvalid: { code: 'NB4021', summary: 'A netboot controller flag or environment variable has an invalid value.' },
  MetricsListenFailed: { code: 'NB4022', summary: 'The controller could not listen on its --metrics-address.' },
  EventRecordFailed: { code: 'NB4023', summary: 'A Kubernetes Event could not be written; reconciling goes on without it.' },
  ReconcileFailed: { code: 'NB4024', summary: 'A reconcile failed; its key is retried with backoff.' },
  StaleReportsCheckFailed: { code: 'NB4025', summary: 'The controller could not list agent pods or remove stale BootNetwork status.agentReports entries; it looks again later.' },

  AmtCertificateUnreadable: { code: 'NB5001', summary: 'A provisioning certificate Secret could not be parsed.' },
  AmtPfxPasswordRejected: { code: 'NB5002', summary: 'The password from the Secret does not open the PFX provisioning certificate.' },
  AmtPfxConversionFailed: { code: 'NB5003', summary: 'openssl failed or timed out converting a PFX provisioning certificate to PEM.' },
  AmtPongMalformed: { code: 'NB5010', summary: 'An answer on UDP 623 was not an RMCP presence pong and was ignored.' },
  AmtHelloMalformed: { code: 'NB5011', summary: 'Bytes received on the AMT Hello port were not a PKI Hello (version 3) and were dropped.' },
  AmtHelloListenFailed: { code: 'NB5012', summary: 'The AMT Hello listener could not bind its TCP port (9971 by default).' },
  AmtProbeNotAllowed: { code: 'NB5013', summary: 'An AMT probe was refused: the address was not seen on the agent\'s segment or is not a unicast IPv4 address.' },
  AmtIcmpUnavailable: { code: 'NB5014', summary: 'The system ping command is missing or not permitted, so the ICMP TTL heuristic was skipped.' },
  AmtHttpProbeFailed: { code: 'NB5015', summary: 'An HTTP probe of AMT ports 16992/16993 got no usable answer (refused, timed out or not HTTP).' },
  AmtSiteListenFailed: { code: 'NB5020', summary: 'The passive listener for the site DHCP server\'s replies (UDP 68, proxy modes) could not bind, so option 15 from the site server is not recorded.' },
  AmtSiteReplyIgnored: { code: 'NB5021', summary: 'A DHCP reply overheard on UDP 68 was not a site DHCP server\'s lease for this network and was ignored.' },
  AmtHelloUnmatched: { code: 'NB5022', summary: 'An AMT Hello matched no BootMachine by source address or UUID and was not recorded.' },
  AmtCertificateSecretMissing: { code: 'NB5023', summary: 'A Secret or key named by an AmtNetworkPolicy\'s certificate does not exist, or the controller is not allowed to read it.' },

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
