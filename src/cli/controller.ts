/** `netboot controller`: placeholder until the controller command lands. */
export function runController(_args: string[]): number {
  process.stderr.write('netboot controller: not implemented yet\n');
  return 1;
}
