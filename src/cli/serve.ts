/**
 * `netboot serve -f PATH`: standalone mode. Loads the resources from YAML
 * (validated by the CRD schemas), runs one agent for the chosen BootNetwork
 * on its interface, and writes status back as YAML under --state so
 * `netboot status` shows what a cluster would. `--dry-run` serves on
 * loopback with unprivileged ports (each port + 10000) to try a config safely.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import { loadResources, requireValid } from '../api/load.ts';
import { startAgent } from '../agent/agent.ts';
import { shiftedAmtPorts } from '../agent/amt-agent.ts';
import type { ServingInterface } from '../agent/interfaces.ts';
import { createLogger } from '../observability/logger.ts';
import { createAgentMetrics } from '../observability/metrics.ts';
import { FileStore } from '../store/file.ts';
import { last, parseArgs } from './args.ts';
import { readResourceTexts } from './files.ts';
import { aborted, exitCodeFor, interfaceFor, stopSignal } from './run.ts';

export const SERVE_USAGE = 'usage: netboot serve -f FILE|DIR [-f ...] [--network NAME] [--interface IF] [--state DIR] [--files DIR] [--node NAME] [--dry-run]';

/** The default state directory of a network. */
export function defaultStateDir(network: string): string {
  return join('.netboot-state', network);
}

export async function runServe(args: readonly string[]): Promise<number> {
  const log = createLogger('netboot-serve');
  try {
    const parsed = parseArgs(args, { '-f': 'file', '--filename': 'file', '--network': 'network', '--interface': 'interface', '--state': 'state', '--files': 'files', '--node': 'node' }, ['--dry-run']);
    const paths = parsed.values.get('file') ?? [];
    if (paths.length === 0) { process.stderr.write(`${SERVE_USAGE}\n`); return 2; }
    const resources = requireValid(loadResources(readResourceTexts(paths)));
    const networkName = last(parsed, 'network');
    const probe = resources.find((r) => r.kind === 'BootNetwork' && (networkName === undefined || r.name === networkName));
    const state = last(parsed, 'state') ?? defaultStateDir(probe?.name ?? 'default');
    const store = new FileStore(resources, state, networkName);
    const net = store.plan().network;
    const dryRun = parsed.flags.has('--dry-run');
    const iface: ServingInterface = dryRun
      ? { name: 'lo', address: '127.0.0.1', serverAddress: '127.0.0.1' }
      : interfaceFor(net, last(parsed, 'interface'));
    const shift = dryRun ? 10000 : 0;
    const ports = { dhcp: net.ports.dhcp + shift, pxe: net.ports.pxe + shift, tftp: net.ports.tftp + shift, http: net.ports.http + shift };
    const fileRoot = last(parsed, 'files');
    const agent = await startAgent({
      store, iface, ports, node: last(parsed, 'node') ?? hostname(), log, metrics: createAgentMetrics(), now: Date.now,
      // AMT probes (623, 16992, 16993), Hellos (9971) and the site DHCP replies (68) move with the rest.
      amtPorts: shiftedAmtPorts(shift),
      ...(fileRoot === undefined ? {} : { fileRoot }),
    });
    process.stderr.write(`netboot: serving BootNetwork ${store.plan().networkName} (${net.mode}) on ${iface.name} ${iface.address}` +
      `${dryRun ? ' (dry run: loopback, ports +10000)' : ''}; DHCP ${net.mode === 'proxy-colocated' ? '-' : ports.dhcp}, PXE ${ports.pxe}, TFTP ${ports.tftp}, HTTP ${ports.http}.\n` +
      `netboot: status goes to ${state}; see it with: netboot status --state ${state}\n`);
    await aborted(stopSignal());
    await agent.stop();
    return 0;
  } catch (err) {
    return exitCodeFor('serve', SERVE_USAGE, err, 'Ports below 1024 need root or CAP_NET_BIND_SERVICE; try --dry-run to serve on loopback with unprivileged ports.');
  }
}
