/** A real Consul dev agent on loopback, built from source (see provision.ts). */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CONSUL, SECURE, paths } from './layout.js';
import type { Daemon } from './processes.js';
import { httpsRequest, writeSecureConsulConfig } from './secure.js';

export const consulDaemon = (): Daemon => ({
  name: 'consul',
  pidFile: join(paths.consulState(), 'pid'),
  marker: paths.consulBinary(),
});

export const consulLog = () => join(paths.consulState(), 'consul.log');
/** http://…, or in the secured profile https://… (the same port; plain HTTP is closed there). */
export const consulHttpAddress = () => `${SECURE ? 'https' : 'http'}://${CONSUL.address}:${CONSUL.httpPort}`;

export function consulArgs(): string[] {
  mkdirSync(paths.consulState(), { recursive: true });
  // The secured profile: ACLs and HTTPS from a configuration file (it holds the management token: 0600).
  const secureConfig = join(paths.consulState(), 'secure.hcl');
  if (SECURE) writeSecureConsulConfig(secureConfig);
  return [
    'agent',
    '-dev',
    '-node',
    'tend-sandbox',
    '-bind',
    CONSUL.address,
    '-client',
    CONSUL.address,
    ...(SECURE ? ['-config-file', secureConfig] : ['-http-port', String(CONSUL.httpPort)]),
    '-server-port',
    String(CONSUL.serverPort),
    '-serf-lan-port',
    String(CONSUL.serfLanPort),
    '-serf-wan-port',
    String(CONSUL.serfWanPort),
    // No DNS or gRPC: nothing in tend uses them, and fewer ports means fewer clashes.
    '-dns-port',
    '-1',
    '-grpc-port',
    '-1',
    '-grpc-tls-port',
    '-1',
    // Let tests use session TTLs shorter than Consul's default 10 s minimum.
    '-hcl',
    'session_ttl_min = "1s"',
    '-log-level',
    'warn',
  ];
}

export async function consulLeader(): Promise<string | undefined> {
  if (SECURE) {
    const reply = await httpsRequest(`${consulHttpAddress()}/v1/status/leader`, { timeoutMs: 2000 });
    const leader = reply.status === 200 ? (JSON.parse(reply.body) as string) : '';
    return leader ? leader : undefined;
  }
  const response = await fetch(`${consulHttpAddress()}/v1/status/leader`, { signal: AbortSignal.timeout(2000) });
  if (!response.ok) return undefined;
  const leader = (await response.json()) as string;
  return leader ? leader : undefined;
}
