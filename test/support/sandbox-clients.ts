/**
 * Small helpers for tests that talk to the real sandbox servers. No fakes here: each call reaches a real
 * Cassandra node, the real nodetool, a real Jolokia agent or the real Consul agent.
 */
import cassandra from 'cassandra-driver';
import { execa } from 'execa';
import { sandboxEnv } from '../sandbox/src/env.js';
import { NODES, SECURE } from '../sandbox/src/layout.js';
import { adminClientOptions, singleNodeClient } from '../sandbox/src/sandbox.js';
import { httpsRequest, jolokiaAuthorization, readSecretValue, securePaths, TEND_USER } from '../sandbox/src/secure.js';

export const env = sandboxEnv();

/**
 * A client of the whole cluster, with the sandbox's administrator rights: in the secured profile
 * (TEND_SANDBOX_SECURE=1) the Cassandra superuser over TLS, as a DBA would set up what tend then uses.
 */
export function cqlClient(options: Partial<cassandra.ClientOptions> = {}): cassandra.Client {
  return new cassandra.Client({
    contactPoints: env.cassandra.contactPoints,
    localDataCenter: env.cassandra.localDatacenter,
    socketOptions: { connectTimeout: 5000, readTimeout: 30_000 },
    ...adminClientOptions(),
    ...options,
  });
}

/** A client pinned to node `index` (1-based): every query goes to that node only. */
export function nodeClient(index: number): cassandra.Client {
  return singleNodeClient(NODES[index - 1]!);
}

/** Runs the sandbox's real nodetool against node `index` (1-based). */
export function nodetool(index: number, args: string[], timeoutMs = 180_000) {
  const node = env.nodes[index - 1]!;
  const credentials = SECURE ? ['-u', TEND_USER, '-pwf', securePaths.nodetoolPasswordFile()] : [];
  return execa(env.nodetool, ['-h', node.jmxHost, '-p', String(node.jmxPort), ...credentials, ...args], {
    timeout: timeoutMs,
    reject: false,
  });
}

export interface JolokiaReply<T> {
  status: number;
  value: T;
  error?: string;
}

export async function jolokia<T>(index: number, request: object): Promise<JolokiaReply<T>> {
  if (SECURE) {
    const reply = await httpsRequest(env.nodes[index - 1]!.jolokiaUrl, {
      method: 'POST',
      body: JSON.stringify(request),
      headers: { authorization: jolokiaAuthorization() },
      timeoutMs: 30_000,
    });
    if (reply.status !== 200) throw new Error(`Jolokia on node${index} answered HTTP ${reply.status}`);
    return JSON.parse(reply.body) as JolokiaReply<T>;
  }
  const response = await fetch(env.nodes[index - 1]!.jolokiaUrl, {
    method: 'POST',
    body: JSON.stringify(request),
    signal: AbortSignal.timeout(30_000),
  });
  return (await response.json()) as JolokiaReply<T>;
}

/** Consul's HTTP API; in the secured profile over HTTPS with the management token (the operator's rights). */
export async function consul(method: string, path: string, body?: unknown): Promise<Response> {
  if (SECURE) {
    const reply = await httpsRequest(`${env.consul.address}${path}`, {
      method,
      headers: { 'X-Consul-Token': readSecretValue(securePaths.consulManagementToken()) },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    return new Response(reply.status === 204 ? null : reply.body, { status: reply.status });
  }
  return fetch(`${env.consul.address}${path}`, {
    method,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
}
