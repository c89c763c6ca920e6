/**
 * The secured profile (TEND_SANDBOX_SECURE=1): what a production cluster runs, on loopback.
 *
 * - Cassandra: PasswordAuthenticator + CassandraAuthorizer (system_auth replicated to every node), client-to-node
 *   TLS with PEM files (PEMBasedSslContextFactory) and client certificates required; JMX with the JDK's file
 *   authentication (password and access files) for nodetool.
 * - Jolokia: the JVM agent over HTTPS with a server certificate, client certificates required (signed by the
 *   sandbox CA, subject CN=tend, clientAuth usage) AND basic auth (authMatch=all: the agent's default, "any",
 *   would let a client certificate alone in). Its options come from a properties file (`config=`), so the
 *   password is not on the Cassandra JVM's command line.
 * - Consul: ACLs with a default-deny policy; tend's token may write keys under `tend` and create sessions, nothing
 *   else; HTTPS only (the HTTP port is closed), client certificates required.
 *
 * Everything secret is generated on this machine the first time the profile starts and cached in the instance's
 * own state directory (cluster-N-secure/secure): a CA and certificates made with openssl, random passwords and
 * tokens. Nothing secret is in the repository. Directories are 0700, keys and secrets 0600.
 *
 * Besides the real material it makes what the failure tests need: a second CA ("rogue") with a client
 * certificate it signed (a client the servers must not trust), and an expired copy of the sandbox CA (same key
 * and subject, validity 2020-01-01 to 2020-02-01), which is what an operator's stale CA bundle looks like.
 */
import { randomBytes, randomUUID, X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { CONSUL, INSTANCE, JOLOKIA_THREADS, NODES, paths, type SandboxNode } from './layout.js';
import { log, SandboxError } from './log.js';

/** The role and JMX/Jolokia user tend logs in as; the Cassandra superuser the sandbox administers with. */
export const TEND_USER = 'tend';
export const ADMIN_USER = 'cassandra';
/** Consul keys tend's token may write (the sandbox configurations use `tend`, the tests `tend-<keyspace>`). */
export const CONSUL_KEY_PREFIX = 'tend';

const root = () => join(paths.state(), 'secure');
const tls = (file: string) => join(root(), 'tls', file);
const secret = (file: string) => join(root(), 'secrets', file);

/** Where every file of the secured profile lives. Certificates are 0644; keys, passwords and tokens 0600. */
export const securePaths = {
  root,
  ca: () => tls('ca.pem'),
  caKey: () => tls('ca.key'),
  /** Certificate (PEM) and PKCS#8 key of node i: Jolokia's serverCert and serverKey. */
  nodeCert: (node: SandboxNode) => tls(`${node.name}.pem`),
  nodeKey: (node: SandboxNode) => tls(`${node.name}.key`),
  /** Key, certificate and CA in one file: Cassandra's PEM keystore. */
  nodeKeystore: (node: SandboxNode) => tls(`${node.name}-keystore.pem`),
  consulCert: () => tls('consul.pem'),
  consulKey: () => tls('consul.key'),
  /** tend's client certificate (CN=tend, clientAuth), for Cassandra, Jolokia and Consul alike. */
  clientCert: () => tls('tend.pem'),
  clientKey: () => tls('tend.key'),
  /** A CA the servers do not trust, and a client certificate (CN=tend) it signed. */
  rogueCa: () => tls('rogue-ca.pem'),
  rogueCaKey: () => tls('rogue-ca.key'),
  rogueClientCert: () => tls('rogue-tend.pem'),
  rogueClientKey: () => tls('rogue-tend.key'),
  /** The sandbox CA's subject and key with a validity that ended in 2020. */
  expiredCa: () => tls('expired-ca.pem'),
  /** Cassandra superuser's password (the sandbox's, not tend's). */
  adminPassword: () => secret('cassandra-admin.password'),
  /** tend's passwords and token, one per file, first line: what cassandra.auth.passwordFile etc. name. */
  cassandraPassword: () => secret('cassandra.password'),
  jolokiaPassword: () => secret('jolokia.password'),
  consulToken: () => secret('consul.token'),
  /** nodetool's -pwf file: `USER PASSWORD` lines, as nodetool reads it. */
  nodetoolPasswordFile: () => secret('nodetool.password'),
  /** The JMX password alone (the server's password file and the -pwf file are written from it). */
  jmxPassword: () => secret('jmx.password'),
  consulManagementToken: () => secret('consul-management.token'),
};

const certificateDays = 365;
/** Certificates are made again when they expire within this many days (a sandbox kept for months stays valid). */
const RENEW_DAYS = 30;

function writePrivate(file: string, content: string): void {
  writeFileSync(file, content, { mode: 0o600 });
  chmodSync(file, 0o600);
}

export function readSecretValue(file: string): string {
  return readFileSync(file, 'utf8').split('\n', 1)[0]!;
}

/** A random password: 32 characters of base64url (no quotes, spaces or '=', so it goes into CQL and files as is). */
const newPassword = () => randomBytes(24).toString('base64url');

function ensureSecret(file: string, make: () => string): void {
  if (!existsSync(file)) writePrivate(file, `${make()}\n`);
}

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await execa('openssl', args, { cwd, timeout: 60_000, all: true });
  } catch (error) {
    const detail = (error as { all?: string; code?: string }).code === 'ENOENT' ? 'openssl not found' : '';
    throw new SandboxError(
      `openssl ${args[0]} failed while making the secured sandbox's certificates: ${detail || ((error as { all?: string }).all ?? (error as Error).message)}. Install it: apt-get install openssl`,
    );
  }
}

