/** Options every command accepts, declared once for commander, help, tend(8) and completions. */
import type { OptionSpec } from './types.js';

export const GLOBAL_OPTIONS: readonly OptionSpec[] = [
  {
    flags: '-c, --config <PATH>',
    description: 'configuration file (default: $TEND_CONFIG, then ./tend.yml, then /etc/tend/tend.yml; YAML or JSON)',
    complete: 'file',
  },
  { flags: '--json', description: 'print exactly one JSON document on stdout; diagnostics stay on stderr' },
  { flags: '-v, --verbose', description: 'log debug details on stderr' },
  { flags: '-q, --quiet', description: 'log only warnings and errors; no progress' },
  { flags: '--no-color', description: 'no colour (also when NO_COLOR is set or stderr is not a terminal)' },
];

/** Added by commander itself; listed so docs and completions know them. */
export const BUILTIN_OPTIONS: readonly OptionSpec[] = [
  { flags: '-h, --help', description: 'show help for the command' },
  { flags: '-V, --version', description: 'print the version' },
];

/** `--max-tasks <N>` → { long: '--max-tasks', short: undefined, value: 'N' }. */
export function parseFlags(flags: string): { long: string; short: string | undefined; value: string | undefined } {
  const value = /[<[]([^>\]]+)[>\]]/.exec(flags)?.[1];
  const names = flags
    .replace(/[<[][^>\]]+[>\]]/g, '')
    .split(/[ ,|]+/)
    .filter(Boolean);
  const long = names.find((name) => name.startsWith('--')) ?? (names[0] as string);
  const short = names.find((name) => /^-[^-]$/.test(name));
  return { long, short, value };
}
