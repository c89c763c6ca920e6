/**
 * The command registry: every command tend has, in one sorted list. commander, `--help`, tend(8), the
 * completion scripts and the README command table are all built from it.
 *
 * Adding a command (e.g. `tend lease status`):
 *   1. Create (or extend) src/cli/commands/<noun>.ts exporting a CommandModule: `group` {name, summary} for a noun
 *      with verbs, and `commands` built with `defineCommand({ path: ['lease', 'status'], summary, description,
 *      arguments, options, examples, exitCodes, parse, run })`. Keep the module cheap to import: `run` imports
 *      its use case from src/app/ (and through it the adapters) with `await import(...)`.
 *   2. `parse(args, opts)` turns commander's values into a typed options struct and throws UsageError for what
 *      commander cannot check; `run(options, deps)` does the work through `deps` (output, config, signal) and
 *      throws typed errors from src/errors.ts — never process.exit.
 *   3. Add the module to `MODULES` below (any order: the registry sorts).
 *   4. `npm run gen:docs` to regenerate man/tend.8 and completions/*; the drift test fails until you do.
 *   5. Test argv → options with `parseInvocation` and the run against fakes (see test/unit/cli/).
 */
import { Command, CommanderError, Option, Argument } from 'commander';
import { UsageError } from '../errors.js';
import { EXIT_CODE_DESCRIPTIONS, ExitCode } from '../errors.js';
import { GLOBAL_OPTIONS } from './global-options.js';
import { closest } from '../config/suggest.js';
import { completionModule } from './commands/completion.js';
import { configModule } from './commands/config.js';
import { schemaModule } from './commands/schema.js';
import { scheduleModule } from './commands/schedule.js';
import { historyModule } from './commands/history.js';
import { policyModule } from './commands/policy.js';
import { schedulePauseModule } from './commands/schedule-pause.js';
import { scheduleTickModule } from './commands/schedule-tick.js';
import { repairModule } from './commands/repair.js';
import { leaseModule } from './commands/lease.js';
import { jobModule } from './commands/job.js';
import type { AnyCommand, CommandGroup, CommandModule, GlobalOptions, OptionSpec } from './types.js';

const MODULES: readonly CommandModule[] = [
  completionModule,
  configModule,
  schemaModule,
  scheduleModule,
  historyModule,
  policyModule,
  schedulePauseModule,
  scheduleTickModule,
  repairModule,
  leaseModule,
  jobModule,
];

/** A top-level word: either a noun with verbs or a single command. */
export interface RegistryEntry {
  name: string;
  summary: string;
  /** Verbs, sorted (empty for a single-word command). */
  subcommands: AnyCommand[];
  /** Set for a single-word command such as `completion`. */
  command: AnyCommand | undefined;
}

export interface Registry {
  entries: RegistryEntry[];
  /** Every command, sorted by path. */
  commands: AnyCommand[];
  globalOptions: readonly OptionSpec[];
}

export function buildRegistry(modules: readonly CommandModule[]): Registry {
  const entries = new Map<string, RegistryEntry>();
  const groups = new Map<string, CommandGroup>();
  for (const module of modules) if (module.group) groups.set(module.group.name, module.group);
  for (const module of modules) {
    for (const command of module.commands) {
      const [noun, verb] = command.path;
      let entry = entries.get(noun);
      if (!entry) {
        entry = {
          name: noun,
          summary: groups.get(noun)?.summary ?? command.summary,
          subcommands: [],
          command: undefined,
        };
        entries.set(noun, entry);
      }
      if (verb === undefined) {
        if (entry.command || entry.subcommands.length) throw new Error(`command ${noun} registered twice`);
        entry.command = command;
      } else {
        if (entry.command) throw new Error(`${noun} is both a command and a group`);
        if (entry.subcommands.some((existing) => existing.path[1] === verb)) {
          throw new Error(`command ${noun} ${verb} registered twice`);
        }
        entry.subcommands.push(command);
      }
    }
  }
  const sorted = [...entries.values()].sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of sorted) entry.subcommands.sort((a, b) => (a.path[1] ?? '').localeCompare(b.path[1] ?? ''));
  return {
    entries: sorted,
    commands: sorted.flatMap((entry) => (entry.command ? [entry.command] : entry.subcommands)),
    globalOptions: GLOBAL_OPTIONS,
  };
}