function validFor(file: string, days: number): boolean {
  if (!existsSync(file)) return false;
  try {
    const certificate = new X509Certificate(readFileSync(file));
    return new Date(certificate.validTo).getTime() > Date.now() + days * 86_400_000;
  } catch {
    return false;
  }
}

async function newKey(file: string): Promise<void> {
  // PKCS#8 ("BEGIN PRIVATE KEY"): the only form Cassandra's PEM reader takes; RSA, Jolokia's default key type.
  await openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', file], root());
  chmodSync(file, 0o600);
}

async function selfSignedCa(keyFile: string, certFile: string, subject: string): Promise<void> {
  await newKey(keyFile);
  await openssl(
    [
      'req',
      '-x509',
      '-new',
      '-key',
      keyFile,
      '-subj',
      subject,
      '-days',
      String(certificateDays * 10),
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
      '-out',
      certFile,
    ],
    root(),
  );
}

/** A key and a certificate signed by the CA, with the given extensions (SANs, key usage). */
async function issue(
  ca: { cert: string; key: string },
  out: { cert: string; key: string },
  subject: string,
  extensions: string[],
): Promise<void> {
  await newKey(out.key);
  const csr = `${out.cert}.csr`;
  const ext = `${out.cert}.ext`;
  await openssl(['req', '-new', '-key', out.key, '-subj', subject, '-out', csr], root());
  writeFileSync(
    ext,
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'authorityKeyIdentifier=keyid',
      ...extensions,
    ].join('\n'),
  );
  await openssl(
    [
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      ca.cert,
      '-CAkey',
      ca.key,
      '-set_serial',
      `0x${randomBytes(8).toString('hex')}`,
      '-days',
      String(certificateDays),
      '-sha256',
      '-extfile',
      ext,
      '-out',
      out.cert,
    ],
    root(),
  );
  rmSync(csr, { force: true });
  rmSync(ext, { force: true });
}

/**
 * The sandbox CA again, with the same key and subject but dates in the past: `openssl ca` is the one openssl
 * 3.0 command that takes explicit start and end dates. A client that trusts only this copy must refuse the
 * servers' certificates as signed by an expired CA.
 */
async function expiredCopyOfCa(subject: string): Promise<void> {
  const work = join(root(), 'tls', 'expired-ca.work');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  writeFileSync(join(work, 'index.txt'), '');
  writeFileSync(join(work, 'serial'), `${randomBytes(8).toString('hex')}\n`);
  writeFileSync(
    join(work, 'openssl.cnf'),
    [
      '[ca]',
      'default_ca = sandbox',
      '[sandbox]',
      `database = ${join(work, 'index.txt')}`,
      `new_certs_dir = ${work}`,
      `serial = ${join(work, 'serial')}`,
      'default_md = sha256',
      'policy = same_subject',
      'unique_subject = no',
      'x509_extensions = ca_extensions',
      // Fields not named here would be dropped from the subject (and in this order): it must stay the CA's own,
      // or clients would not even take this certificate for the servers' issuer.
      '[same_subject]',
      'organizationName = supplied',
      'commonName = supplied',
      '[ca_extensions]',
      'basicConstraints = critical,CA:TRUE',
      'keyUsage = critical,keyCertSign,cRLSign',
      'subjectKeyIdentifier = hash',
      '',
    ].join('\n'),
  );
  await openssl(['req', '-new', '-key', securePaths.caKey(), '-subj', subject, '-out', join(work, 'ca.csr')], work);
  await openssl(
    [
      'ca',
      '-batch',
      '-selfsign',
      '-notext',
      '-config',
      join(work, 'openssl.cnf'),
      '-keyfile',
      securePaths.caKey(),
      '-in',
      join(work, 'ca.csr'),
      '-startdate',
      '20200101000000Z',
      '-enddate',
      '20200201000000Z',
      '-out',
      securePaths.expiredCa(),
    ],
    work,
  );
  rmSync(work, { recursive: true, force: true });
}

