/**
 * The one schema of tend.yml: types, defaults and the text of every key's documentation.
 *
 * tend.yml(5), `config show` and the unknown-key suggestions are all generated from this file (via
 * `configJsonSchema()`), so a key documented anywhere is a key that exists here. Durations and sizes are written
 * as strings in the file and come out of validation as milliseconds and bytes.
 *
 * Secrets never live in this file's shape: every password or token is read from a file named here
 * (`passwordFile`, `tokenFile`) or from the environment (TEND_CASSANDRA_PASSWORD, TEND_CONSUL_TOKEN,
 * TEND_JOLOKIA_PASSWORD). A `password:` key is rejected by validation with a pointer to the file option.
 */
import { z } from 'zod';
import {
  DURATION_PATTERN,
  SIZE_PATTERN,
  describeDurationRange,
  parseDuration,
  parseSize,
  formatDuration,
  formatSize,
  type DurationRange,
} from './units.js';
import {
  DURATION_RANGES,
  FREE_DISK_PERCENT_RANGE,
  PENDING_COMPACTIONS_RANGE,
  SIZE_TARGET_RANGE,
  SMALL_TABLE_SIZE_RANGE,
  SSTABLES_RANGE,
  TIMER_MAX_MS,
} from './ranges.js';
import { ALARM_WARN_SHARE, INTERVAL_SHARE } from './schedule-defaults.js';
import { checkHttpUrl, parseContactPoint, parseHost, redactUrl, type HttpUrlRules } from './network.js';

/** Extra JSON-schema keyword telling docs and `config show` how to present a value. */
export const KIND_KEY = 'x-tend-kind';
export type ValueKind = 'duration' | 'size' | 'path' | 'secret-file' | 'days' | 'percent';
/** Extra JSON-schema keyword: the accepted range of a duration (ms) or size (bytes), both ends included. */
export const RANGE_KEY = 'x-tend-range';

export { DURATION_RANGES, SIZE_TARGET_RANGE, SMALL_TABLE_SIZE_RANGE, TIMER_MAX_MS };

function found(input: unknown): string {
  if (input === undefined) return 'nothing';
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'a list';
  if (typeof input === 'object') return 'a mapping';
  if (typeof input === 'string') return `"${input.length > 60 ? `${input.slice(0, 57)}...` : input}"`;
  return `${typeof input} ${String(input)}`;
}

/**
 * An error function producing `expected X, found Y`. Validation strips the found part for secret-ish paths
 * (see validate.ts), so a mistyped secret is never echoed.
 */
export function expected(what: string) {
  return (issue: { input?: unknown }) => `expected ${what}, found ${found(issue.input)}`;
}

export { found as describeFound };

/** A custom issue saying `expected …, found …` (the path is added by validation). */
function refuse(context: z.core.$RefinementCtx, input: unknown, message: string): typeof z.NEVER {
  context.addIssue({ code: 'custom', input, message });
  return z.NEVER;
}

const DURATION_EXAMPLE = 'a duration like 90s, 30m or 7d';

/** Milliseconds within `range`; out of range says so with both ends (`expected a duration between 10s and 7d`). */
function durationText(range: DurationRange) {
  const inRange = `a duration ${describeDurationRange(range)}`;
  return z
    .string({ error: expected(`${DURATION_EXAMPLE} (${describeDurationRange(range)})`) })
    .transform((value, context): number => {
      if (!DURATION_PATTERN.test(value.trim()))
        return refuse(context, value, expected(DURATION_EXAMPLE)({ input: value }));
      const ms = parseDuration(value);
      if (ms === undefined || ms < range.min || ms > range.max)
        return refuse(context, value, expected(inRange)({ input: value }));
      return ms;
    });
}

function duration(description: string, defaultValue: string, range: DurationRange) {
  return durationText(range)
    .prefault(defaultValue)
    .meta({ description, [KIND_KEY]: 'duration', [RANGE_KEY]: range });
}

function optionalDuration(description: string, range: DurationRange) {
  return durationText(range)
    .optional()
    .meta({ description, [KIND_KEY]: 'duration', [RANGE_KEY]: range });
}

function sizeText(range: { min: number; max: number }) {
  const between = `between ${formatSize(range.min)} and ${formatSize(range.max)}`;
  return z.string({ error: expected(`a size like 200MiB or 1GB (${between})`) }).transform((value, context): number => {
    if (!SIZE_PATTERN.test(value.trim()))
      return refuse(context, value, expected('a size like 200MiB or 1GB')({ input: value }));
    const bytes = parseSize(value);
    if (bytes === undefined || bytes < range.min || bytes > range.max) {
      return refuse(context, value, expected(`a size ${between}`)({ input: value }));
    }
    return bytes;
  });
}

function path(description: string, kind: ValueKind = 'path') {
  return z
    .string({ error: expected('a file path') })
    .min(1, { error: expected('a non-empty file path') })
    .optional()
    .meta({ description, [KIND_KEY]: kind });
}

function text(description: string) {
  return z
    .string({ error: expected('a string') })
    .min(1, { error: expected('a non-empty string') })
    .optional()
    .meta({ description });
}

function contactPoint() {
  return z
    .string({ error: expected('a host or host:port like 10.0.0.1, cass1.example.com:9042 or [::1]:9042') })
    .superRefine((value, context) => {
      const parsed = parseContactPoint(value);
      if ('reason' in parsed)
        refuse(context, value, `${expected('a host or host:port')({ input: value })}: ${parsed.reason}`);
    });
}

