/**
 * tend(8) from the command registry and tend.yml(5) from the configuration schema, written as ronn-style
 * markdown and rendered to roff by marked-man. The markdown is also what the README sections are cut from.
 */
import { Marked } from 'marked';
import markedMan from 'marked-man';
import { EXIT_CODE_DESCRIPTIONS } from '../../errors.js';
import {
  configJsonSchema,
  formatDuration,
  formatSize,
  KIND_KEY,
  RANGE_KEY,
  type JsonSchemaNode,
} from '../../config/schema.js';
import { SECRET_ENV } from '../../config/secrets.js';
import { BUILTIN_OPTIONS } from '../global-options.js';
import { PROGRAM_SUMMARY, usageLine, type Registry } from '../registry.js';
import type { AnyCommand, OptionSpec } from '../types.js';

/**
 * The date in the man page footer. Pinned (not "today") so regenerating is reproducible and the drift test
 * compares content only; bump it with a release.
 */
export const MAN_DATE = '2026-11-21';

function optionItem(option: OptionSpec): string {
  const [names, value] = option.flags.includes('<')
    ? [option.flags.slice(0, option.flags.indexOf('<')).trim(), option.flags.slice(option.flags.indexOf('<') + 1, -1)]
    : [option.flags, undefined];
  const rendered = names
    .split(', ')
    .map((name) => `\`${name}\``)
    .join(', ');
  const choices = option.choices ? ` One of: ${option.choices.map((choice) => `\`${choice}\``).join(', ')}.` : '';
  const repeat = option.repeatable ? ' May be repeated.' : '';
  return `* ${rendered}${value ? ` *${value}*` : ''}:\n  ${capitalize(option.description)}.${choices}${repeat}`;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function exitCodeItems(codes: ReadonlySet<number>): string {
  return EXIT_CODE_DESCRIPTIONS.filter(({ code }) => codes.has(code))
    .map(({ code, meaning }) => `* \`${code}\`:\n  ${capitalize(meaning)}.`)
    .join('\n');
}

function commandSection(command: AnyCommand): string {
  const parts = [
    `### tend ${command.path.join(' ')}`,
    '',
    `\`${usageLine(command)}\``,
    '',
    command.description ?? capitalize(command.summary),
  ];
  if (command.arguments.length) {
    parts.push(
      '',
      'Arguments:',
      '',
      command.arguments
        .map((argument) => `* *${argument.name}*${argument.required ? '' : ' (optional)'}:\n  ${argument.description}.`)
        .join('\n'),
    );
  }
  if (command.options.length) {
    parts.push('', 'Options:', '', command.options.map(optionItem).join('\n'));
  }
  const codes = [...new Set([0, 1, 2, ...command.exitCodes])].sort((a, b) => a - b);
  parts.push('', `Exit status: ${codes.join(', ')} (see EXIT STATUS).`);
  for (const example of command.examples) {
    parts.push('', `${example.description.replace(/\.$/, '')}:`, '', `    $ ${example.command}`);
  }
  return parts.join('\n');
}

