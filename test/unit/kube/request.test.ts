/**
 * kubeJson and kubeWatch (src/kube/request.ts) on the wire. Their normal path
 * runs against the real kube-apiserver in test/kube (every informer and the
 * controller's status applies go through them). The answers checked here are
 * ones the API server cannot be made to send on demand (a line cut in the
 * middle of a multi-byte character, a stream that goes silent, a line that is
 * not JSON, a proxy's error page), so a local HTTP server on loopback plays
 * it: the only stand-in, and it speaks plain HTTP/1.1 like any proxy would.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { customObjectPatchApi, kubeJson, kubeWatch } from '../../../src/kube/request.ts';
import { kubeError, signalOptions, statusCodeOf } from '../../../src/kube/kube.ts';
import { Errors } from '../../../src/errors.ts';

interface Seen { method: string; url: string; headers: IncomingMessage['headers']; body: string }

/** A loopback HTTP server answering with `handler`; records every request. */
async function server(handler: (req: IncomingMessage, res: ServerResponse, body: string) => void) {
  const seen: Seen[] = [];
  const srv = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => { body += c; });
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handler(req, res, body);
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 'secret-token' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return { kc, seen, close: () => new Promise<void>((r) => { srv.closeAllConnections(); srv.close(() => r()); }) };
}

const WATCH_PATH = '/apis/netboot.dev/v1alpha1/namespaces/lab/bootmachines';

test('kubeWatch: events split anywhere across chunks (mid-line, mid-character) arrive whole and in order', async () => {
  const events = [
    { type: 'ADDED', object: { metadata: { name: 'a', resourceVersion: '2' }, note: 'grüße, 日本' } },
    { type: 'MODIFIED', object: { metadata: { name: 'a', resourceVersion: '3' } } },
    { type: 'BOOKMARK', object: { metadata: { resourceVersion: '4' } } },
  ];
  const bytes = Buffer.from(events.map((e) => `${JSON.stringify(e)}\n`).join(''));
  const s = await server((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    // One byte at a time: every line and every multi-byte character is cut somewhere.
    let i = 0;
    const next = () => { if (i < bytes.length) { res.write(bytes.subarray(i, i + 1)); i++; setImmediate(next); } else res.end(); };
    next();
  });
  try {
    const got: { type: string; object: unknown }[] = [];
    await kubeWatch(s.kc, WATCH_PATH, { resourceVersion: '1', allowWatchBookmarks: true, labelSelector: undefined }, (type, object) => got.push({ type, object }), new AbortController().signal);
    assert.deepEqual(got, events);
    const url = new URL(s.seen[0]?.url ?? '', 'http://x');
    assert.equal(url.pathname, WATCH_PATH);
    assert.deepEqual(Object.fromEntries(url.searchParams), { resourceVersion: '1', allowWatchBookmarks: 'true', watch: 'true' });
    assert.equal(s.seen[0]?.headers.authorization, 'Bearer secret-token');
  } finally {
    await s.close();
  }
});

test('kubeWatch: a line that is not a watch event rejects, naming the line, instead of being skipped', async () => {
  for (const bad of ['{"type":"ADDED","object":', '["not", "an", "event"]']) {
    const s = await server((_req, res) => {
      res.writeHead(200);
      res.write(`${JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'a' } } })}\n${bad}\n`);
    });
    try {
      const got: string[] = [];
      await assert.rejects(kubeWatch(s.kc, WATCH_PATH, {}, (type) => got.push(type), new AbortController().signal), (err: Error) => {
        assert.match(err.message, /watch \/apis\/netboot\.dev\/v1alpha1\/namespaces\/lab\/bootmachines: a line is not (JSON|a watch event)/);
        assert.ok(err.message.includes(bad.slice(0, 10)), err.message);
        return true;
      });
      assert.deepEqual(got, ['ADDED']);
    } finally {
      await s.close();
    }
  }
});

test('kubeWatch: a handler that throws ends the watch with its error', async () => {
  const s = await server((_req, res) => { res.writeHead(200); res.write('{"type":"ADDED","object":{}}\n{"type":"ADDED","object":{}}\n'); });
  try {
    let calls = 0;
    const boom = new Error('listener bug');
    await assert.rejects(kubeWatch(s.kc, WATCH_PATH, {}, () => { calls++; throw boom; }, new AbortController().signal), (err: unknown) => err === boom);
    assert.equal(calls, 1, 'no event after the failure');
  } finally {
    await s.close();
  }
});