const caSubject = () => `/O=tend sandbox/CN=tend sandbox ${INSTANCE} CA`;

/**
 * Certificates and secrets of this instance, made once and reused (`up` is idempotent): a node restarted later
 * must find the same CA and passwords it was set up with. Server certificates close to expiry are made again.
 */
export async function ensureSecureMaterial(): Promise<void> {
  for (const dir of [root(), join(root(), 'tls'), join(root(), 'secrets')]) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
  }
  let caMade = false;
  if (!validFor(securePaths.ca(), RENEW_DAYS) || !existsSync(securePaths.caKey())) {
    log(`making the secured sandbox's CA in ${join(root(), 'tls')}`);
    await selfSignedCa(securePaths.caKey(), securePaths.ca(), caSubject());
    caMade = true;
  }
  const ca = { cert: securePaths.ca(), key: securePaths.caKey() };
  for (const node of NODES) {
    if (caMade || !validFor(securePaths.nodeCert(node), RENEW_DAYS)) {
      await issue(
        ca,
        { cert: securePaths.nodeCert(node), key: securePaths.nodeKey(node) },
        `/O=tend sandbox/CN=${node.name}`,
        ['extendedKeyUsage=serverAuth,clientAuth', `subjectAltName=IP:${node.address}`],
      );
      // Cassandra's PEM keystore: the private key, then the certificate chain.
      writePrivate(
        securePaths.nodeKeystore(node),
        [securePaths.nodeKey(node), securePaths.nodeCert(node), securePaths.ca()]
          .map((f) => readFileSync(f, 'utf8'))
          .join(''),
      );
    }
  }
  if (caMade || !validFor(securePaths.consulCert(), RENEW_DAYS)) {
    await issue(
      ca,
      { cert: securePaths.consulCert(), key: securePaths.consulKey() },
      '/O=tend sandbox/CN=server.dc1.consul',
      [
        'extendedKeyUsage=serverAuth,clientAuth',
        `subjectAltName=IP:${CONSUL.address},DNS:server.dc1.consul,DNS:localhost`,
      ],
    );
  }
  if (caMade || !validFor(securePaths.clientCert(), RENEW_DAYS)) {
    await issue(
      ca,
      { cert: securePaths.clientCert(), key: securePaths.clientKey() },
      `/O=tend sandbox/CN=${TEND_USER}`,
      ['extendedKeyUsage=clientAuth'],
    );
  }
  if (!validFor(securePaths.rogueCa(), RENEW_DAYS) || !validFor(securePaths.rogueClientCert(), RENEW_DAYS)) {
    await selfSignedCa(securePaths.rogueCaKey(), securePaths.rogueCa(), `/O=somebody else/CN=rogue CA ${INSTANCE}`);
    await issue(
      { cert: securePaths.rogueCa(), key: securePaths.rogueCaKey() },
      { cert: securePaths.rogueClientCert(), key: securePaths.rogueClientKey() },
      `/O=tend sandbox/CN=${TEND_USER}`,
      ['extendedKeyUsage=clientAuth'],
    );
  }
  if (caMade || !existsSync(securePaths.expiredCa())) await expiredCopyOfCa(caSubject());

  ensureSecret(securePaths.adminPassword(), newPassword);
  ensureSecret(securePaths.cassandraPassword(), newPassword);
  ensureSecret(securePaths.jolokiaPassword(), newPassword);
  ensureSecret(securePaths.jmxPassword(), newPassword);
  // Consul takes only UUIDs as token secrets it is given.
  ensureSecret(securePaths.consulToken(), randomUUID);
  ensureSecret(securePaths.consulManagementToken(), randomUUID);
  writePrivate(securePaths.nodetoolPasswordFile(), `${TEND_USER} ${readSecretValue(securePaths.jmxPassword())}\n`);
}