/** An http(s) URL; a URL carrying credentials is refused without echoing them. */
function httpUrl(example: string, rules: HttpUrlRules) {
  const what = `an http:// or https:// URL like ${example}`;
  return z.string({ error: expected(what) }).superRefine((value, context) => {
    const checked = checkHttpUrl(value, rules);
    if (!('reason' in checked)) return;
    const shown = redactUrl(value);
    refuse(context, shown, `${expected(what)({ input: shown })}: ${checked.reason}`);
  });
}

function port(description: string, defaultValue: number) {
  return z
    .number({ error: expected('a port number') })
    .int({ error: expected('a whole port number') })
    .min(1, { error: expected('a port between 1 and 65535') })
    .max(65535, { error: expected('a port between 1 and 65535') })
    .default(defaultValue)
    .meta({ description });
}

function positiveInt(description: string, defaultValue: number) {
  return z
    .number({ error: expected('a whole number of at least 1') })
    .int({ error: expected('a whole number of at least 1') })
    .min(1, { error: expected('a whole number of at least 1') })
    .default(defaultValue)
    .meta({ description });
}

/** A whole number within `range` (both ends included); every refusal names the range. */
function wholeNumber(description: string, defaultValue: number, range: { min: number; max: number }) {
  const error = expected(`a whole number between ${range.min} and ${range.max}`);
  return z
    .number({ error })
    .int({ error })
    .min(range.min, { error })
    .max(range.max, { error })
    .default(defaultValue)
    .meta({ description });
}

function choice<const T extends readonly [string, ...string[]]>(
  values: T,
  description: string,
  defaultValue: T[number],
) {
  return z
    .enum(values, { error: expected(`one of ${values.join(', ')}`) })
    .default(defaultValue as never)
    .meta({ description });
}

/** A strict mapping whose absence means "all defaults". */
function section<T extends z.core.$ZodLooseShape>(shape: T, description: string) {
  return (
    z
      .strictObject(shape, { error: expected('a mapping') })
      // Every key of a section has a default or is optional, so {} is always a valid input.
      .prefault({} as never)
      .meta({ description })
  );
}

const tlsShape = {
  caFile: path('PEM file with the CA certificate(s) to trust; default: the system trust store.'),
  certFile: path('PEM client certificate for mutual TLS; requires keyFile.'),
  keyFile: path('PEM private key for certFile.', 'secret-file'),
  rejectUnauthorized: z
    .boolean({ error: expected('true or false') })
    .default(true)
    .meta({ description: 'Verify the server certificate. Turn off only to diagnose, never in production.' }),
};

function tls(description: string) {
  return z
    .strictObject(tlsShape, { error: expected('a mapping') })
    .optional()
    .meta({ description });
}

const IDENTIFIER = /^[A-Za-z][A-Za-z0-9_]{0,47}$/;
/** Cassandra's and DataStax's own keyspaces (the same list topology.ts never schedules). */
const SYSTEM_KEYSPACE = /^(system|system_\w*|dse_\w*|solr_admin|cfs|cfs_archive|opscenter)$/i;

export const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Day = (typeof DAYS)[number];

const DAY_GROUPS: Record<string, readonly Day[]> = {
  daily: DAYS,
  weekdays: ['mon', 'tue', 'wed', 'thu', 'fri'],
  weekends: ['sat', 'sun'],
};

const FULL_DAY_NAMES: Record<string, Day> = {
  monday: 'mon',
  tuesday: 'tue',
  wednesday: 'wed',
  thursday: 'thu',
  friday: 'fri',
  saturday: 'sat',
  sunday: 'sun',
};

function dayOf(word: string): Day | undefined {
  const lower = word.trim().toLowerCase();
  return DAYS.find((day) => day === lower) ?? FULL_DAY_NAMES[lower];
}

/**
 * The same day syntax as \`tend policy add --days\`: \`[mon, tue]\`, \`mon-fri\`, \`fri-mon\` (wraps over the weekend),
 * \`weekdays\`, \`weekends\`, \`daily\`, full names, comma lists. Week order, no duplicates; undefined when invalid.
 */
export function parseDays(input: string | readonly string[]): Day[] | undefined {
  const parts = (typeof input === 'string' ? [input] : input).flatMap((item) => item.split(','));
  const days = new Set<Day>();
  for (const raw of parts) {
    const part = raw.trim().toLowerCase();
    const group = DAY_GROUPS[part];
    if (group) {
      for (const day of group) days.add(day);
      continue;
    }
    const ends = part.split('-');
    if (ends.length === 2) {
      const from = dayOf(ends[0] as string);
      const to = dayOf(ends[1] as string);
      if (!from || !to) return undefined;
      for (let index = DAYS.indexOf(from); ; index = (index + 1) % 7) {
        days.add(DAYS[index] as Day);
        if (DAYS[index] === to) break;
      }
    } else {
      const day = ends.length === 1 ? dayOf(part) : undefined;
      if (!day) return undefined;
      days.add(day);
    }
  }
  return days.size ? DAYS.filter((day) => days.has(day)) : undefined;
}

const DAYS_EXPECTED = 'days like [mon, tue], mon-fri, weekdays, weekends or daily';

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const timeOfDay = (description: string) =>
  z
    .string({ error: expected('a time of day like 22:00') })
    .regex(/^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$/, { error: expected('a time of day like 22:00 (00:00 to 24:00)') })
    .meta({ description });

