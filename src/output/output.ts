/**
 * The one writer for stdout and stderr.
 *
 * stdout carries data only: a table (or plain text) on a terminal, tab-separated rows when piped, exactly one
 * JSON document with --json. Everything else — logs, warnings, progress, errors — goes to stderr: readable text
 * on a terminal, `key=value` lines otherwise, which is what the systemd journal and log shippers want.
 *
 * Whether a stream is a terminal is injected (the `isTTY` of the stream objects), so tests run commands against
 * fake streams and check stdout and stderr separately, on a "terminal" and piped.
 *
 * Secrets are never put into what is written here, so nothing is searched and replaced on the way out (that
 * turned `keyspace: tend` into `keyspace: [redacted]` for a password `tend`, and `"valid": true` into invalid JSON
 * for a password `true`). Text from outside that could echo a credential is sanitised where it enters tend's
 * errors and logs (src/output/sanitize.ts). What is escaped here are control characters: in every diagnostic and
 * in human output (table, TSV, text), so a name or an argument cannot drive the operator's terminal.
 *
 * ora and cli-table3 are loaded only for a terminal (`prepareTerminal`, and the first table on a terminal): a tick
 * from a systemd timer never draws either, and loading them cost ~0.1 s of its start-up.
 */
import { createRequire } from 'node:module';
import { Chalk, type ChalkInstance } from 'chalk';
import type TableConstructor from 'cli-table3';
import type { Ora } from 'ora';
import { isoTime, logfmt, relativeTime, type Fields } from './format.js';
import { escapeControl } from './sanitize.js';

export interface OutputStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export type Verbosity = 'quiet' | 'normal' | 'verbose';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'auto' | 'text' | 'keyvalue';

const LEVEL_RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Spinner {
  update(text: string): void;
  succeed(text: string): void;
  fail(text: string): void;
  stop(): void;
}

export interface OutputOptions {
  stdout: OutputStream;
  stderr: OutputStream;
  /** --json: one JSON document on stdout, no spinners. */
  json?: boolean;
  /** --no-color / NO_COLOR already folded in; colour is used only when the stream is also a terminal. */
  colorAllowed?: boolean;
  verbosity?: Verbosity;
  /** From log.level in the config; -v and -q override it. */
  logLevel?: LogLevel;
  logFormat?: LogFormat;
  now?: () => Date;
}

export interface Column<Row> {
  header: string;
  value: (row: Row) => unknown;
  /** Colour for the cell's text, applied after its control characters are escaped. */
  style?: (text: string, row: Row) => string;
}

/** NO_COLOR (https://no-color.org): any non-empty value disables colour; so do --no-color and TERM=dumb. */
export function colorAllowedByEnv(env: Readonly<Record<string, string | undefined>>, flag: boolean): boolean {
  if (!flag) return false;
  if (env.NO_COLOR) return false;
  if (env.TERM === 'dumb') return false;
  return true;
}

export class Output {
  readonly json: boolean;
  readonly stdoutIsTTY: boolean;
  readonly stderrIsTTY: boolean;
  private readonly stdout: OutputStream;
  private readonly stderr: OutputStream;
  private readonly now: () => Date;
  private readonly outColor: ChalkInstance;
  private readonly errColor: ChalkInstance;
  private verbosity: Verbosity;
  private logLevel: LogLevel;
  private logFormat: LogFormat;
  private jsonWritten = false;
  private activeSpinner: Ora | undefined;
  private oraFactory: typeof import('ora').default | undefined;

  constructor(options: OutputOptions) {
    this.stdout = options.stdout;
    this.stderr = options.stderr;
    this.json = options.json ?? false;
    this.stdoutIsTTY = options.stdout.isTTY === true;
    this.stderrIsTTY = options.stderr.isTTY === true;
    this.now = options.now ?? (() => new Date());
    this.verbosity = options.verbosity ?? 'normal';
    this.logLevel = options.logLevel ?? 'info';
    this.logFormat = options.logFormat ?? 'auto';
    const colorAllowed = options.colorAllowed ?? true;
    this.outColor = new Chalk({ level: colorAllowed && this.stdoutIsTTY ? 1 : 0 });
    this.errColor = new Chalk({ level: colorAllowed && this.stderrIsTTY ? 1 : 0 });
  }