test('kubeWatch: 410 Gone rejects with status 410 and the API server\'s message', async () => {
  const s = await server((_req, res) => {
    res.writeHead(410, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'too old resource version: 1 (5)', reason: 'Expired', code: 410 }));
  });
  try {
    const err = await kubeWatch(s.kc, WATCH_PATH, {}, () => {}, new AbortController().signal).then(() => undefined, (e: unknown) => e);
    assert.equal(statusCodeOf(err), 410);
    assert.equal(kubeError(Errors.KubeApplyFailed, 'watch', err).message, 'watch was rejected (HTTP 410: too old resource version: 1 (5))');
  } finally {
    await s.close();
  }
});

test('kubeWatch: a silent stream ends normally after idleMs; an abort ends it at once', async () => {
  const s = await server((_req, res) => { res.writeHead(200); res.write('{"type":"BOOKMARK","object":{}}\n'); });
  try {
    const t0 = Date.now();
    const types: string[] = [];
    await kubeWatch(s.kc, WATCH_PATH, {}, (type) => types.push(type), new AbortController().signal, 300);
    const took = Date.now() - t0;
    assert.deepEqual(types, ['BOOKMARK']);
    assert.ok(took >= 250 && took < 5000, `ended after ${took} ms`);
    const abort = new AbortController();
    const watching = kubeWatch(s.kc, WATCH_PATH, {}, () => abort.abort(), abort.signal, 60_000);
    await watching;
  } finally {
    await s.close();
  }
});

test('kubeJson: query, body and the caller\'s middleware go out; a non-2xx answer is an ApiException kubeError reads', async () => {
  const s = await server((req, res, body) => {
    if (req.url?.includes('/status')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ metadata: { name: 'a', resourceVersion: '7' }, echo: JSON.parse(body) }));
    } else {
      res.writeHead(422, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', status: 'Failure', message: 'BootMachine.netboot.dev "a" is invalid: spec.mac: Invalid value', code: 422 }));
    }
  });
  try {
    const api = customObjectPatchApi(s.kc);
    const body = { apiVersion: 'netboot.dev/v1alpha1', kind: 'BootMachine', metadata: { name: 'a', namespace: 'lab' }, status: { profile: 'p' } };
    const options = signalOptions(new AbortController().signal, setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply));
    const out = await api.patchNamespacedCustomObjectStatus({ group: 'netboot.dev', version: 'v1alpha1', namespace: 'lab', plural: 'bootmachines', name: 'a', body, fieldManager: 'netboot-controller', force: true, fieldValidation: 'Ignore' }, options);
    assert.deepEqual(out, { metadata: { name: 'a', resourceVersion: '7' }, echo: body });
    const sent = s.seen[0];
    assert.equal(sent?.method, 'PATCH');
    assert.equal(sent?.url, '/apis/netboot.dev/v1alpha1/namespaces/lab/bootmachines/a/status?fieldManager=netboot-controller&fieldValidation=Ignore&force=true');
    assert.equal(sent?.headers['content-type'], 'application/apply-patch+yaml');
    assert.equal(sent?.headers.authorization, 'Bearer secret-token');

    const err = await kubeJson(s.kc, { method: 'PATCH', path: '/apis/netboot.dev/v1alpha1/namespaces/lab/bootmachines/a', body: {} }).then(() => undefined, (e: unknown) => e);
    assert.equal(statusCodeOf(err), 422);
    assert.equal(kubeError(Errors.KubeApplyFailed, 'server-side apply of BootMachine lab/a', err).message,
      'server-side apply of BootMachine lab/a was rejected (HTTP 422: BootMachine.netboot.dev "a" is invalid: spec.mac: Invalid value)');
  } finally {
    await s.close();
  }
});

test('kubeJson: no answer at all reads as the API server being unreachable', async () => {
  const s = await server(() => {});
  await s.close();
  const err = await kubeJson(s.kc, { method: 'GET', path: '/apis' }).then(() => undefined, (e: unknown) => e);
  assert.equal(statusCodeOf(err), undefined);
  assert.equal(kubeError(Errors.KubeApplyFailed, 'GET /apis', err).code, Errors.KubeApiUnavailable.code);
});
