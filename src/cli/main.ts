/**
 * The `netboot` command: the composition root. Only code under src/cli/
 * chooses implementations (stores, clocks, sockets) and reads argv.
 *
 * Each command's module is imported only when it runs: the cluster commands
 * pull in @kubernetes/client-node, which would add ~55 MiB of resident
 * memory to a standalone `netboot serve` that never talks to an API server.
 */
type Command = { readonly summary: string; readonly run: (args: string[]) => number | Promise<number> };

const commands: Record<string, Command> = {
  agent: { summary: 'run a boot agent in a cluster: agent --network NAME --namespace NS --node NODE [--state DIR]', run: async (args) => (await import('./agent.ts')).runAgent(args) },
  controller: { summary: 'run the controller: controller [--namespace NS] [--leader-elect=false] [--metrics-address ADDR]', run: async (args) => (await import('./controller.ts')).runController(args) },
  crds: { summary: 'print the CustomResourceDefinitions (kubectl apply --server-side -f -)', run: async () => (await import('./crds.ts')).runCrds() },
  serve: { summary: 'run a boot agent standalone from YAML: serve -f DIR [--interface IF] [--dry-run]', run: async (args) => (await import('./serve.ts')).runServe(args) },
  status: { summary: 'show the machines a standalone agent has seen: status [--state DIR]', run: async (args) => (await import('./status.ts')).runStatus(args) },
  validate: { summary: 'validate resource YAML files the way the API server would: validate -f FILE|DIR ...', run: async (args) => (await import('./validate.ts')).runValidate(args) },
  version: { summary: 'print the version', run: async () => (await import('./version.ts')).runVersion() },
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
