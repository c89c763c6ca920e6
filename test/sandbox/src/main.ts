/**
 * tend's local test cluster: `up`, `down [--purge]`, `status`, `env [--json]`, `stop-node NAME`, `tend-config NAME`.
 * Run as `npm run sandbox -- VERB`. See README.md, Development (TEND_SANDBOX_* select the instance and its knobs).
 */
const USAGE = `usage: sandbox up | down [--purge] | status [--json] | env [--json] | stop-node NAME | tend-config NAME|admin`;

async function run(argv: string[]): Promise<number> {
  // Loaded here, not at the top: a bad TEND_SANDBOX_* value is reported as a plain message, not a stack trace.
  const { sandboxEnv, envLines } = await import('./env.js');
  const { down, status, stopNode, up } = await import('./sandbox.js');
  const { NODES } = await import('./layout.js');
  const { adminTendConfigPath, tendConfigPath } = await import('./tend-config.js');
  const { SECURE } = await import('./layout.js');
  const [verb, ...rest] = argv;
  switch (verb) {
    case 'up':
      await up();
      return 0;
    case 'down':
      await down({ purge: rest.includes('--purge') });
      return 0;
    case 'status': {
      const s = await status();
      if (rest.includes('--json')) {
        process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
      } else {
        for (const n of s.nodes) {
          process.stdout.write(`${n.name} ${n.address} pid=${n.pid ?? '-'} cql=${n.cql ? 'up' : 'down'}\n`);
        }
        process.stdout.write(`consul pid=${s.consul.pid ?? '-'} leader=${s.consul.leader ?? '-'}\n`);
      }
      const allUp = s.nodes.every((n) => n.cql) && s.consul.leader !== null;
      return allUp ? 0 : 1;
    }
    case 'env': {
      const env = sandboxEnv();
      process.stdout.write(
        rest.includes('--json') ? `${JSON.stringify(env, null, 2)}\n` : `${envLines(env).join('\n')}\n`,
      );
      return 0;
    }
    case 'tend-config': {
      if (rest[0] === 'admin' && SECURE) {
        process.stdout.write(`${adminTendConfigPath()}\n`);
        return 0;
      }
      const node = NODES.find((n) => n.name === (rest[0] ?? 'node1'));
      if (!node) break;
      process.stdout.write(`${tendConfigPath(node)}\n`);
      return 0;
    }
    case 'stop-node':
      if (!rest[0]) break;
      await stopNode(rest[0]);
      return 0;
    default:
      break;
  }
  process.stderr.write(`${USAGE}\n`);
  return 2;
}

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // SandboxError (log.ts) and SandboxSettingError (layout.ts) explain themselves: no stack trace.
    if (error instanceof Error && error.name === 'SandboxError') {
      process.stderr.write(`sandbox: ${error.message}\n`);
    } else {
      process.stderr.write(`sandbox: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    }
    process.exitCode = 1;
  },
);