const windowSchema = z
  .strictObject(
    {
      days: z
        .union([z.string(), z.array(z.string())], { error: expected(DAYS_EXPECTED) })
        .transform((value, context): Day[] => {
          const days = parseDays(value);
          if (days) return days;
          context.addIssue({ code: 'custom', input: value, message: expected(DAYS_EXPECTED)({ input: value }) });
          return z.NEVER;
        })
        .prefault('daily')
        .meta({
          description:
            'Days the window opens on (the day of `start`), e.g. `[mon, wed]` or `mon-fri`. Default: every day.',
          [KIND_KEY]: 'days',
        }),
      start: timeOfDay('Opening time, HH:MM in `timezone`.'),
      end: timeOfDay('Closing time, HH:MM; earlier than start means the window runs past midnight.'),
      timezone: z
        .string({ error: expected('an IANA time zone like Europe/Berlin') })
        .refine(isTimeZone, { error: expected('an IANA time zone like Europe/Berlin') })
        .default('UTC')
        .meta({ description: 'IANA time zone of start and end.' }),
    },
    { error: expected('a mapping with days, start and end') },
  )
  .meta({ description: 'A time window in which new repair tasks may start.' });

/** `keyspace.table` exactly, or `/regex/` matched against `keyspace.table`. */
function isTableMatcher(value: string): boolean {
  if (value.length > 2 && value.startsWith('/') && value.endsWith('/')) {
    try {
      new RegExp(value.slice(1, -1));
      return true;
    } catch {
      return false;
    }
  }
  const parts = value.split('.');
  return parts.length === 2 && parts.every((part) => IDENTIFIER.test(part));
}

const alarmOverride = z
  .strictObject(
    {
      warn: optionalDuration('Warn when a table was last fully repaired longer ago than this.', DURATION_RANGES.alarm),
      error: optionalDuration('Alarm (exit 7 from `schedule status --check`) beyond this.', DURATION_RANGES.alarm),
    },
    { error: expected('a mapping') },
  )
  .optional()
  .meta({ description: 'Alarm thresholds for the matched tables.' });

const REPAIR_TYPES = ['vnode', 'subrange', 'incremental'] as const;
const PARALLELISM = ['sequential', 'parallel', 'dc_parallel'] as const;

const tableOverride = z
  .strictObject(
    {
      match: z
        .string({ error: expected('`keyspace.table` or `/regex/`') })
        .refine(isTableMatcher, {
          error: expected('`keyspace.table` or a valid `/regex/` matched against keyspace.table'),
        })
        .meta({
          description:
            'Exact `keyspace.table`, or `/regex/` tested against `keyspace.table`. Both are case-sensitive, as Cassandra stores names: write a name as `DESCRIBE` or `system_schema.tables` shows it, which is lower case unless the name was written in double quotes when the table was created.',
        }),
      enabled: z
        .boolean({ error: expected('true or false') })
        .default(true)
        .meta({ description: 'false: never repair the matched tables (and never alarm on them).' }),
      interval: optionalDuration('Repair interval for the matched tables.', DURATION_RANGES.interval),
      alarm: alarmOverride,
      skipGcGraceZero: z
        .boolean({ error: expected('true or false') })
        .optional()
        .meta({ description: 'repair.skipGcGraceZero for the matched tables.' }),
      skipTwcs: z
        .boolean({ error: expected('true or false') })
        .optional()
        .meta({ description: 'repair.skipTwcs for the matched tables.' }),
      type: z
        .enum(REPAIR_TYPES, { error: expected(`one of ${REPAIR_TYPES.join(', ')}`) })
        .optional()
        .meta({ description: 'Repair type for the matched tables.' }),
      parallelism: z
        .enum(PARALLELISM, { error: expected(`one of ${PARALLELISM.join(', ')}`) })
        .optional()
        .meta({ description: 'Repair parallelism for the matched tables.' }),
      sizeTarget: sizeText(SIZE_TARGET_RANGE)
        .optional()
        .meta({
          description: 'Sub-range size target for the matched tables.',
          [KIND_KEY]: 'size',
          [RANGE_KEY]: SIZE_TARGET_RANGE,
        }),
      taskTimeout: optionalDuration('Task timeout for the matched tables.', DURATION_RANGES.taskTimeout),
      weight: z
        .number({ error: expected('a positive number') })
        .positive({ error: expected('a positive number') })
        .optional()
        .meta({ description: 'Priority weight for the matched tables.' }),
    },
    { error: expected('a mapping with a `match` key') },
  )
  .meta({ description: 'Settings for the tables a `match` selects.' });

