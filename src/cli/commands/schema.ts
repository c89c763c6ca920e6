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
    const { schemaStatements, TEND_SCHEMA_VERSION } = await import('../../cluster/schema.js');
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

export const schemaModule: CommandModule = {
  group: { name: 'schema', summary: "tend's CQL tables" },
  commands: [print],
};
