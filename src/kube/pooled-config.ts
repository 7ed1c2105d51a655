/**
 * A KubeConfig whose requests share one connection pool. client-node 2.x
 * builds a new undici Agent for every request (KubeConfig.createDispatcher),
 * so each call opens its own TLS connection and leaves it idling: at a few
 * hundred writes a second that is a handshake per write and hundreds of
 * open sockets (measured: ~100 writes/s and 800 MiB RSS for the controller
 * at 10,000 BootMachines). This subclass keeps the authentication it does
 * (headers are still set per request, so rotating tokens work) and swaps in
 * one keep-alive dispatcher, renewed every `renewMs` so rotated client
 * certificates are picked up.
 */
import { KubeConfig } from '@kubernetes/client-node';
import type { RequestContext } from '@kubernetes/client-node';

type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;

/** A KubeConfig that reuses connections; load it like any KubeConfig. */
export class PooledKubeConfig extends KubeConfig {
  readonly #renewMs: number;
  #dispatcher: Dispatcher | undefined;
  #since = 0;

  constructor(renewMs = 10 * 60_000) {
    super();
    this.#renewMs = renewMs;
  }

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    // A fresh Agent holds no connection yet, so dropping it costs nothing.
    const fresh = context.getDispatcher();
    if (fresh === undefined) return;
    const now = Date.now();
    if (this.#dispatcher === undefined || now - this.#since >= this.#renewMs) {
      const old = this.#dispatcher;
      this.#dispatcher = fresh;
      this.#since = now;
      // Lets requests in flight (watches included) finish on the old pool.
      old?.close().catch(() => {});
    }
    context.setDispatcher(this.#dispatcher);
  }
}