export const cassandraSchema = section(
  {
    contactPoints: z
      .array(contactPoint(), { error: expected('a list of host names or addresses') })
      .min(1, { error: expected('at least one contact point') })
      .default(['127.0.0.1'])
      .meta({
        description:
          'Nodes the driver connects to first: `host` or `host:port` (port 1-65535, default `port`); IPv6 addresses in brackets, `[::1]` or `[::1]:9042`. When the first one is a host name rather than an address, set `localDatacenter` and `node.address` (or `node.hostId`) too.',
      }),
    localDatacenter: text(
      'Datacenter the driver treats as local. Default: the datacenter of the node at the first contact point, which must then be an IPv4 address (the driver knows nodes only by address).',
    ),
    port: port('Native protocol (CQL) port.', 9042),
    auth: z
      .strictObject(
        {
          username: z
            .string({ error: expected('a user name') })
            .min(1, { error: expected('a user name') })
            .meta({ description: 'Cassandra role tend logs in as.' }),
          passwordFile: path(
            'File holding the password (first line). Alternative: TEND_CASSANDRA_PASSWORD.',
            'secret-file',
          ),
        },
        { error: expected('a mapping with username and passwordFile') },
      )
      .optional()
      .meta({ description: 'Password authentication; omit when the cluster uses AllowAllAuthenticator.' }),
    tls: tls('Client-to-node encryption; present means enabled.'),
    keyspace: z
      .string({ error: expected('a keyspace name') })
      .regex(IDENTIFIER, { error: expected('a keyspace name (a letter, then up to 47 letters, digits or _)') })
      .refine((value) => !SYSTEM_KEYSPACE.test(value), {
        error: (issue) =>
          `${expected("a keyspace of tend's own")(issue)}: a system keyspace belongs to Cassandra, and tend would create its tables in it`,
      })
      .default('tend')
      .meta({ description: "Keyspace holding tend's own tables (see `tend schema print`); not a system keyspace." }),
    replication: z
      .record(
        z.string(),
        z
          .number({ error: expected('a replication factor') })
          .int({ error: expected('a whole replication factor') })
          .min(1, { error: expected('a replication factor of at least 1') }),
        { error: expected('a mapping of datacenter to replication factor') },
      )
      .optional()
      .meta({
        description:
          "Replication of tend's keyspace (NetworkTopologyStrategy), datacenter: factor. Default: 3 in localDatacenter.",
      }),
    connectTimeout: duration('Timeout for establishing a connection.', '5s', DURATION_RANGES.connectTimeout),
    requestTimeout: duration(
      "Timeout for one CQL request, and for one Consul HTTP request. At least 1s: Cassandra's own request timeouts are seconds.",
      '12s',
      DURATION_RANGES.requestTimeout,
    ),
  },
  'How to reach the cluster.',
);

export const nodeSchema = section(
  {
    hostId: z
      .uuid({ error: expected('a host ID (UUID, see `nodetool info`)') })
      .optional()
      .meta({ description: 'Host ID of the node tend acts for.' }),
    address: text('Broadcast RPC address of the node tend acts for.'),
    name: text('Name this tend instance uses as lease holder and in history. Default: the host name.'),
  },
  'Which node tend acts for. Default: the node at the first contact point (tend runs next to it).',
);

/** A Jolokia URL template: http(s), with `{address}` standing for each covered node's address. */
function jolokiaTemplate(description: string) {
  const what = 'an http:// or https:// URL with {address}, like https://{address}:8778/jolokia/';
  return z
    .string({ error: expected(what) })
    .superRefine((value, context) => {
      if (!value.includes('{address}')) {
        refuse(
          context,
          value,
          `${expected(what)({ input: redactUrl(value) })}: without {address} every node would be repaired through one agent`,
        );
        return;
      }
      const checked = checkHttpUrl(value.replaceAll('{address}', 'node.invalid'), {
        credentialsGo: 'set executor.jolokia.user and executor.jolokia.passwordFile (or TEND_JOLOKIA_PASSWORD)',
      });
      if ('reason' in checked)
        refuse(context, redactUrl(value), `${expected(what)({ input: redactUrl(value) })}: ${checked.reason}`);
    })
    .optional()
    .meta({ description });
}

function hostTemplate(description: string) {
  return z
    .string({ error: expected('a host name or address, or {address}') })
    .superRefine((value, context) => {
      const parsed = parseHost(value.replaceAll('{address}', 'node.invalid'));
      if ('reason' in parsed) {
        refuse(
          context,
          value,
          `${expected('a host name or address, or {address}')({ input: value })}: ${parsed.reason}`,
        );
      }
    })
    .optional()
    .meta({ description });
}

const RACK_PATTERN = /^[^:\s]+:[^:\s]+$/;
const HOST_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const nodeEndpoint = z
  .strictObject(
    {
      jolokiaUrl: httpUrl('https://10.0.0.1:8778/jolokia/', {
        credentialsGo: 'set executor.jolokia.user and executor.jolokia.passwordFile (or TEND_JOLOKIA_PASSWORD)',
      })
        .optional()
        .meta({ description: "This node's Jolokia agent (executor.type jolokia).", format: 'uri' }),
      nodetoolHost: hostTemplate("This node's JMX host, passed to nodetool as -h (executor.type nodetool)."),
      nodetoolPort: z
        .number({ error: expected('a port number') })
        .int({ error: expected('a whole port number') })
        .min(1, { error: expected('a port between 1 and 65535') })
        .max(65535, { error: expected('a port between 1 and 65535') })
        .optional()
        .meta({ description: "This node's JMX port. Default: executor.nodetool.port." }),
    },
    { error: expected('a mapping with jolokiaUrl, nodetoolHost or nodetoolPort') },
  )
  .meta({ description: 'Where one node is reached.' });

/**
 * `nodes:`: tend acting for a group of nodes from one host (ecChronos's agent mode). Absent: tend acts for one node
 * (`node:`). Validated here for what one file can show; the overlaps only the topology shows (a host listed by
 * address and by host id, two instances claiming a node) are found when a tick resolves the group.
 */
