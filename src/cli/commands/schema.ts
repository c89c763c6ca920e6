/** `tend schema print`: the CQL of tend's own keyspace, for DBAs who review or apply it themselves. */
import { ConfigError, ExitCode } from '../../errors.js';
import { defineCommand, type CommandModule } from '../types.js';
import type { TendConfig } from '../../config/schema.js';

export type SchemaPrintOptions = Record<string, never>;

/** cassandra.replication, else 3 replicas in the local datacenter; SimpleStrategy is never guessed. */
export function keyspaceReplication(cassandra: TendConfig['cassandra']): Record<string, string | number> {
  if (cassandra.replication && Object.keys(cassandra.replication).length > 0) {
    return { class: 'NetworkTopologyStrategy', ...cassandra.replication };
  }
  if (cassandra.localDatacenter) {
    return { class: 'NetworkTopologyStrategy', [cassandra.localDatacenter]: 3 };
  }
  throw new ConfigError('cannot tell how to replicate the tend keyspace', {
    problems: [
      'cassandra.replication: needed to print the keyspace definition; set it (for example {dc1: 3, dc2: 3}) or set cassandra.localDatacenter',
    ],
  });
}

const print = defineCommand<SchemaPrintOptions>({
  path: ['schema', 'print'],
  summary: "print the CQL of tend's keyspace and tables",
  description:
    "Prints the CQL statements that create tend's keyspace (cassandra.keyspace, replicated per cassandra.replication) and tables. Every statement is idempotent (IF NOT EXISTS). Nothing is contacted; pipe the output to cqlsh to apply it by hand.",
  arguments: [],
  options: [],
  examples: [
    { command: 'tend schema print', description: 'Show the CQL.' },
    { command: 'tend schema print | cqlsh -u admin', description: 'Apply it with cqlsh.' },
  ],
  exitCodes: [ExitCode.Config],
  parse: () => ({}),
  async run(_options, deps) {
    const { schemaStatements, TEND_SCHEMA_VERSION } = await import('../../cluster/tend-schema.js');
    const { config } = await deps.loadConfig();
    const replication = keyspaceReplication(config.cassandra);
    const statements = schemaStatements(config.cassandra.keyspace, replication);
    deps.out.data(
      { version: TEND_SCHEMA_VERSION, keyspace: config.cassandra.keyspace, replication, statements },
      () => {
        deps.out.text(
          [`-- tend schema version ${TEND_SCHEMA_VERSION}`, ...statements.map((statement) => `${statement};\n`)].join(
            '\n',
          ),
        );
      },
    );
  },
});

export type SchemaApplyOptions = Record<string, never>;

const apply = defineCommand<SchemaApplyOptions>({
  path: ['schema', 'apply'],
  summary: "create or migrate tend's keyspace and tables",
  description:
    "Creates tend's keyspace (cassandra.keyspace, replicated per cassandra.replication) and tables, runs the migrations from the stored schema version and records this tend's version. Idempotent: every statement uses IF NOT EXISTS, so running it again changes nothing. It never alters an existing keyspace's replication (that needs a repair afterwards): a difference is reported as a warning with the statement to run. Refuses (exit 1) when the stored version is newer than this tend. Every other command that uses tend's tables checks the version first and asks for this command when it differs.",
  arguments: [],
  options: [],
  examples: [
    { command: 'tend schema apply', description: "Create tend's tables (once per cluster)." },
    { command: 'tend schema apply --json', description: 'Report versions as JSON.' },
  ],
  exitCodes: [ExitCode.Config, ExitCode.ClusterUnavailable],
  parse: () => ({}),
  async run(_options, deps) {
    const { withCluster } = await import('../../app/cluster-session.js');
    const { applySchema } = await import('../../cluster/tend-schema.js');
    const result = await withCluster(
      deps,
      (client, config) => applySchema(client, config.cassandra.keyspace, keyspaceReplication(config.cassandra)),
      { checkSchema: false },
    );
    if (result.replicationDiffers) {
      const wanted = Object.entries(result.replicationDiffers.configured)
        .map(([k, v]) => `'${k}': '${v}'`)
        .join(', ');
      deps.out.warn(
        `keyspace ${result.keyspace} is replicated as ${JSON.stringify(result.replicationDiffers.actual)}, not as configured; apply leaves it alone`,
      );
      deps.out.detail(
        'warn',
        `to change it: ALTER KEYSPACE "${result.keyspace}" WITH replication = {${wanted}}; then repair it`,
      );
    }
    deps.out.data(result, () => {
      deps.out.text(
        result.previousVersion === result.version
          ? `schema of ${result.keyspace} is up to date (version ${result.version})`
          : `schema of ${result.keyspace} ${result.previousVersion === null ? 'created' : `migrated from version ${result.previousVersion}`} at version ${result.version}`,
      );
    });
  },
});

export const schemaModule: CommandModule = {
  group: { name: 'schema', summary: "tend's CQL tables" },
  commands: [print, apply],
};
