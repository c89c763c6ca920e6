/** `tend schema print`: the CQL of tend's own keyspace, for DBAs who review or apply it themselves. */
import { ExitCode } from '../../errors.js';
import { defineCommand, type CommandModule } from '../types.js';

export type SchemaPrintOptions = Record<string, never>;

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
    const { schemaListing } = await import('../../app/schema.js');
    const { config } = await deps.loadConfig();
    const listing = schemaListing(config);
    deps.out.data(listing, () => {
      deps.out.text(
        [`-- tend schema version ${listing.version}`, ...listing.statements.map((statement) => `${statement};\n`)].join(
          '\n',
        ),
      );
    });
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
    const { applyTendSchema } = await import('../../app/schema.js');
    const result = await applyTendSchema(deps);
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