  /** Apply settings known only once the config is loaded (log.level, log.format). */
  configureLogging(level: LogLevel, format: LogFormat): void {
    this.logLevel = level;
    this.logFormat = format;
  }

  get colors(): ChalkInstance {
    return this.outColor;
  }

  private writeOut(text: string): void {
    this.stdout.write(text);
  }

  private writeErr(text: string): void {
    if (this.activeSpinner?.isSpinning) this.activeSpinner.clear();
    this.stderr.write(text);
    if (this.activeSpinner?.isSpinning) this.activeSpinner.render();
  }

  // ---- stdout: data ----

  /** Exactly one JSON document per process: a second call is a programming error. */
  writeJson(value: unknown): void {
    if (this.jsonWritten) throw new Error('Output.writeJson called twice; --json must print exactly one document');
    this.jsonWritten = true;
    this.writeOut(`${JSON.stringify(value, jsonReplacer, 2)}\n`);
  }

  /** Print `value` as JSON under --json, otherwise let `human` print it for people. */
  data(value: unknown, human: () => void): void {
    if (this.json) this.writeJson(value);
    else human();
  }

  /**
   * Data text on stdout (documents such as YAML, CQL or a completion script, and one-line results). Control
   * characters other than newline and tab are escaped.
   */
  text(content: string): void {
    const safe = escapeControl(content, '\n\t');
    this.writeOut(safe.endsWith('\n') ? safe : `${safe}\n`);
  }

  /**
   * Text on stdout in colour: each piece escaped as `text` escapes it, then painted by its style (chalk: nothing
   * when stdout is no terminal or colour is off). Only the styles' own sequences reach the terminal.
   */
  paintedText(pieces: readonly (string | readonly [string, (text: string) => string])[]): void {
    const painted = pieces
      .map((piece) =>
        typeof piece === 'string' ? escapeControl(piece, '\n\t') : piece[1](escapeControl(piece[0], '\n\t')),
      )
      .join('');
    this.writeOut(painted.endsWith('\n') ? painted : `${painted}\n`);
  }

  /**
   * Rows on stdout: an aligned table with headers on a terminal; tab-separated values without a header when
   * piped, so `cut -f` and `awk -F'\t'` work.
   */
  table<Row>(columns: ReadonlyArray<Column<Row>>, rows: readonly Row[]): void {
    // Every control character escaped, tabs and newlines included: a cell is one TSV field on one line.
    const cells = rows.map((row) =>
      columns.map((column) => {
        const text = escapeControl(this.cell(column.value(row)));
        return column.style ? column.style(text, row) : text;
      }),
    );
    if (!this.stdoutIsTTY) {
      for (const line of cells) this.writeOut(`${line.join('\t')}\n`);
      return;
    }
    const Table = createRequire(import.meta.url)('cli-table3') as typeof TableConstructor;
    const table = new Table({
      head: columns.map((column) => this.outColor.bold(column.header)),
      chars: {
        top: '',
        'top-mid': '',
        'top-left': '',
        'top-right': '',
        bottom: '',
        'bottom-mid': '',
        'bottom-left': '',
        'bottom-right': '',
        left: '',
        'left-mid': '',
        mid: '',
        'mid-mid': '',
        right: '',
        'right-mid': '',
        middle: '  ',
      },
      style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
    });
    table.push(...cells);
    this.writeOut(`${table.toString()}\n`);
  }

  private cell(value: unknown): string {
    if (value instanceof Date) return this.time(value);
    if (value === undefined || value === null) return '-';
    return String(value);
  }

  /**
   * Relative on a terminal (`3h ago`), ISO-8601 UTC otherwise. `reference` is the "now" to be relative to;
   * pass Cassandra's clock where history times come from it, so a skewed local clock cannot mislead.
   */
  time(date: Date | number, reference?: Date | number): string {
    const at = typeof date === 'number' ? new Date(date) : date;
    if (!this.stdoutIsTTY) return isoTime(at);
    const now = reference === undefined ? this.now() : typeof reference === 'number' ? new Date(reference) : reference;
    return relativeTime(at, now);
  }

  // ---- stderr: diagnostics ----

  private enabled(level: LogLevel): boolean {
    const threshold: LogLevel =
      this.verbosity === 'verbose' ? 'debug' : this.verbosity === 'quiet' ? 'warn' : this.logLevel;
    return LEVEL_RANK[level] >= LEVEL_RANK[threshold];
  }

