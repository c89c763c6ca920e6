/**
 * A child process for test/integration/session-faults.test.ts: opens a session for the configuration in argv[2]
 * (JSON) and prints the outcome, then lets the process end by itself. If the failed connect left a socket or a
 * timer behind, the process does not end: that is what the test looks for.
 */
import { openSession } from '../../src/cluster/session.js';
import type { TendConfig } from '../../src/config/schema.js';

const config = JSON.parse(process.argv[2]!) as TendConfig;
try {
  const client = await openSession(config, {});
  await client.shutdown();
  console.log('connected');
} catch (error) {
  const e = error as Error & { exitCode?: number; problems?: string[] };
  console.log(JSON.stringify({ name: e.name, exitCode: e.exitCode, problems: e.problems ?? [] }));
}
