/** `netboot agent`: placeholder until the agent command lands. */
export function runAgent(_args: string[]): number {
  process.stderr.write('netboot agent: not implemented yet\n');
  return 1;
}
