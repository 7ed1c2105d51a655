/**
 * The `netboot` command: the composition root. Only code under src/cli/
 * chooses implementations (stores, clocks, sockets) and reads argv.
 */
import { runAgent } from './agent.ts';
import { runController } from './controller.ts';
import { runCrds } from './crds.ts';
import { runServe } from './serve.ts';
import { runStatus } from './status.ts';
import { runValidate } from './validate.ts';
import { runVersion } from './version.ts';

type Command = { readonly summary: string; readonly run: (args: string[]) => number | Promise<number> };

const commands: Record<string, Command> = {
  agent: { summary: 'run a boot agent in a cluster: agent --network NAME --namespace NS --node NODE [--state DIR]', run: (args) => runAgent(args) },
  controller: { summary: 'run the controller: controller [--namespace NS] [--leader-elect=false] [--metrics-address ADDR]', run: (args) => runController(args) },
  crds: { summary: 'print the CustomResourceDefinitions (kubectl apply --server-side -f -)', run: () => runCrds() },
  serve: { summary: 'run a boot agent standalone from YAML: serve -f DIR [--interface IF] [--dry-run]', run: (args) => runServe(args) },
  status: { summary: 'show the machines a standalone agent has seen: status [--state DIR]', run: (args) => runStatus(args) },
  validate: { summary: 'validate resource YAML files the way the API server would: validate -f FILE|DIR ...', run: (args) => runValidate(args) },
  version: { summary: 'print the version', run: () => runVersion() },
};

function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return `usage: netboot <command> [options]\n\ncommands:\n${lines.join('\n')}\n`;
}

const [name, ...rest] = process.argv.slice(2);
const command = name === undefined ? undefined : commands[name];
if (command === undefined) {
  process.stderr.write(name === undefined || name === 'help' || name === '--help' ? usage() : `netboot: unknown command "${name}"\n\n${usage()}`);
  process.exitCode = name === undefined || name === 'help' || name === '--help' ? 0 : 2;
} else {
  process.exitCode = await command.run(rest);
}
