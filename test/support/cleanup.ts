/**
 * Teardown that always reaches its last step. An after() hook that awaits
 * steps in a row stops at the first one that rejects or never settles (an
 * agent flushing statuses to an API server that is gone), and everything
 * after it stays open: a bound socket then keeps the test process alive
 * and the whole run waits. Each step here gets `timeoutMs`; a failure or
 * timeout is printed and the next step runs anyway.
 */
export async function teardown(steps: ReadonlyArray<readonly [label: string, step: () => unknown]>, timeoutMs = 20_000): Promise<void> {
  for (const [label, step] of steps) {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        Promise.resolve().then(step),
        new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`did not finish within ${timeoutMs} ms`)), timeoutMs); }),
      ]);
    } catch (err) {
      process.stderr.write(`teardown: ${label}: ${err instanceof Error ? err.message : String(err)}\n`);
    } finally {
      clearTimeout(timer);
    }
  }
}
