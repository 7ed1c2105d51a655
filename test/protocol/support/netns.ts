/**
 * A private network namespace with only its own loopback, for tests and the
 * benchmark: traffic there cannot reach any other host, port 69 is free, and
 * packet loss can be injected without touching the host's interfaces.
 */
import { run, runOk } from './tools.ts';

/** A namespace this process created; `destroy` kills what runs in it and deletes it. */
export interface Netns {
  readonly name: string;
  destroy(): Promise<void>;
}

/** Creates `nb<tag>-<pid>` with loopback up. Throws if `ip netns` is not usable (needs root). */
export async function createNetns(tag: string): Promise<Netns> {
  const name = `nb${tag}-${process.pid}`;
  // A namespace left by a crashed run of this very pid and tag is ours to reuse.
  await run('ip', ['netns', 'del', name]);
  await runOk('ip', ['netns', 'add', name]);
  await runOk('ip', ['netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up']);
  // glibc's AI_ADDRCONFIG sees no IPv4 when 127.0.0.1 is the only address, and
  // in.tftpd then cannot resolve its own -a 127.0.0.1 (exit 66). A second
  // loopback address fixes that and leads nowhere.
  await runOk('ip', ['netns', 'exec', name, 'ip', 'addr', 'add', '127.0.0.2/32', 'dev', 'lo']);
  return {
    name,
    async destroy() {
      const pids = (await run('ip', ['netns', 'pids', name])).stdout.split(/\s+/).filter((p) => p !== '');
      // Only processes inside our own namespace: everything there was started by us.
      for (const pid of pids) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await run('ip', ['netns', 'del', name]);
    },
  };
}

/**
 * Drops `percent`% of the packets on the namespace's loopback. Prefers
 * `tc qdisc netem loss` as the test plan asks; this kernel may be built
 * without sch_netem (CONFIG_NET_SCH_NETEM unset), and then an nftables rule
 * drops the same share of UDP packets at the input hook (`numgen random`),
 * which on loopback is the same thing: every packet passes it exactly once.
 * Not the output hook: a drop there fails the sender's sendto() with EPERM,
 * which a real lossy network never does (tftp-hpa aborts on it).
 * Throws, explaining both failures, when neither works: never a silent skip.
 */
export async function injectLoss(ns: Netns, percent: number): Promise<'netem' | 'nftables'> {
  const netem = await run('tc', ['qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'loss', `${percent}%`], { netns: ns.name });
  if (netem.code === 0) return 'netem';
  const rules = [
    'table inet nbloss {',
    '  chain in {',
    '    type filter hook input priority 0; policy accept;',
    `    meta l4proto udp numgen random mod 100 < ${percent} counter drop`,
    '  }',
    '}',
    '',
  ].join('\n');
  const nft = await run('nft', ['-f', '-'], { netns: ns.name, stdin: rules }).catch((err: unknown) => ({ code: -1, stdout: '', stderr: String(err) }));
  if (nft.code === 0) return 'nftables';
  throw new Error(
    `cannot inject packet loss: tc netem failed (${netem.stderr.trim()}; the kernel needs CONFIG_NET_SCH_NETEM) ` +
    `and the nftables fallback failed (${nft.stderr.trim()}; needs the nftables package and CONFIG_NFT_NUMGEN)`,
  );
}

/** Packets dropped so far by {@link injectLoss}'s nftables rule (undefined with netem). */
export async function droppedPackets(ns: Netns): Promise<number | undefined> {
  const r = await run('nft', ['list', 'table', 'inet', 'nbloss'], { netns: ns.name });
  const m = /counter packets (\d+)/.exec(r.stdout);
  return m === null ? undefined : Number(m[1]);
}
