/**
 * Pure codecs for discovering Intel AMT without credentials: the RMCP presence
 * ping/pong (UDP 623), the web server's banner (TCP 16992/16993), the ICMP TTL
 * heuristic and the PKI Hello (TCP 9971). Bytes in, values out; the sockets
 * are in src/agent/amt-*.ts.
 */
export * from './rmcp.ts';
export * from './http-server.ts';
export * from './ttl.ts';
export * from './hello.ts';