export const nodesSchema = z
  .strictObject(
    {
      instance: z
        .string({ error: expected('an instance name like dc1-agent') })
        .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, {
          error: expected('an instance name like dc1-agent (letters, digits, ".", "_", "-"; at most 64)'),
        })
        .meta({
          description:
            "This instance's name, unique in the cluster: the lease holder, and the name in the coverage record (which instance covers which node).",
        }),
      datacenters: z
        .array(z.string({ error: expected('a datacenter name') }).min(1, { error: expected('a datacenter name') }), {
          error: expected('a list of datacenter names'),
        })
        .optional()
        .meta({ description: 'Act for every node of these datacenters (ecChronos datacenterAware).' }),
      racks: z
        .array(
          z
            .string({ error: expected('a rack as DATACENTER:RACK, like dc1:rack1') })
            .regex(RACK_PATTERN, { error: expected('a rack as DATACENTER:RACK, like dc1:rack1') }),
          { error: expected('a list of racks as DATACENTER:RACK') },
        )
        .optional()
        .meta({ description: 'Act for every node of these racks, each `DATACENTER:RACK` (ecChronos rackAware).' }),
      hosts: z
        .array(
          z.string({ error: expected('a node address or host id') }).superRefine((value, context) => {
            if (HOST_ID_PATTERN.test(value)) return;
            const parsed = parseHost(value);
            if ('reason' in parsed) {
              refuse(context, value, `${expected('a node address or host id')({ input: value })}: ${parsed.reason}`);
            }
          }),
          { error: expected('a list of node addresses or host ids') },
        )
        .optional()
        .meta({ description: 'Act for these nodes, each by broadcast RPC address or host id (ecChronos hostAware).' }),
      jolokiaUrl: jolokiaTemplate(
        "Each node's Jolokia agent, {address} standing for its address (executor.type jolokia); user, password and TLS are executor.jolokia's. Default: executor.jolokia.url with its host replaced by {address}. Over the network: https with executor.jolokia.tls and a user.",
      ),
      nodetoolHost: hostTemplate(
        "Each node's JMX host for nodetool -h, {address} standing for its address (executor.type nodetool). Default: {address}; the port is executor.nodetool.port. Over the network: JMX with authentication (executor.nodetool.user) and TLS.",
      ),
      endpoints: z
        .record(z.string(), nodeEndpoint, { error: expected('a mapping of node address or host id to its endpoint') })
        .default({})
        .meta({
          description:
            'Endpoints of single nodes, by address or host id, in place of the templates (a node behind NAT, an agent on another port).',
        }),
    },
    { error: expected('a mapping with instance and one of datacenters, racks or hosts') },
  )
  .optional()
  .meta({
    description:
      "Act for a group of nodes from one host instead of one node (`node:`): the nodes of datacenters, racks or a host list. Each repair runs through its node's Jolokia agent or JMX port, reached over the network.",
  });

