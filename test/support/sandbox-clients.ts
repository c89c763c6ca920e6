/**
 * Small helpers for tests that talk to the real sandbox servers. No fakes here: each call reaches a real
 * Cassandra node, the real nodetool, a real Jolokia agent or the real Consul agent.
 */
import cassandra from 'cassandra-driver';
import { execa } from 'execa';
import { sandboxEnv } from '../sandbox/src/env.js';
import { NODES } from '../sandbox/src/layout.js';
import { singleNodeClient } from '../sandbox/src/sandbox.js';

export const env = sandboxEnv();

export function cqlClient(options: Partial<cassandra.ClientOptions> = {}): cassandra.Client {
  return new cassandra.Client({
    contactPoints: env.cassandra.contactPoints,
    localDataCenter: env.cassandra.localDatacenter,
    socketOptions: { connectTimeout: 5000, readTimeout: 30_000 },
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
  return execa(env.nodetool, ['-h', node.jmxHost, '-p', String(node.jmxPort), ...args], {
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
  const response = await fetch(env.nodes[index - 1]!.jolokiaUrl, {
    method: 'POST',
    body: JSON.stringify(request),
    signal: AbortSignal.timeout(30_000),
  });
  return (await response.json()) as JolokiaReply<T>;
}

export async function consul(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${env.consul.address}${path}`, {
    method,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
}
