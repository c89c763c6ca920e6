/**
 * The shape of a command: metadata declared once (help, tend(8), completions and the README tables are all
 * generated from it) plus a `run` that receives a typed options struct and its dependencies.
 */
import type { Output } from '../output/output.js';
import type { Env, SecretName } from '../config/secrets.js';
import type { LoadedConfig } from '../config/load.js';
import type { TendConfig } from '../config/schema.js';
import type { TimeBound } from '../app/time-bound.js';

/** How a shell should complete an option's value or an argument. */
export type CompletionHint = 'file' | 'directory' | 'none';

export interface OptionSpec {
  /** commander syntax: `-c, --config <PATH>`, `--json`, `--max-tasks <N>`, `--no-color`. */
  flags: string;
  description: string;
  /** Allowed values (validated by commander, offered by completions). */
  choices?: readonly string[];
  /** What a shell offers for the value (default: nothing). */
  complete?: CompletionHint;
  /** May be given several times; the values arrive as an array. */
  repeatable?: boolean;
}

export interface ArgumentSpec {
  /** Placeholder as shown to users: `SHELL`, `KEYSPACE.TABLE`. */
  name: string;
  description: string;
  required: boolean;
  variadic?: boolean;
  choices?: readonly string[];
}

export interface Example {
  command: string;
  description: string;
}

/** Options every command accepts (before or after the command words). */
export interface GlobalOptions {
  config: string | undefined;
  json: boolean;
  verbose: boolean;
  quiet: boolean;
  /** false with --no-color (NO_COLOR is applied separately by the output layer). */
  color: boolean;
}

export interface LoadedValidConfig extends LoadedConfig {
  config: TendConfig;
  warnings: string[];
}

/**
 * What a command may use. Everything with side effects is reached through here so tests can pass fakes; heavy
 * adapters (driver, Consul, executors) are imported lazily inside `run`, keeping `tend --help` fast.
 */
export interface CommandDeps {
  out: Output;
  env: Env;
  cwd: string;
  globals: GlobalOptions;
  version: string;
  /** Cancelled on SIGINT/SIGTERM; long-running work must stop and clean up (release leases) when it fires. */
  signal: AbortSignal;
  /** Load and validate the configuration (search order of DESIGN.md); throws ConfigError. */
  loadConfig(): Promise<LoadedValidConfig>;
  /**
   * A secret (password file or environment, see config/secrets.ts). The value is registered as a known secret, so
   * outside text that echoes it (a server's error message) is masked where it enters tend's errors and logs. Never
   * put the value itself into output.
   */
  secret(name: SecretName): Promise<string | undefined>;
  /** Overrides /etc/tend (tests). */
  systemConfigDir?: string;
  /** Reads a local file (used for checks of referenced files; replaceable in tests). */
  readFile(path: string): Promise<string>;
}

export interface CommandSpec<Options = unknown> {
  /** Command words after `tend`: `['config', 'show']`, `['completion']`. */
  path: readonly [string] | readonly [string, string];
  /** One line, lower case, no full stop: shown in lists. */
  summary: string;
  /** Paragraphs for `--help` and tend(8); defaults to the summary. */
  description?: string;
  arguments: readonly ArgumentSpec[];
  options: readonly OptionSpec[];
  examples: readonly Example[];
  /** Exit codes this command can return besides 0, 1 and 2 (which every command can). */
  exitCodes: readonly number[];
  /**
   * argv → options struct, without running anything. `args` are the positional arguments in declaration order
   * (a variadic one is an array), `opts` commander's camel-cased option values. Throw UsageError for input that
   * commander cannot check itself.
   */
  parse(args: readonly unknown[], opts: Readonly<Record<string, unknown>>): Options;
  run(options: Options, deps: CommandDeps): Promise<number | void>;
  /**
   * How long this command may run, from its configuration and options (src/app/time-bound.ts); the watchdog stops
   * it there (exit 8). Default: `commandBound`, a connect and a request timeout plus a grace.
   */
  timeBound?(config: TendConfig, options: Options): TimeBound;
}

/** A noun with verbs (`tend config show|check`). Single-word commands use `path: [name]` and no group. */
export interface CommandGroup {
  name: string;
  summary: string;
}

/** What a file under src/cli/commands/ exports. */
export interface CommandModule {
  group?: CommandGroup;
  commands: readonly AnyCommand[];
}

/** A command of any options type (methods are bivariant, so every CommandSpec<X> is one). */
export type AnyCommand = CommandSpec<unknown>;

/** Type-checks `parse` against `run` and erases the options type so specs can live in one list. */
export function defineCommand<Options>(spec: CommandSpec<Options>): AnyCommand {
  return spec as AnyCommand;
}