export const registry: Registry = buildRegistry(MODULES);

export const PROGRAM_SUMMARY = 'keeps every table of an Apache Cassandra cluster repaired';

export function commandName(command: AnyCommand): string {
  return command.path.join(' ');
}

/** `tend config show [options]`, `tend completion SHELL`. */
export function usageLine(command: AnyCommand): string {
  const args = command.arguments.map((argument) => {
    const name = `${argument.name}${argument.variadic ? '...' : ''}`;
    return argument.required ? name : `[${name}]`;
  });
  const options = command.options.map((option) => `[${option.flags.split(', ').pop()}]`);
  return ['tend', ...command.path, ...options, ...args].join(' ');
}

/** Codes every command can return: success, failure, usage, and the watchdog's. */
export const COMMON_EXIT_CODES: readonly number[] = [0, 1, 2, ExitCode.TimeBoundExceeded];

function exitCodeHelp(command: AnyCommand): string {
  const codes = new Set<number>([...COMMON_EXIT_CODES, ...command.exitCodes]);
  return EXIT_CODE_DESCRIPTIONS.filter(({ code }) => codes.has(code))
    .map(({ code, meaning }) => `  ${String(code).padStart(3)}  ${meaning}`)
    .join('\n');
}

function addOption(target: Command, spec: OptionSpec): void {
  const option = new Option(spec.flags, spec.description);
  if (spec.choices) option.choices(spec.choices);
  if (spec.repeatable)
    option.argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]);
  target.addOption(option);
}

function helpFooter(command: AnyCommand): string {
  const examples = command.examples.map((example) => `  $ ${example.command}\n      ${example.description}`).join('\n');
  return `${examples ? `\nExamples:\n${examples}\n` : ''}\nExit status:\n${exitCodeHelp(command)}\n\nSee tend(8) and tend.yml(5).`;
}

function configureCommand(target: Command, command: AnyCommand, onRun: (invocation: Invocation) => void): void {
  target.description(command.description ?? command.summary).summary(command.summary);
  for (const argument of command.arguments) {
    const syntax = argument.required
      ? `<${argument.name}${argument.variadic ? '...' : ''}>`
      : `[${argument.name}${argument.variadic ? '...' : ''}]`;
    const commanderArgument = new Argument(syntax, argument.description);
    if (argument.choices) commanderArgument.choices(argument.choices);
    target.addArgument(commanderArgument);
  }
  for (const option of command.options) addOption(target, option);
  target.addHelpText('after', helpFooter(command));
  target.action((...actionArgs: unknown[]) => {
    const self = actionArgs[actionArgs.length - 1] as Command;
    const positional = actionArgs.slice(0, command.arguments.length);
    const globals = globalOptionsFrom(self.optsWithGlobals());
    onRun({ kind: 'run', command, options: command.parse(positional, self.opts()), globals });
  });
}

function globalOptionsFrom(values: Record<string, unknown>): GlobalOptions {
  const globals: GlobalOptions = {
    config: typeof values.config === 'string' ? values.config : undefined,
    json: values.json === true,
    verbose: values.verbose === true,
    quiet: values.quiet === true,
    color: values.color !== false,
  };
  if (globals.verbose && globals.quiet) throw new UsageError('--verbose and --quiet cannot be used together');
  return globals;
}

export type Invocation =
  | { kind: 'run'; command: AnyCommand; options: unknown; globals: GlobalOptions }
  /** --help or --version: the text goes to stdout and the exit code is 0. */
  | { kind: 'text'; text: string; globals: GlobalOptions };

/**
 * Build the commander program. `onRun` receives the parsed invocation instead of running anything, so parsing
 * can be tested on its own and main() decides when and how to run.
 */