/** cassandra.yaml keys of the secured profile (merged over the default profile's). */
export function secureCassandraYaml(node: SandboxNode): Record<string, unknown> {
  return {
    authenticator: 'PasswordAuthenticator',
    authorizer: 'CassandraAuthorizer',
    role_manager: 'CassandraRoleManager',
    client_encryption_options: {
      enabled: true,
      // No plain-text port next to the TLS one.
      optional: false,
      ssl_context_factory: { class_name: 'org.apache.cassandra.security.PEMBasedSslContextFactory' },
      // PEM: the unencrypted PKCS#8 key followed by its certificate chain; no keystore password.
      keystore: securePaths.nodeKeystore(node),
      truststore: securePaths.ca(),
      require_client_auth: true,
    },
  };
}

const conf = (node: SandboxNode, file: string) => join(paths.node(node), 'conf', file);

/**
 * Server-side files of a node: the JMX password and access files (the JDK replaces the clear-text password
 * with a salted hash the first time it reads a writable file, so each node gets its own copy, rewritten at each
 * start) and the Jolokia agent's properties.
 */
export function writeSecureNodeFiles(node: SandboxNode): void {
  const jmxPassword = readSecretValue(securePaths.jmxPassword());
  writePrivate(conf(node, 'jmxremote.password'), `${TEND_USER} ${jmxPassword}\n`);
  // readwrite: repairAsync and forceTerminateAllRepairSessions are operations, not attribute reads.
  writePrivate(conf(node, 'jmxremote.access'), `${TEND_USER} readwrite\n`);
  const jolokia = {
    host: node.address,
    port: String(node.jolokiaPort),
    discoveryEnabled: 'false',
    ...Object.fromEntries(JOLOKIA_THREADS.split(',').map((option) => option.split('='))),
    protocol: 'https',
    serverCert: securePaths.nodeCert(node),
    serverKey: securePaths.nodeKey(node),
    caCert: securePaths.ca(),
    useSslClientAuthentication: 'true',
    // The client certificate must carry the clientAuth usage and name tend.
    extendedClientCheck: 'true',
    clientPrincipal: `CN=${TEND_USER}`,
    authMode: 'basic',
    // Both the client certificate and the password; Jolokia's default ("any") accepts either alone.
    authMatch: 'all',
    user: TEND_USER,
    password: readSecretValue(securePaths.jolokiaPassword()),
  };
  writePrivate(
    conf(node, 'jolokia.properties'),
    `${Object.entries(jolokia)
      .map(([key, value]) => `${key}=${value}`)
      .join('\n')}\n`,
  );
}

/** The Jolokia agent's argument: its properties file, so no option (the password least) is on the command line. */
export const secureJolokiaAgentOptions = (node: SandboxNode) => `config=${conf(node, 'jolokia.properties')}`;

/** JVM system properties of a secured node. */
export function secureJvmProperties(node: SandboxNode): string[] {
  return [
    '-Dcom.sun.management.jmxremote.authenticate=true',
    `-Dcom.sun.management.jmxremote.password.file=${conf(node, 'jmxremote.password')}`,
    `-Dcom.sun.management.jmxremote.access.file=${conf(node, 'jmxremote.access')}`,
    // Roles on every node from the start (SimpleStrategy, as many replicas as nodes): a login never depends on one
    // replica, and when `up` turns it into NetworkTopologyStrategy with a replica on every node no data moves.
    // Read only when system_auth is first created.
    `-Dcassandra.system_auth.default_rf=${NODES.length}`,
  ];
}

/** The Consul agent's configuration in the secured profile: ACLs (default deny) and HTTPS only. */
export function writeSecureConsulConfig(file: string): void {
  const hcl = `# Generated by tend's test/sandbox (secured profile).
acl {
  enabled = true
  default_policy = "deny"
  enable_token_persistence = false
  tokens {
    initial_management = "${readSecretValue(securePaths.consulManagementToken())}"
  }
}
ports {
  http = -1
  https = ${CONSUL.httpPort}
}
tls {
  defaults {
    ca_file = "${securePaths.ca()}"
    cert_file = "${securePaths.consulCert()}"
    key_file = "${securePaths.consulKey()}"
    verify_incoming = true
  }
  internal_rpc {
    verify_incoming = false
  }
}
`;
  writePrivate(file, hcl);
}

export interface SecureReply {
  status: number;
  body: string;
}

/**
 * One HTTPS request with the sandbox CA and a client certificate (tend's unless told otherwise). fetch() in
 * Node 20 takes neither without the undici package, so this is node:https.
 */