/** Markdown of the commands, global options and exit codes (shared by tend(8) and the README). */
export function commandsMarkdown(registry: Registry, headingLevel = 2): string {
  const h = '#'.repeat(headingLevel);
  return [
    `${h} COMMANDS`,
    '',
    registry.commands.map((command) => commandSection(command).replace(/^### /, `${h}# `)).join('\n\n'),
    '',
    `${h} GLOBAL OPTIONS`,
    '',
    'Accepted before or after the command words.',
    '',
    [...registry.globalOptions, ...BUILTIN_OPTIONS].map(optionItem).join('\n'),
    '',
    `${h} EXIT STATUS`,
    '',
    exitCodeItems(new Set(EXIT_CODE_DESCRIPTIONS.map(({ code }) => code))),
  ].join('\n');
}

export function tendManMarkdown(registry: Registry): string {
  const synopsis = registry.commands.map((command) => `\`${usageLine(command)}\``).join('\n');
  return `# tend(8) -- ${PROGRAM_SUMMARY}

## SYNOPSIS

\`tend\` [*GLOBAL OPTIONS*] *COMMAND* [*ARGUMENTS*]

${synopsis}

## DESCRIPTION

tend keeps every token range of every replicated table repaired at least once per repair interval, so that deleted data cannot come back after gc_grace_seconds. It runs on each Cassandra node as short, stateless invocations: a systemd timer starts \`tend schedule tick\` every few minutes, which decides what is most overdue, takes a lease so that only a bounded number of repairs run at once, runs a bounded batch of repair tasks and records them. All state lives in Cassandra (or Consul, for leases).

Commands are \`noun verb\`. Data goes to stdout: a table on a terminal, tab-separated rows when piped, exactly one JSON document with \`--json\`. Diagnostics and progress go to stderr: readable text on a terminal, \`key=value\` lines otherwise (as in the systemd journal). Times are relative on a terminal and ISO-8601 UTC otherwise. When a command fails, stdout stays empty (only \`config check --json\` still prints its report) and the error goes to stderr; the exit status says what kind of failure it was.

${commandsMarkdown(registry)}

## CONFIGURATION

The configuration is YAML (or JSON), validated as a whole before anything connects; see tend.yml(5). It is the first found of:

1. the file given with \`-c\`, \`--config\`;
2. the file named by \`TEND_CONFIG\`;
3. \`tend.yml\` (or \`tend.yaml\`, \`tend.json\`) in the working directory;
4. \`/etc/tend/tend.yml\` (or \`.yaml\`, \`.json\`).

Without any file, built-in defaults apply (Cassandra on 127.0.0.1:9042 without authentication, nodetool on the local node).

## ENVIRONMENT

* \`TEND_CONFIG\`:
  Configuration file, when \`--config\` is not given.
* \`${SECRET_ENV.cassandraPassword}\`:
  Cassandra password, when cassandra.auth.passwordFile is not set.
* \`${SECRET_ENV.consulToken}\`:
  Consul ACL token, when lease.consul.tokenFile is not set.
* \`${SECRET_ENV.jolokiaPassword}\`:
  Jolokia password, when executor.jolokia.passwordFile is not set.
* \`NO_COLOR\`:
  Any non-empty value turns colour off, like \`--no-color\`.

Secrets are never accepted as command-line options and never printed; messages from Cassandra, Consul, Jolokia or nodetool that echo a secret (from these variables or from a file) are masked where they enter tend's messages.

## FILES

* \`/etc/tend/tend.yml\`:
  System-wide configuration.
* \`/lib/systemd/system/tend.service\`, \`/lib/systemd/system/tend.timer\`:
  The oneshot service running \`tend schedule tick\` and the timer starting it every few minutes.

## EXAMPLES

${registry.commands
  .flatMap((command) => command.examples)
  .map((example) => `${example.description.replace(/\.$/, '')}:\n\n    $ ${example.command}`)
  .join('\n\n')}

## SEE ALSO

tend.yml(5), nodetool(1), systemd.timer(5), systemd.exec(5)
`;
}

// ---------------------------------------------------------------- tend.yml(5)

function typeOf(node: JsonSchemaNode): string {
  const kind = node[KIND_KEY];
  if (kind === 'duration') return 'duration';
  if (kind === 'days') return 'days';
  if (kind === 'size') return 'size';
  if (kind === 'percent') return 'percentage';
  if (kind === 'path' || kind === 'secret-file') return 'path';
  if (node.enum) return node.enum.map((value) => `\`${String(value)}\``).join(' \\| ');
  if (node.format === 'uuid') return 'UUID';
  if (node.format === 'uri') return 'URL';
  if (node.type === 'array') return `list of ${node.items ? typeOf(node.items) : 'values'}`;
  if (node.type === 'object' && node.additionalProperties && typeof node.additionalProperties === 'object') {
    return `mapping of name to ${typeOf(node.additionalProperties)}`;
  }
  if (node.type === 'object') return 'mapping';
  return String(node.type ?? 'value');
}

function defaultOf(node: JsonSchemaNode): string | undefined {
  if (node.default === undefined) return undefined;
  if (typeof node.default === 'object' && node.default !== null) {
    if (Array.isArray(node.default)) {
      return node.default.length ? `\`[${node.default.join(', ')}]\`` : 'none';
    }
    return undefined;
  }
  return `\`${String(node.default)}\``;
}

/** `10s to 7d`, `1MiB to 1TiB`: the accepted range of a duration or size key. */
function rangeOf(node: JsonSchemaNode): string | undefined {
  const range = node[RANGE_KEY];
  if (!range) return undefined;
  const format = node[KIND_KEY] === 'size' ? formatSize : formatDuration;
  return `${format(range.min)} to ${format(range.max)}`;
}

function keyItems(node: JsonSchemaNode, prefix: string, out: string[]): void {
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    const path = `${prefix}.${key}`;
    const required = node.required?.includes(key) && child.default === undefined;
    const facts = [
      typeOf(child),
      required ? 'required' : undefined,
      defaultOf(child) ? `default ${defaultOf(child)}` : undefined,
      rangeOf(child),
    ]
      .filter(Boolean)
      .join(', ');
    out.push(`* \`${path}\` (${facts}):\n  ${child.description ?? ''}`);
    if (child.type === 'object' && child.properties) keyItems(child, path, out);
    if (child.type === 'array' && child.items?.properties) keyItems(child.items, `${path}[]`, out);
  }
}

export function configManMarkdown(exampleYaml: string): string {
  const schema = configJsonSchema();
  const sectionsMarkdown = Object.entries(schema.properties ?? {})
    .map(([name, node]) => {
      const items: string[] = [];
      keyItems(node, name, items);
      return `### ${name}\n\n${node.description ?? ''}\n\n${items.join('\n')}`;
    })
    .join('\n\n');
  const example = exampleYaml
    .trimEnd()
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
  return `# tend.yml(5) -- configuration of tend(8)

## SYNOPSIS

\`/etc/tend/tend.yml\`, \`./tend.yml\`, \`$TEND_CONFIG\`, \`tend --config PATH\`

## DESCRIPTION

tend reads one YAML (or JSON) document with the sections below. Every section and key is optional; what is left out takes the default shown. The whole file is validated before anything connects: every problem is reported at once, each naming its dotted path (\`repair.tables[2].interval\`) and what was expected, and an unknown key is an error with a suggestion. The file must be a regular file of at most 1MiB (a device, FIFO or directory is refused). \`tend config show\` prints the effective configuration.

\`tend config check\` validates without connecting to anything, and also checks the files the configuration names: each must be a readable regular file (at most 64KiB for a password or token, 1MiB for a PEM file); \`caFile\` and \`certFile\` must hold PEM certificates, \`keyFile\` an unencrypted PEM private key matching \`certFile\`; \`metrics.textfileDirectory\` must be a writable directory. It warns (exit 0) about a password, token or key file readable by group or others, \`rejectUnauthorized: false\`, a Consul token or Jolokia password sent over plain http to another machine, an expired client certificate, and a nodetool that is not in PATH.

## VALUES

* duration:
  A string of numbers with units \`ms\`, \`s\`, \`m\`, \`h\`, \`d\`, \`w\`: \`90s\`, \`30m\`, \`7d\`, \`1h30m\`. Every duration key accepts the range shown with it (\`10s to 7d\`), and a value outside it is an error naming the range: zero is never accepted, and no key that sets a timer goes near Node's timer limit of about 24.8 days.
* size:
  A number with a unit \`B\`, \`KiB\`, \`MiB\`, \`GiB\`, \`TiB\` (powers of 1024) or \`KB\`, \`MB\`, \`GB\`, \`TB\` (powers of 1000): \`200MiB\`. Size keys have a range too.
* host:
  A contact point is \`host\` or \`host:port\` (port 1-65535): an IPv4 address, a host name, or an IPv6 address in brackets (\`[::1]\`, \`[::1]:9042\`). No scheme, no path. \`executor.nodetool.host\` is a host alone.
* URL:
  \`http://\` or \`https://\` only, without credentials (\`http://user:secret@host\` is an error: a password goes in a \`passwordFile\`, a Consul token in \`lease.consul.tokenFile\`).
* path:
  A file system path; relative paths are relative to the working directory of tend.
* days:
  A list such as \`[mon, wed, fri]\` or text such as \`mon-fri\`, \`fri-mon\` (over the weekend), \`weekdays\`, \`weekends\`, \`daily\`; full day names work too. The same syntax as \`tend policy add --days\`.

## SECRETS

Passwords and tokens are never written in this file: a \`password\` or \`token\` key is an error. Each secret is read from the first line of a file named by a \`passwordFile\` or \`tokenFile\` key (make it readable only by the tend user), or, when that key is not set, from an environment variable: \`${SECRET_ENV.cassandraPassword}\`, \`${SECRET_ENV.consulToken}\`, \`${SECRET_ENV.jolokiaPassword}\`. The nodetool password file is passed to nodetool with \`-pwf\`.

## TABLE OVERRIDES

\`repair.tables\` is a list of entries, each with a \`match\` and any of the per-table keys. \`match\` is either an exact \`keyspace.table\` or a regular expression between slashes (\`/^metrics\\.raw_/\`) tested against \`keyspace.table\`. For a given table, an entry with an exact match wins over every regular expression; among regular expressions, the first matching entry in file order wins. Only that one entry applies (entries are not merged); keys it leaves out come from the \`repair\` section. \`enabled: false\` excludes the matched tables from repair and from alarms.

## TIME WINDOWS

When \`schedule.windows\` is not empty, a tick starts new tasks only inside one of the windows (tasks already running are not stopped). A window whose \`end\` is earlier than its \`start\` runs past midnight and belongs to the day it opens on.

## KEYS

${sectionsMarkdown}

## CROSS-FIELD RULES

* \`lease.renewEvery\` must be shorter than \`lease.ttl\` (a warning when more than half of it).
* \`repair.alarm.warn\` must be shorter than \`repair.alarm.error\`, and \`repair.interval\` shorter than \`repair.alarm.error\` (also per table override), where both are set. Left unset, they follow each table's gc_grace_seconds (error = gc_grace_seconds, warn 80% and interval 70% of the error alarm), in order by construction; a configured error alarm longer than a table's gc_grace_seconds is warned about when a command plans.
* \`repair.historyLookback\` must be longer than \`repair.interval\`.
* \`repair.historyLookback\` must be at least \`repair.alarm.error\`.
* \`repair.retry.initialBackoff\` must not exceed \`repair.retry.maxBackoff\`.
* With \`lease.backend: consul\`, \`lease.ttl\` and \`lease.announcementTtl\` must be at least 20s (tend asks Consul for sessions of half of them, and Consul's minimum is 10s), and \`lease.renewEvery\` shorter than half of \`lease.ttl\`.
* When the first contact point is a host name, \`cassandra.localDatacenter\` and \`node.address\` (or \`node.hostId\`) are required: the driver and Cassandra know nodes only by address, so tend can neither ask that node for its datacenter nor recognise it as the node it acts for. An IPv6 first contact point needs \`cassandra.localDatacenter\` for the same reason.
* TLS \`certFile\` and \`keyFile\` go together; \`executor.jolokia.url\` must be https when its tls is set.
* \`executor.nodetool.user\` and \`executor.nodetool.passwordFile\` go together.
* \`node.hostId\` and \`node.address\` exclude each other.
* \`repair.tables\` entries must not repeat a \`match\`.

## EXAMPLE

${example}

## SEE ALSO

tend(8)
`;
}

/** Render ronn-style markdown to roff. */
export function renderMan(markdown: string, version: string): string {
  const marked = new Marked();
  // marked-man reads its man-page settings from the marked options object.
  const options: Record<string, unknown> = { ...markedMan, date: MAN_DATE, manVersion: version, manual: 'tend manual' };
  marked.use(options);
  return toRoffAscii(marked.parse(markdown, { async: false }) as string);
}

/** Non-ASCII characters as roff escapes, so the page renders the same without preconv and groff stays quiet. */
function toRoffAscii(roff: string): string {
  const escapes: Record<string, string> = {
    '—': '\\(em',
    '–': '\\(en',
    '×': '\\(mu',
    '’': "'",
    '…': '...',
    '→': '\\(->',
  };
  return roff.replace(
    /[^\u0020-\u007e\n\t]/g,
    (char) => escapes[char] ?? `\\[u${char.codePointAt(0)?.toString(16).toUpperCase().padStart(4, '0')}]`,
  );
}
