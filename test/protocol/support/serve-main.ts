/**
 * Runs our TFTP server as its own process: `serve-main.ts ROOT PORT [POLICY_JSON]`.
 * Used where the server must live in another network namespace. Logs JSON
 * lines (info) on stdout; SIGTERM closes the server and exits.
 */
import { pino } from 'pino';
import { BootFiles } from '../../../src/agent/files.ts';
import { createTftpServer } from '../../../src/agent/tftp.ts';
import { createAgentMetrics } from '../../../src/observability/metrics.ts';
import { defaultPolicy } from '../../../src/protocol/tftp/index.ts';

const [root, port, policy] = process.argv.slice(2);
if (root === undefined || port === undefined) throw new Error('usage: serve-main.ts ROOT PORT [POLICY_JSON]');
const server = createTftpServer({
  files: new BootFiles([root]), address: '127.0.0.1', port: Number(port), maxTransfers: 16,
  policy: { ...defaultPolicy, ...(JSON.parse(policy ?? '{}') as object) },
  metrics: createAgentMetrics(), log: pino({ level: process.env['NETBOOT_LOG_LEVEL'] ?? 'info' }, pino.destination(1)),
});
await server.listening;
process.once('SIGTERM', () => void server.close().then(() => process.exit(0)));
