/**
 * Credentials that do not work, against the secured sandbox (TEND_SANDBOX_SECURE=1), through the built bin: a wrong
 * password (Cassandra, JMX, Jolokia), a wrong or expired CA and a client certificate the server does not trust
 * (Cassandra, Jolokia, Consul), a Consul token without the rights tend needs. Each must end with exit 5 naming the
 * component and the cause, and with a hint at the key to fix; never a stack trace, never a secret. Where `config
 * check` can tell without connecting (an expired CA), it exits 3.
 *
 * Every case runs `tend repair table` on node1 (it connects to Cassandra, takes a lease in the configured backend
 * and starts the repair through the configured executor, so each credential is used); the first case also runs a
 * `schedule tick`, as the timer would.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type cassandra from 'cassandra-driver';
import { securePaths } from '../sandbox/src/secure.js';
import { consul, cqlClient } from '../support/sandbox-clients.js';
import {
  createSmallKeyspace,
  createTendKeyspace,
  nodeByName,
  RUN,
  tend,
  writeScopedConfig,
} from '../support/tick-e2e.js';
import { expectNoSecret, expectNoStackTrace, requireSecureProfile, variant } from '../support/secure-e2e.js';

const KS = `sec_fail_${RUN}`;
const TEND_KS = `tend_sec_fail_${RUN}`;
const WRONG_PASSWORD = `wrong-${RUN}-password`;

interface Case {
  name: string;
  executor?: 'nodetool' | 'jolokia';
  leaseBackend?: 'cassandra' | 'consul';
  changes: () => Record<string, unknown>;
  /** The component and cause the message must name. */
  message: RegExp;
  /** A hint line naming the key to check. */
  hint: RegExp;
}

