/** `tend config show|check`: the effective configuration, and validation without connecting anywhere. */
import { ExitCode } from '../../errors.js';
import { defineCommand, type CommandModule } from '../types.js';

export type ConfigShowOptions = Record<string, never>;
export type ConfigCheckOptions = Record<string, never>;

const show = defineCommand<ConfigShowOptions>({
  path: ['config', 'show'],
  summary: 'print the effective configuration, secrets redacted',
  description:
    'Prints the configuration tend would use — the file found by the search order, with every default filled in — as YAML (or one JSON document with --json). Durations and sizes are spelled as in tend.yml. Secrets are never printed: the output says only where each one is read from.',
  arguments: [],
  options: [],
  examples: [
    { command: 'tend config show', description: 'Show the configuration found by the search order.' },
    { command: 'tend -c ./staging.yml config show --json', description: 'Show another file as JSON.' },
  ],
  exitCodes: [ExitCode.Config],
  parse: () => ({}),
  async run(_options, deps) {
    const { configView } = await import('../../config/display.js');
    const { maskSecrets } = await import('../../config/secrets.js');
    const { stringify } = await import('yaml');
    const loaded = await deps.loadConfig();
    const view = configView(loaded.config, deps.env, loaded.filepath, loaded.source);
    deps.out.data({ ...view, warnings: loaded.warnings.map(maskSecrets) }, () => {
      const secretLines = Object.entries(view.secrets).map(([name, origin]) => `#   ${name}: ${origin}`);
      deps.out.text(
        [
          `# effective configuration from ${view.file ?? 'built-in defaults (no configuration file found)'}`,
          '# secrets (values never shown):',
          ...secretLines,
          stringify(view.config, { lineWidth: 0 }),
        ].join('\n'),
      );
    });
  },
});

const check = defineCommand<ConfigCheckOptions>({
  path: ['config', 'check'],
  summary: 'validate the configuration without connecting anywhere',
  description:
    'Validates the configuration file found by the search order: syntax, every key and value, cross-field rules (lease renewal shorter than its TTL, warn alarm before error alarm, repair interval shorter than the error alarm, Consul TTL limits) that referenced files (passwordFile, tokenFile, TLS PEM files) are readable and the metrics directory writable, and (as a warning) that nodetool is found. Every problem is reported, each naming its dotted path. Nothing is contacted. Exits 3 when the configuration is invalid.',
  arguments: [],
  options: [],
  examples: [
    { command: 'tend config check', description: 'Validate /etc/tend/tend.yml (or ./tend.yml).' },
    {
      command: 'tend -c new.yml config check && sudo cp new.yml /etc/tend/tend.yml',
      description: 'Check before installing.',
    },
  ],
  exitCodes: [ExitCode.Config],
  parse: () => ({}),
  async run(_options, deps) {
    const { checkConfig } = await import('../../app/config-check.js');
    const { maskSecrets } = await import('../../config/secrets.js');
    const report = await checkConfig(deps);
    // Problems quote values from the file (outside text): a secret pasted under the wrong key is masked there.
    const document = {
      ...report,
      errors: report.errors.map(maskSecrets),
      warnings: report.warnings.map(maskSecrets),
    };
    deps.out.data(document, () => {
      if (report.valid) {
        deps.out.text(
          `configuration OK: ${report.file ?? 'no file found, built-in defaults'}${report.warnings.length ? ` (${report.warnings.length} warning${report.warnings.length === 1 ? '' : 's'})` : ''}`,
        );
      }
    });
    for (const warning of document.warnings) deps.out.warn(warning);
    if (!report.valid) throw report.error;
  },
});

export const configModule: CommandModule = {
  group: { name: 'config', summary: 'show or validate the configuration' },
  commands: [show, check],
};