export function buildProgram(
  reg: Registry,
  version: string,
  onRun: (invocation: Invocation) => void,
  output: { writeOut: (text: string) => void; writeErr: (text: string) => void },
): Command {
  const program = new Command('tend')
    .description(`tend ${PROGRAM_SUMMARY}`)
    .version(version, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help for the command')
    .showSuggestionAfterError(true)
    .configureHelp({ showGlobalOptions: true })
    .exitOverride()
    .configureOutput({ writeOut: output.writeOut, writeErr: output.writeErr, outputError: () => undefined });
  for (const option of reg.globalOptions) addOption(program, option);
  program.addHelpText(
    'after',
    `\nExit status:\n${EXIT_CODE_DESCRIPTIONS.map(({ code, meaning }) => `  ${String(code).padStart(3)}  ${meaning}`).join('\n')}\n\nRun 'tend COMMAND --help' for a command's options. See tend(8) and tend.yml(5).`,
  );
  for (const entry of reg.entries) {
    const top = program
      .command(entry.name)
      .exitOverride()
      .configureOutput({
        writeOut: output.writeOut,
        writeErr: output.writeErr,
        outputError: () => undefined,
      });
    if (entry.command) {
      configureCommand(top, entry.command, onRun);
      continue;
    }
    top.description(entry.summary).summary(entry.summary);
    for (const sub of entry.subcommands) {
      const verb = top
        .command(sub.path[1] as string)
        .exitOverride()
        .configureOutput({ writeOut: output.writeOut, writeErr: output.writeErr, outputError: () => undefined });
      configureCommand(verb, sub, onRun);
    }
  }
  return program;
}

/** The part of argv after `node tend`, parsed into what to run. Throws UsageError (exit 2). */
export function parseInvocation(args: readonly string[], version: string, reg: Registry = registry): Invocation {
  let invocation: Invocation | undefined;
  let stdoutText = '';
  const program = buildProgram(
    reg,
    version,
    (parsed) => {
      invocation = parsed;
    },
    {
      writeOut: (text) => {
        stdoutText += text;
      },
      // Commander's own error output is dropped: main() reports the UsageError in the log format in use.
      writeErr: () => undefined,
    },
  );
  try {
    program.parse([...args], { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    const globals = globalOptionsFrom(program.opts());
    // `commander.help` with exit code 0 is `tend help [COMMAND]`; with 1 it is a group named without a verb.
    const helpRequested = error.code === 'commander.help' && error.exitCode === 0;
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || helpRequested) {
      return { kind: 'text', text: stdoutText, globals };
    }
    if (error.code === 'commander.help') {
      // A group named without a verb (`tend config`), or `tend` alone: show what exists, but it is a usage error.
      const words = args.filter((arg) => !arg.startsWith('-'));
      if (words[0] === 'help' && words[1] !== undefined) {
        const suggestion = closest(
          words[1],
          reg.entries.map((candidate) => candidate.name),
        );
        throw new UsageError(`unknown command '${words[1]}'`, {
          hints: [...(suggestion ? [`Did you mean ${suggestion}?`] : []), "Run 'tend --help' for usage."],
        });
      }
      const entry = reg.entries.find((candidate) => candidate.name === words[0]);
      const choices = entry ? entry.subcommands.map((command) => command.path[1]) : reg.entries.map((e) => e.name);
      throw new UsageError(entry ? `'tend ${entry.name}' needs a subcommand` : 'no command given', {
        hints: [`Commands: ${choices.join(', ')}`, `Run 'tend ${entry ? `${entry.name} ` : ''}--help' for usage.`],
      });
    }
    const [first, ...rest] = error.message.replace(/^error: /, '').split('\n');
    const hints = rest.map((line) => line.replace(/^\((.*)\)$/, '$1')).filter(Boolean);
    const words = args.filter((arg) => !arg.startsWith('-')).slice(0, 2);
    const known = reg.commands.find((command) => command.path.every((word, index) => words[index] === word));
    hints.push(`Run 'tend ${known ? `${commandName(known)} ` : ''}--help' for usage.`);
    throw new UsageError(first ?? error.message, { hints, cause: error });
  }
  if (!invocation) {
    throw new UsageError('no command given', { hints: ["Run 'tend --help' for the list of commands."] });
  }
  return invocation;
}