export const repairSchema = section(
  {
    interval: optionalDuration(
      `Repair every table at least this often. Default: per table, ${INTERVAL_SHARE * 100}% of its error alarm (7d for Cassandra's default gc_grace_seconds of 10 days), leaving time for retries before the alarm. Shorter than the timer period means: due at every tick.`,
      DURATION_RANGES.interval,
    ),
    alarm: section(
      {
        warn: optionalDuration(
          `Warn when a table was last fully repaired longer ago than this. Default: per table, ${ALARM_WARN_SHARE * 100}% of its error alarm (8d for gc_grace_seconds of 10 days).`,
          DURATION_RANGES.alarm,
        ),
        error: optionalDuration(
          "Alarm (exit 7 from `schedule status --check`) beyond this. Default: per table, its gc_grace_seconds (past it, deleted data may come back), at most repair.historyLookback. A value set here applies to every table whatever its gc_grace_seconds; tend warns when it is longer than a table's.",
          DURATION_RANGES.alarm,
        ),
      },
      "Alarm thresholds on the age of the oldest repaired range of a table. Unset, they follow each table's gc_grace_seconds.",
    ),
    skipGcGraceZero: z
      .boolean({ error: expected('true or false') })
      .default(true)
      .meta({
        description:
          'Do not repair tables with gc_grace_seconds = 0 (listed as SKIPPED, gc_grace_zero): their tombstones are purged at the first compaction, so repair cannot stop deleted data from coming back, which is what the schedule is for. false: repair them on repair.interval and alarm on repair.alarm (set both: the gc_grace defaults do not apply).',
      }),
    skipTwcs: z
      .boolean({ error: expected('true or false') })
      .default(false)
      .meta({
        description:
          'Do not repair tables that use TimeWindowCompactionStrategy (SKIPPED, twcs), like ecChronos ignore_twcs_tables and Reaper blacklistTwcsTables. Right for time series written once with a TTL, never updated or deleted early, read at a consistency that tolerates a missed write: repair would mix old and new data into the same SSTables and keep whole windows from expiring. Wrong when rows are deleted, or written at ONE and read at QUORUM.',
      }),
    backPressure: section(
      {
        enabled: z
          .boolean({ error: expected('true or false') })
          .default(true)
          .meta({ description: 'Postpone a task while one of its replicas is past a limit below.' }),
        maxPendingCompactions: wholeNumber(
          "Postpone while a replica has more pending compactions than this (JMX Compaction.PendingTasks through Jolokia, what `nodetool compactionstats` shows). 20 is Reaper's default: a node that far behind turns every repair's streamed SSTables into more backlog.",
          20,
          PENDING_COMPACTIONS_RANGE,
        ),
        maxSSTables: wholeNumber(
          "Postpone while one of the task's tables has more live SSTables than this on a replica (JMX LiveSSTableCount): validation opens every SSTable. 50,000 is AutoRepair's sstable_upper_threshold in 5.0; a leveled table of 160MiB SSTables reaches it at about 7.6TiB on one node, so it trips on a compaction backlog, not on size.",
          50_000,
          SSTABLES_RANGE,
        ),
        minFreeDisk: z
          .string({ error: expected('a percentage like 10%') })
          .transform((value, context): number => {
            const match = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(value);
            const percent = match ? Number(match[1]) : NaN;
            if (!(percent >= FREE_DISK_PERCENT_RANGE.min && percent <= FREE_DISK_PERCENT_RANGE.max)) {
              return refuse(context, value, expected('a percentage between 0% and 90%, like 10%')({ input: value }));
            }
            return percent / 100;
          })
          .prefault('10%')
          .meta({
            description:
              "Postpone while the node tend runs on has less than this share of its data directories' file system free (0% turns the check off); every replica is also held back while Cassandra itself reports its disks STUFFED or FULL (the guardrails data_disk_usage_percentage_warn_threshold and _fail_threshold, gossiped by every node). 10%: repair streams and anticompaction write new SSTables before old ones go, and a Cassandra node that fills its disk stops.",
            [KIND_KEY]: 'percent',
          }),
        jolokiaUrl: z
          .string({ error: expected('an http:// or https:// URL with {address}, like http://{address}:8778/jolokia/') })
          .refine((value) => value.includes('{address}') && /^https?:\/\//.test(value), {
            error: expected('an http:// or https:// URL with {address}, like http://{address}:8778/jolokia/'),
          })
          .optional()
          .meta({
            description:
              "Where each replica's Jolokia agent answers, {address} standing for the replica's address; user, password and TLS are executor.jolokia's. Default: executor.jolokia.url with its host replaced by {address}. Without an agent on a replica its compaction backlog is the compaction executor's running and queued tasks (system_views.thread_pools, a lower bound) and its SSTable count is unknown.",
          }),
      },
      'Postpone a task while one of its replicas is overloaded. Figures that cannot be measured never postpone; they are listed by `schedule plan --explain`.',
    ),
    type: choice(
      REPAIR_TYPES,
      'vnode: one task per vnode range; subrange: split ranges to sizeTarget; incremental: incremental repair.',
      'vnode',
    ),
    parallelism: choice(
      PARALLELISM,
      'Validation parallelism passed to Cassandra (nodetool -seq / -dcpar / default parallel).',
      'parallel',
    ),
    sizeTarget: sizeText(SIZE_TARGET_RANGE)
      .prefault('200MiB')
      .meta({
        description:
          'For type subrange: split ranges so each task covers about this much data. At least 1MiB: a smaller piece costs Cassandra more to set up than the data it compares.',
        [KIND_KEY]: 'size',
        [RANGE_KEY]: SIZE_TARGET_RANGE,
      }),
    smallTableSize: sizeText(SMALL_TABLE_SIZE_RANGE)
      .prefault('1GiB')
      .meta({
        description:
          "Tables holding at most this much on the node (Cassandra's size estimates) are repaired whole, in one command without token ranges; a table without an estimate yet (new or empty) counts as small. 0B: every full repair goes range by range.",
        [KIND_KEY]: 'size',
        [RANGE_KEY]: SMALL_TABLE_SIZE_RANGE,
      }),
    tablesPerCommand: wholeNumber(
      'Due small tables of one keyspace with the same repair options share one repair command, up to this many tables (each still gets its own history record).',
      64,
      { min: 1, max: 256 },
    ),
    historyLookback: duration('How far back repair history is read.', '30d', DURATION_RANGES.historyLookback),
    taskTimeout: duration(
      'A task running longer is cancelled and recorded as failed.',
      '3h',
      DURATION_RANGES.taskTimeout,
    ),
    retry: section(
      {
        initialBackoff: duration('Wait before retrying a failed task the first time.', '5m', DURATION_RANGES.backoff),
        maxBackoff: duration('Upper bound of the doubling retry wait.', '6h', DURATION_RANGES.backoff),
      },
      'Backoff of failed tasks. Not used yet: the ranges of a failed task stay due, so the next tick plans them again.',
    ),
    weight: z
      .number({ error: expected('a positive number') })
      .positive({ error: expected('a positive number') })
      .default(1)
      .meta({ description: 'Priority multiplier: priority = (hours overdue + 1) × weight.' }),
    tables: z
      .array(tableOverride, { error: expected('a list of table overrides') })
      .default([])
      .meta({
        description:
          'Per-table overrides. An exact `keyspace.table` match beats every regex; among regexes the first in file order wins. Unset keys fall back to the repair section.',
      }),
  },
  'What to repair, how and how often.',
);