  private get humanLogs(): boolean {
    return this.logFormat === 'text' || (this.logFormat === 'auto' && this.stderrIsTTY);
  }

  log(level: LogLevel, message: string, fields: Fields = {}): void {
    if (!this.enabled(level)) return;
    if (!this.humanLogs) {
      // logfmt quotes and escapes control characters itself.
      this.writeErr(`${logfmt({ level, msg: message, ...fields })}\n`);
      return;
    }
    message = escapeControl(message);
    const c = this.errColor;
    const prefix =
      level === 'error'
        ? c.red.bold('error: ')
        : level === 'warn'
          ? c.yellow('warning: ')
          : level === 'debug'
            ? c.dim('debug: ')
            : '';
    const extra = Object.keys(fields).length ? ` ${c.dim(logfmt(fields))}` : '';
    this.writeErr(`${prefix}${message}${extra}\n`);
  }

  /**
   * A line that belongs to the previous message (an error's hint or one of its problems): indented text on a
   * terminal, a log line of the same level otherwise so each journal entry stands on its own.
   */
  detail(level: LogLevel, message: string, fields: Fields = {}): void {
    if (!this.enabled(level)) return;
    if (this.humanLogs) this.writeErr(`  ${escapeControl(message)}\n`);
    else this.log(level, message, fields);
  }

  /** Human text on stderr, key=value otherwise (what `log` uses). */
  get humanDiagnostics(): boolean {
    return this.humanLogs;
  }

  debug(message: string, fields?: Fields): void {
    this.log('debug', message, fields);
  }
  info(message: string, fields?: Fields): void {
    this.log('info', message, fields);
  }
  warn(message: string, fields?: Fields): void {
    this.log('warn', message, fields);
  }
  error(message: string, fields?: Fields): void {
    this.log('error', message, fields);
  }

  /**
   * Progress for a person watching: an ora spinner on a terminal only, never with --json or -q. Elsewhere the
   * start is a debug line and the outcome a normal log line, so the journal still records what happened. The
   * spinner needs `prepareTerminal()` first (main() does it); without it a terminal gets the log lines too.
   */
  spinner(text: string): Spinner {
    const ora = this.spinnerAllowed() ? this.oraFactory : undefined;
    if (!ora) {
      this.debug(text);
      return {
        update: (next) => this.debug(next),
        succeed: (done) => this.info(done),
        fail: (failed) => this.error(failed),
        stop: () => undefined,
      };
    }
    const spinner = ora({
      text: escapeControl(text),
      stream: this.stderr as NodeJS.WritableStream,
      isEnabled: true,
      discardStdin: false,
    }).start();
    this.activeSpinner = spinner;
    const finish = () => {
      if (this.activeSpinner === spinner) this.activeSpinner = undefined;
    };
    return {
      update: (next) => {
        spinner.text = escapeControl(next);
      },
      succeed: (done) => {
        spinner.succeed(escapeControl(done));
        finish();
      },
      fail: (failed) => {
        spinner.fail(escapeControl(failed));
        finish();
      },
      stop: () => {
        spinner.stop();
        finish();
      },
    };
  }

  private spinnerAllowed(): boolean {
    return this.stderrIsTTY && !this.json && this.verbosity !== 'quiet';
  }

  /** Loads the spinner library when spinners can be shown (stderr a terminal, no --json, not quiet). */
  async prepareTerminal(): Promise<void> {
    if (this.spinnerAllowed() && !this.oraFactory) this.oraFactory = (await import('ora')).default;
  }

  /** Stop any spinner and wait until both streams have handed their data to the OS. */
  async flush(): Promise<void> {
    this.activeSpinner?.stop();
    this.activeSpinner = undefined;
    await Promise.all([drain(this.stdout), drain(this.stderr)]);
  }
}

function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  return value;
}

function drain(stream: OutputStream): Promise<void> {
  const writable = stream as Partial<NodeJS.WritableStream> & { writableNeedDrain?: boolean };
  if (!writable.writableNeedDrain || typeof writable.once !== 'function') return Promise.resolve();
  return new Promise((resolve) => writable.once?.('drain', () => resolve()));
}