describe('secured sandbox: credentials that do not work fail with exit 5, naming the component and the cause (e2e)', function () {
  this.timeout(10 * 60_000);
  let dir: string;
  let client: cassandra.Client;
  let base: string;
  let wrongPasswordFile: string;
  /** Consul tokens made for this run: a read-only one, and one that may create sessions but not write keys. */
  const tokens = new Map<string, { accessor: string; file: string }>();
  const policies: string[] = [];

  async function consulToken(name: string, rules: string): Promise<void> {
    const policy = await consul('PUT', '/v1/acl/policy', { Name: `${name}-${RUN}`, Rules: rules });
    expect(policy.status, await policy.clone().text()).to.equal(200);
    policies.push(((await policy.json()) as { ID: string }).ID);
    const created = await consul('PUT', '/v1/acl/token', { Description: name, Policies: [{ Name: `${name}-${RUN}` }] });
    expect(created.status, await created.clone().text()).to.equal(200);
    const token = (await created.json()) as { AccessorID: string; SecretID: string };
    const file = join(dir, `${name}.token`);
    writeFileSync(file, `${token.SecretID}\n`, { mode: 0o600 });
    tokens.set(name, { accessor: token.AccessorID, file });
  }

  before(async function () {
    requireSecureProfile();
    dir = mkdtempSync(join(tmpdir(), 'tend-secure-failures-'));
    client = cqlClient();
    await client.connect();
    await createSmallKeyspace(client, KS, { dc1: 2, dc2: 1 }, ['t']);
    await createTendKeyspace(client, TEND_KS);
    base = writeScopedConfig(dir, nodeByName('node1'), { tendKeyspace: TEND_KS, keyspaces: [KS] });
    wrongPasswordFile = join(dir, 'wrong.password');
    writeFileSync(wrongPasswordFile, `${WRONG_PASSWORD}\n`, { mode: 0o600 });
    writeFileSync(join(dir, 'wrong.nodetool'), `tend ${WRONG_PASSWORD}\n`, { mode: 0o600 });
    writeFileSync(join(dir, 'unknown.token'), '00000000-0000-4000-8000-000000000000\n', { mode: 0o600 });
    // What a monitoring token has: read tend's keys, nothing else.
    await consulToken('tend-read-only', 'key_prefix "tend" { policy = "read" }');
    // Sessions but no key writes: the session is created, the lease key cannot be taken.
    await consulToken(
      'tend-sessions-only',
      'key_prefix "tend" { policy = "read" }\nsession_prefix "" { policy = "write" }',
    );
  });

  after(async function () {
    for (const { accessor } of tokens.values())
      await consul('DELETE', `/v1/acl/token/${accessor}`).catch(() => undefined);
    for (const id of policies) await consul('DELETE', `/v1/acl/policy/${id}`).catch(() => undefined);
    for (const keyspace of [KS, TEND_KS])
      await client?.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
    await client?.shutdown();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the configuration as the sandbox wrote it works: the repair runs (exit 0)', async function () {
    const result = await tend(base, ['repair', 'table', `${KS}.t`]);
    expect(result.exitCode, String(result.stderr)).to.equal(0);
    expectNoSecret(`${result.stdout}\n${result.stderr}`, 'the output of a secured repair');
  });

  const rogueClient = () => ({ certFile: securePaths.rogueClientCert(), keyFile: securePaths.rogueClientKey() });
  const CASES: Case[] = [
    {
      name: 'Cassandra: a wrong password',
      changes: () => ({ 'cassandra.auth.passwordFile': wrongPasswordFile }),
      message: /cassandra unavailable: .*Provided username tend and\/or password are incorrect/,
      hint: /cassandra\.auth\.username and cassandra\.auth\.passwordFile/,
    },
    {
      name: 'Cassandra: a CA that did not sign the servers’ certificates',
      changes: () => ({ 'cassandra.tls.caFile': securePaths.rogueCa() }),
      message: /cassandra unavailable: .*the server's certificate is not signed by a CA tend trusts/,
      hint: /cassandra\.tls\.caFile/,
    },
    {
      name: 'Cassandra: an expired CA',
      changes: () => ({ 'cassandra.tls.caFile': securePaths.expiredCa() }),
      message: /cassandra unavailable: .*a certificate of the server's chain has expired \(certificate has expired\)/,
      hint: /cassandra\.tls\.caFile/,
    },
    {
      name: 'Cassandra: a client certificate the nodes do not trust',
      changes: () => ({
        'cassandra.tls.certFile': rogueClient().certFile,
        'cassandra.tls.keyFile': rogueClient().keyFile,
      }),
      message: /cassandra unavailable: .*the server refused the TLS handshake \(alert: tlsv1 alert internal error\)/,
      hint: /cassandra\.tls\.certFile/,
    },
    {
      name: 'JMX (nodetool): a wrong password',
      executor: 'nodetool',
      changes: () => ({ 'executor.nodetool.passwordFile': join(dir, 'wrong.nodetool') }),
      message: /nodetool unavailable: JMX on 127\.0\.0\.1:\d+ refused the credentials: Invalid username or password/,
      hint: /executor\.nodetool\.passwordFile/,
    },
    {
      name: 'Jolokia: a wrong password',
      executor: 'jolokia',
      changes: () => ({ 'executor.jolokia.passwordFile': wrongPasswordFile }),
      message: /jolokia unavailable: https:\/\/127\.0\.\d+\.1:8778\/jolokia\/ refused the credentials \(HTTP 401\)/,
      hint: /executor\.jolokia\.user and passwordFile/,
    },
    {
      name: 'Jolokia: a CA that did not sign the agents’ certificates',
      executor: 'jolokia',
      changes: () => ({ 'executor.jolokia.tls.caFile': securePaths.rogueCa() }),
      message: /jolokia unavailable: .*the server's certificate is not signed by a CA tend trusts/,
      hint: /executor\.jolokia\.tls\.caFile/,
    },
    {
      name: 'Jolokia: an expired CA',
      executor: 'jolokia',
      changes: () => ({ 'executor.jolokia.tls.caFile': securePaths.expiredCa() }),
      message: /jolokia unavailable: .*has expired/,
      hint: /executor\.jolokia\.tls\.caFile/,
    },
    {
      name: 'Jolokia: a client certificate the agent does not trust',
      executor: 'jolokia',
      changes: () => ({
        'executor.jolokia.tls.certFile': rogueClient().certFile,
        'executor.jolokia.tls.keyFile': rogueClient().keyFile,
      }),
      message: /jolokia unavailable: .*the agent closed the connection without answering/,
      hint: /executor\.jolokia\.tls\.certFile/,
    },
    {
      name: 'Consul: a token that may only read tend’s keys',
      leaseBackend: 'consul',
      changes: () => ({ 'lease.consul.tokenFile': tokens.get('tend-read-only')!.file }),
      message:
        /consul unavailable: .*the ACL token was refused \(HTTP 403: Permission denied: .*lacks permission 'session:write'/,
      hint: /lease\.consul\.tokenFile .* session_prefix/,
    },
    {
      // Not "lease held by another node" (exit 0): the refusal is an answer, not a lost request to look up.
      name: 'Consul: a token that may create sessions but not write tend’s keys',
      leaseBackend: 'consul',
      changes: () => ({ 'lease.consul.tokenFile': tokens.get('tend-sessions-only')!.file }),
      message:
        /consul unavailable: acquiring tend-.*: the ACL token was refused \(HTTP 403: Permission denied: .*lacks permission 'key:write'/,
      hint: /lease\.consul\.tokenFile .* key_prefix/,
    },
    {
      name: 'Consul: a token Consul does not know',
      leaseBackend: 'consul',
      changes: () => ({ 'lease.consul.tokenFile': join(dir, 'unknown.token') }),
      message: /consul unavailable: .*the ACL token was refused \(HTTP 403: ACL not found\)/,
      hint: /lease\.consul\.tokenFile/,
    },
    {
      name: 'Consul: a CA that did not sign the agent’s certificate',
      leaseBackend: 'consul',
      changes: () => ({ 'lease.consul.tls.caFile': securePaths.rogueCa() }),
      message: /consul unavailable: .*the server's certificate is not signed by a CA tend trusts/,
      hint: /lease\.consul\.tls\.caFile/,
    },
    {
      name: 'Consul: an expired CA',
      leaseBackend: 'consul',
      changes: () => ({ 'lease.consul.tls.caFile': securePaths.expiredCa() }),
      message: /consul unavailable: .*has expired/,
      hint: /lease\.consul\.tls\.caFile/,
    },
    {
      name: 'Consul: a client certificate the agent does not trust',
      leaseBackend: 'consul',
      changes: () => ({
        'lease.consul.tls.certFile': rogueClient().certFile,
        'lease.consul.tls.keyFile': rogueClient().keyFile,
      }),
      message: /consul unavailable: .*the server refused the TLS handshake \(alert: tlsv1 alert unknown ca\)/,
      hint: /lease\.consul\.tls\.certFile/,
    },
  ];

  for (const [index, testCase] of CASES.entries()) {
    it(`${testCase.name}: exit 5, the component and the cause, a hint, no stack trace, no secret`, async function () {
      const config = variant(base, `case${index}`, {
        ...(testCase.executor ? { 'executor.type': testCase.executor } : {}),
        ...(testCase.leaseBackend ? { 'lease.backend': testCase.leaseBackend } : {}),
        ...testCase.changes(),
      });
      const result = await tend(config, ['repair', 'table', `${KS}.t`]);
      const stderr = String(result.stderr);
      expect(result.exitCode, stderr).to.equal(5);
      expect(stderr).to.match(testCase.message);
      const lines = stderr.split('\n');
      expect(
        lines.some((line) => testCase.hint.test(line)),
        `a hint matching ${testCase.hint}\n${stderr}`,
      ).to.equal(true);
      expectNoStackTrace(stderr);
      expectNoSecret(`${result.stdout}\n${stderr}`, 'the output', [WRONG_PASSWORD]);
    });
  }

  it('a scheduled tick meets a wrong password the same way (exit 5), and --json output carries no secret', async function () {
    const config = variant(base, 'tick', { 'cassandra.auth.passwordFile': wrongPasswordFile });
    const result = await tend(config, ['--json', 'schedule', 'tick']);
    expect(result.exitCode, String(result.stderr)).to.equal(5);
    expect(String(result.stderr)).to.match(/cassandra unavailable: .*password are incorrect/);
    expectNoStackTrace(String(result.stderr));
    expectNoSecret(`${result.stdout}\n${result.stderr}`, 'the tick', [WRONG_PASSWORD]);
  });

  it('config check tells an expired CA without connecting: exit 3 naming the key and the file', async function () {
    for (const key of ['cassandra.tls.caFile', 'executor.jolokia.tls.caFile', 'lease.consul.tls.caFile']) {
      const config = variant(base, `check-${key}`, { [key]: securePaths.expiredCa() });
      const result = await tend(config, ['config', 'check']);
      expect(result.exitCode, String(result.stderr)).to.equal(3);
      expect(String(result.stderr)).to.include(`${key}: every certificate in ${securePaths.expiredCa()} has expired`);
    }
    // What it cannot tell (a CA that is valid but not the servers'), it does not pretend to.
    const rogue = await tend(variant(base, 'check-rogue', { 'cassandra.tls.caFile': securePaths.rogueCa() }), [
      'config',
      'check',
    ]);
    expect(rogue.exitCode, String(rogue.stderr)).to.equal(0);
  });
});