export const scheduleSchema = section(
  {
    maxTasks: positiveInt('A tick starts at most this many repair tasks.', 10),
    maxDuration: duration(
      'A tick starts no new task after running this long, counted from its start (planning included).',
      '1h',
      DURATION_RANGES.maxDuration,
    ),
    parallelTasks: wholeNumber(
      "With `nodes:` (a group tick): how many of the tick's tasks may run at once. Only tasks whose replica sets are disjoint run together (never two on one replica), each under its own leases (scope node: every replica; scope datacenter: a slot of its coordinator's datacenter each, so at most lease.slotsPerDatacenter per datacenter) and through its own node's executor; maxTasks and maxDuration still bound the whole tick. Must be 1 with `node:`: every task of a node's own tick includes that node, so no two are disjoint.",
      1,
      { min: 1, max: 64 },
    ),
    candidates: wholeNumber(
      "How many due tasks a node's tick plans, in priority order, of which it starts at most maxTasks. Before each claim the tick lists the leases once and tries the first planned task whose replicas nobody else holds; when every one is held it tries none and plans again after schedule.replan.pause. In a large cluster most first choices are replica sets another node is repairing: in bench/simulate (30 nodes in 3 DCs, 64 vnodes, 100 tables) the first full repair reached 0.559 of its lower bound with 100 candidates against 0.387 with 10 tried in plan order, with 2,351 lease operations per table instead of 51,834. Values below maxTasks count as maxTasks. A group tick (`nodes:`) plans maxTasks.",
      100,
      { min: 1, max: 1000 },
    ),
    windows: z
      .array(windowSchema, { error: expected('a list of windows') })
      .default([])
      .meta({ description: 'Tasks start only inside one of these windows; empty means any time.' }),
    replan: section(
      {
        enabled: z
          .boolean({ error: expected('true or false') })
          .default(true)
          .meta({
            description:
              'When another node holds (or outranks) the leases a task needs, the tick waits `pause`, plans again from a fresh read of the history and tries again, until maxTasks have started or maxDuration has passed; false: the tick ends and its next timer tries again. In a large cluster most ticks meet held leases: bench/simulate (6 nodes, 40 tables, 4 seeds) reached the lower bound of a first full repair 0.58–0.74 with it, 0.24–0.41 without.',
          }),
        pause: duration(
          "How long a tick waits after a refused lease before planning again. Each new plan reads the due tables' history again; shorter pauses take freed leases sooner for more reads.",
          '30s',
          DURATION_RANGES.replanPause,
        ),
      },
      'Planning again within a tick after a lease held elsewhere.',
    ),
    coverageTtl: optionalDuration(
      "How long a tick's claim on the nodes it acts for lasts (the coverage record: which instance covers which node). Each tick refreshes it at its start and end; a node no live claim covers is an alarm in `schedule status --check` (exit 7) and the metrics. Default: schedule.maxDuration + repair.taskTimeout + 15m (the longest healthy tick plus three 5-minute timer periods; 4h15m with the defaults).",
      DURATION_RANGES.coverageTtl,
    ),
  },
  'Bounds of one tick and when tasks may start.',
);

export const leaseSchema = section(
  {
    backend: choice(['cassandra', 'consul'], 'Where leases live: Cassandra LWT or Consul sessions.', 'cassandra'),
    scope: choice(
      ['datacenter', 'node'],
      'datacenter: slotsPerDatacenter concurrent tasks per DC; node: a lease on every replica a task touches.',
      'datacenter',
    ),
    slotsPerDatacenter: positiveInt('Concurrent repair tasks per datacenter (scope datacenter).', 1),
    perResource: positiveInt('Concurrent repair tasks one node may take part in (scope node).', 1),
    ttl: duration(
      'A lease not renewed for this long expires (and a crashed holder blocks others that long).',
      '10m',
      DURATION_RANGES.leaseTtl,
    ),
    renewEvery: duration('Heartbeat interval; must be shorter than ttl.', '1m', DURATION_RANGES.renewEvery),
    announcementTtl: duration(
      'How long a priority announcement stays visible to other nodes.',
      '10m',
      DURATION_RANGES.announcementTtl,
    ),
    consul: section(
      {
        address: httpUrl('http://127.0.0.1:8500', {
          credentialsGo: 'put the ACL token in lease.consul.tokenFile or TEND_CONSUL_TOKEN',
          noQuery: true,
        })
          .default('http://127.0.0.1:8500')
          .meta({ description: 'Consul HTTP API address: http or https, no credentials.', format: 'uri' }),
        tokenFile: path('File holding the ACL token. Alternative: TEND_CONSUL_TOKEN.', 'secret-file'),
        prefix: z
          .string({ error: expected('a KV prefix') })
          .default('tend/')
          .meta({
            description: 'KV prefix for lease keys (and, with this backend, the cluster-wide jobs: PREFIX/jobs/).',
          }),
        datacenter: text('Consul datacenter to use. Default: the agent’s.'),
        tls: tls('TLS to the Consul agent.'),
      },
      'Consul backend settings (lease.backend: consul).',
    ),
  },
  'Leases that bound how many repairs run at once.',
);

