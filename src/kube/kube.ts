/**
 * The edge between the runtime and `@kubernetes/client-node`: turning its
 * failures (ApiException with a Status body, undici network errors, watch
 * errors with a statusCode) into catalogue errors with a readable message, and
 * making its requests abortable.
 */
import { Observable } from '@kubernetes/client-node';
import type { ConfigurationOptions, ObservableMiddleware } from '@kubernetes/client-node';
import { Errors, NetbootError } from '../errors.ts';
import type { ErrorDefinition } from '../errors.ts';

/** The HTTP status of a failed client-node call, or undefined when none came back. */
export function statusCodeOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { code?: unknown; statusCode?: unknown };
  if (typeof e.statusCode === 'number') return e.statusCode;
  // ApiException carries the HTTP status in `code`; Node's system errors use strings there.
  if (typeof e.code === 'number' && e.code >= 100 && e.code < 600) return e.code;
  return undefined;
}

/** The API server's `Status` message in an ApiException body (or a response body), if any. */
export function statusMessage(body: unknown): string | undefined {
  let value = body;
  if (typeof body === 'string') {
    try { value = JSON.parse(body); } catch { return body.trim().slice(0, 500) || undefined; }
  }
  if (typeof value === 'object' && value !== null) {
    const s = value as { message?: unknown; reason?: unknown };
    if (typeof s.message === 'string') return s.message;
    if (typeof s.reason === 'string') return s.reason;
  }
  return undefined;
}

/**
 * One line describing a client-node failure: "409 Conflict: <Status.message>"
 * for API answers, the socket error ("connect ECONNREFUSED 10.0.0.1:6443") for
 * network failures. Never headers or whole response bodies.
 */
export function describeKubeError(err: unknown): string {
  const status = statusCodeOf(err);
  if (status !== undefined) {
    const body = (err as { body?: unknown }).body;
    const text = statusMessage(body) ?? (err instanceof Error && !err.message.startsWith('HTTP-Code:') ? err.message : undefined);
    return text === undefined ? `HTTP ${status}` : `HTTP ${status}: ${text}`;
  }
  if (err instanceof Error) {
    const cause = err.cause;
    if (cause instanceof Error && cause.message !== '') return cause.message;
    return err.message || err.name;
  }
  return String(err);
}

/**
 * A catalogue error for a failed API call about `what` ("status of
 * BootNetwork default/lab"). No answer at all is KubeApiUnavailable; 401/403
 * is KubeForbidden; any other answer is `rejected` (the caller's code).
 */
export function kubeError(rejected: ErrorDefinition, action: string, err: unknown): NetbootError {
  const status = statusCodeOf(err);
  const detail = describeKubeError(err);
  if (status === undefined) {
    return new NetbootError(Errors.KubeApiUnavailable, `${action} failed: the API server could not be reached (${detail})`, { cause: err });
  }
  if (status === 401 || status === 403) {
    return new NetbootError(Errors.KubeForbidden, `${action} was refused (${detail}); check the controller's ServiceAccount and RBAC rules`);
  }
  return new NetbootError(rejected, `${action} was rejected (${detail})`);
}

/** True when the call failed because `signal`-style aborting ended it. */
export function isAbort(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || (err.cause instanceof Error && err.cause.name === 'AbortError'));
}

/**
 * Request options that abort the call when `signal` aborts (client-node's
 * generated APIs take no signal argument, but their RequestContext does).
 */
export function signalOptions(signal: AbortSignal, options: ConfigurationOptions = {}): ConfigurationOptions {
  const middleware: ObservableMiddleware = {
    pre: (ctx) => {
      ctx.setSignal(signal);
      return new Observable(Promise.resolve(ctx));
    },
    post: (res) => new Observable(Promise.resolve(res)),
  };
  return { ...options, middleware: [...(options.middleware ?? []), middleware], middlewareMergeStrategy: 'append' };
}