export async function httpsRequest(
  url: string,
  options: {
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    timeoutMs?: number;
    client?: { cert: string; key: string };
  } = {},
): Promise<SecureReply> {
  const { request } = await import('node:https');
  const client = options.client ?? { cert: securePaths.clientCert(), key: securePaths.clientKey() };
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? 'GET',
        headers: { ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}), ...options.headers },
        ca: readFileSync(securePaths.ca()),
        cert: readFileSync(client.cert),
        key: readFileSync(client.key),
        agent: false,
        timeout: options.timeoutMs ?? 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${url}: no answer within ${options.timeoutMs ?? 10_000} ms`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Basic-auth header of tend's Jolokia user. */
export function jolokiaAuthorization(password = readSecretValue(securePaths.jolokiaPassword())): string {
  return `Basic ${Buffer.from(`${TEND_USER}:${password}`).toString('base64')}`;
}

/**
 * tend's Consul ACL policy: write keys under `tend` (leases, announcements, broken-lease records; `key_prefix`
 * matches `tend/…` and the tests' `tend-<keyspace>/…`) and create, renew and destroy sessions on any node
 * (a session belongs to the agent's node, whose name differs per machine). Nothing else: no other keys, no
 * catalog, no ACL reads.
 */
export const TEND_CONSUL_RULES = `key_prefix "${CONSUL_KEY_PREFIX}" {
  policy = "write"
}
session_prefix "" {
  policy = "write"
}
`;

/** Creates tend's Consul policy and token (the agent keeps ACLs in memory in -dev mode: done at every start). */
export async function bootstrapConsulAcl(consulUrl: string): Promise<void> {
  const management = { 'X-Consul-Token': readSecretValue(securePaths.consulManagementToken()) };
  const call = async (method: string, path: string, body?: object) => {
    const reply = await httpsRequest(`${consulUrl}${path}`, {
      method,
      headers: management,
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return reply;
  };
  const existing = await call('GET', '/v1/acl/policy/name/tend');
  if (existing.status === 404 || (existing.status === 403 && /not found/i.test(existing.body))) {
    const created = await call('PUT', '/v1/acl/policy', {
      Name: 'tend',
      Description: "tend's leases: keys under tend, sessions",
      Rules: TEND_CONSUL_RULES,
    });
    if (created.status !== 200)
      throw new SandboxError(`creating Consul policy tend: ${created.status} ${created.body}`);
  } else if (existing.status !== 200) {
    throw new SandboxError(`reading Consul policy tend: ${existing.status} ${existing.body}`);
  }
  const secretId = readSecretValue(securePaths.consulToken());
  const self = await httpsRequest(`${consulUrl}/v1/acl/token/self`, { headers: { 'X-Consul-Token': secretId } });
  if (self.status === 200) return;
  const token = await call('PUT', '/v1/acl/token', {
    Description: "tend's lease token",
    SecretID: secretId,
    Policies: [{ Name: 'tend' }],
  });
  if (token.status !== 200) throw new SandboxError(`creating tend's Consul token: ${token.status} ${token.body}`);
}

/** Driver options of the sandbox's own CQL sessions in the secured profile: the superuser, over TLS. */
export function adminCqlOptions(password = readSecretValue(securePaths.adminPassword())): {
  credentials: { username: string; password: string };
  sslOptions: { ca: Buffer; cert: Buffer; key: Buffer; rejectUnauthorized: true };
} {
  return {
    credentials: { username: ADMIN_USER, password },
    sslOptions: {
      ca: readFileSync(securePaths.ca()),
      cert: readFileSync(securePaths.clientCert()),
      key: readFileSync(securePaths.clientKey()),
      rejectUnauthorized: true,
    },
  };
}

/**
 * What tend's role may do, and nothing more (README, Security): read and write its own keyspace (leases by
 * lightweight transactions, history, policies) and read Cassandra's repair history. Every other table it reads
 * (system.local, peers_v2, size_estimates, table_estimates, system_schema.*) is readable by any role. It needs
 * no permission on the keyspaces it repairs: repairs go through JMX or Jolokia, not CQL.
 */
export function tendGrants(keyspace: string): string[] {
  return [
    `GRANT SELECT ON KEYSPACE ${keyspace} TO ${TEND_USER}`,
    `GRANT MODIFY ON KEYSPACE ${keyspace} TO ${TEND_USER}`,
  ];
}

export const TEND_SYSTEM_GRANTS = [
  `GRANT SELECT ON TABLE system_distributed.repair_history TO ${TEND_USER}`,
  `GRANT SELECT ON TABLE system_distributed.parent_repair_history TO ${TEND_USER}`,
];