export const executorSchema = section(
  {
    type: choice(['nodetool', 'jolokia'], 'How repairs are started on the node.', 'nodetool'),
    nodetool: section(
      {
        path: z
          .string({ error: expected('a program path') })
          .min(1, { error: expected('a program path') })
          .default('nodetool')
          .meta({ description: 'nodetool executable (looked up in PATH unless absolute).', [KIND_KEY]: 'path' }),
        host: z
          .string({ error: expected('a host name or address') })
          .superRefine((value, context) => {
            const parsed = parseHost(value);
            if ('reason' in parsed) {
              refuse(context, value, `${expected('a host name or address')({ input: value })}: ${parsed.reason}`);
            }
          })
          .default('127.0.0.1')
          .meta({ description: 'JMX host (passed to nodetool as -h).' }),
        port: port('JMX port.', 7199),
        user: text('JMX user.'),
        passwordFile: path('JMX password file, passed as -pwf (never in argv).', 'secret-file'),
      },
      'nodetool executor settings.',
    ),
    jolokia: section(
      {
        url: httpUrl('http://127.0.0.1:8778/jolokia/', {
          credentialsGo: 'set executor.jolokia.user and executor.jolokia.passwordFile (or TEND_JOLOKIA_PASSWORD)',
        })
          .default('http://127.0.0.1:8778/jolokia/')
          .meta({
            description:
              'Jolokia agent URL: http or https, no credentials. Start the JVM agent with executor=fixed,threadNr=4: its default serves one request at a time, so while a job step blocks it nothing else (a job abort included) gets through.',
            format: 'uri',
          }),
        user: text('Basic-auth user.'),
        passwordFile: path('Basic-auth password file. Alternative: TEND_JOLOKIA_PASSWORD.', 'secret-file'),
        tls: tls('TLS (PEM) to the Jolokia agent; use an https URL.'),
      },
      'Jolokia executor settings.',
    ),
  },
  'How repair tasks are executed.',
);

function hook(event: string, example: string) {
  return z
    .strictObject(
      {
        command: z
          .array(z.string({ error: expected('a string') }).min(1, { error: expected('a non-empty string') }), {
            error: expected('the command as a list of arguments, like [/usr/local/bin/notify, --channel, ops]'),
          })
          .min(1, { error: expected('at least the program to run') })
          .meta({
            description: `The program and its arguments, as a list: run directly, never through a shell (quote nothing; ${example}). A program without a slash is looked up in PATH.`,
          }),
        timeout: duration(
          'The hook is stopped (SIGTERM, then SIGKILL 2s later) when it runs longer; the tick goes on.',
          '30s',
          DURATION_RANGES.hookTimeout,
        ),
      },
      { error: expected('a mapping with command (and timeout)') },
    )
    .optional()
    .meta({ description: event });
}

export const hooksSchema = section(
  {
    onTaskFailed: hook(
      'Runs when a repair task fails, times out or is aborted (one event per task).',
      'e.g. [/usr/bin/curl, -fsS, --data-binary, @-, https://hooks.example.com/tend]',
    ),
    onAlarm: hook(
      'Runs at the end of a tick in which tables are past their warn or error alarm (one event listing them all).',
      'e.g. [/usr/local/bin/page-oncall, --service, cassandra]',
    ),
    onLeaseBroken: hook(
      "Runs when this node's lease was lost or broken while it repaired (`tend lease release --force` elsewhere).",
      'e.g. [/usr/bin/logger, -t, tend-lease]',
    ),
    onTick: hook('Runs at the end of every tick, with its result.', 'e.g. [/usr/bin/logger, -t, tend]'),
  },
  'Commands run on events, each given the event as JSON on stdin and in TEND_EVENT_* environment variables. A hook that fails or hangs is logged and stopped at its timeout; it never fails the tick.',
);

export const metricsSchema = section(
  {
    textfileDirectory: path(
      'Directory of the node_exporter textfile collector; tend writes tend.prom there atomically. Unset: no metrics.',
    ),
  },
  'Prometheus metrics.',
);

export const logSchema = section(
  {
    level: choice(['debug', 'info', 'warn', 'error'], 'Lowest level logged (-v: debug, -q: warn).', 'info'),
    format: choice(
      ['auto', 'text', 'keyvalue'],
      'auto: human text on a terminal, key=value lines otherwise (systemd journal).',
      'auto',
    ),
  },
  'Diagnostics on stderr.',
);

/** Every section, in documentation order. */
export const sections = {
  cassandra: cassandraSchema,
  node: nodeSchema,
  nodes: nodesSchema,
  repair: repairSchema,
  schedule: scheduleSchema,
  lease: leaseSchema,
  executor: executorSchema,
  metrics: metricsSchema,
  hooks: hooksSchema,
  log: logSchema,
} as const;

export type SectionName = keyof typeof sections;

export const configSchema = z.strictObject(sections, { error: expected('a mapping of sections') });

/** The validated configuration: durations in milliseconds, sizes in bytes, every default filled in. */
export type TendConfig = z.output<typeof configSchema>;
export type RepairConfig = TendConfig['repair'];
export type TableOverride = RepairConfig['tables'][number];
export type BackPressureConfig = RepairConfig['backPressure'];
export type HooksConfig = TendConfig['hooks'];
export type NodesConfig = NonNullable<TendConfig['nodes']>;
export type HookConfig = NonNullable<HooksConfig['onTick']>;

/** JSON-schema view (input side: strings for durations) used by docs, `config show` and suggestions. */
export function configJsonSchema(): JsonSchemaNode {
  return z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchemaNode;
}

export interface JsonSchemaNode {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  properties?: Record<string, JsonSchemaNode>;
  additionalProperties?: boolean | JsonSchemaNode;
  items?: JsonSchemaNode;
  required?: string[];
  anyOf?: JsonSchemaNode[];
  format?: string;
  pattern?: string;
  [KIND_KEY]?: ValueKind;
  [RANGE_KEY]?: { min: number; max: number };
}

export { formatDuration, formatSize };
