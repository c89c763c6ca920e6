import { expect } from 'chai';
import { Output, colorAllowedByEnv, type OutputOptions } from '../../../src/output/output.js';
import { MemoryStream } from '../../../src/output/memory-stream.js';
import { isoTime, logfmt, relativeTime } from '../../../src/output/format.js';

const NOW = new Date('2026-11-21T12:00:00Z');

function make(tty: boolean, options: Partial<OutputOptions> = {}) {
  const stdout = new MemoryStream(tty);
  const stderr = new MemoryStream(tty);
  const out = new Output({ stdout, stderr, now: () => NOW, ...options });
  return { out, stdout, stderr };
}

interface Row {
  table: string;
  last: Date;
  late: boolean;
}
const rows: Row[] = [
  { table: 'app.users', last: new Date('2026-11-21T09:00:00Z'), late: false },
  { table: 'app.events', last: new Date('2026-11-10T12:00:00Z'), late: true },
];
const columns = [
  { header: 'TABLE', value: (row: Row) => row.table },
  { header: 'LAST REPAIRED', value: (row: Row) => row.last },
  { header: 'LATE', value: (row: Row) => (row.late ? 'yes' : 'no') },
];

describe('output: stdout carries data', () => {
  it('prints an aligned table with headers and relative times on a terminal', () => {
    const { out, stdout, stderr } = make(true, { colorAllowed: false });
    out.table(columns, rows);
    expect(stdout.text.split('\n')[0]).to.match(/^TABLE\s+LAST REPAIRED\s+LATE$/);
    expect(stdout.text).to.include('3h ago').and.include('11d ago');
    expect(stderr.text).to.equal('');
  });

  it('prints tab-separated rows without header and ISO-8601 UTC times when piped', () => {
    const { out, stdout } = make(false);
    out.table(columns, rows);
    expect(stdout.text).to.equal('app.users\t2026-11-21T09:00:00Z\tno\napp.events\t2026-11-10T12:00:00Z\tyes\n');
  });

  it('prints exactly one JSON document with --json, never the human form', () => {
    const { out, stdout } = make(true, { json: true });
    out.data({ tables: 2 }, () => out.table(columns, rows));
    expect(JSON.parse(stdout.text)).to.deep.equal({ tables: 2 });
    expect(() => out.writeJson({ again: true })).to.throw(/exactly one document/);
  });

  it('serialises BigInt tokens in JSON as strings', () => {
    const { out, stdout } = make(false, { json: true });
    out.writeJson({ start: -9223372036854775808n });
    expect(JSON.parse(stdout.text)).to.deep.equal({ start: '-9223372036854775808' });
  });

  it('uses colour only on a terminal and only when allowed', () => {
    const colored = make(true, { colorAllowed: true });
    colored.out.table(columns, rows);
    expect(colored.stdout.text).to.include('\u001b[');
    const plain = make(true, { colorAllowed: false });
    plain.out.table(columns, rows);
    expect(plain.stdout.text).to.not.include('\u001b[');
    const piped = make(false, { colorAllowed: true });
    piped.out.warn('careful');
    expect(piped.stderr.text).to.not.include('\u001b[');
  });
});

describe('output: stderr carries diagnostics', () => {
  it('writes key=value lines when stderr is not a terminal', () => {
    const { out, stdout, stderr } = make(false);
    out.info('tick finished', { tasks: 3, table: 'app.users', note: 'two words' });
    out.warn('lease held', { holder: 'node-2' });
    expect(stderr.text).to.equal(
      'level=info msg="tick finished" tasks=3 table=app.users note="two words"\nlevel=warn msg="lease held" holder=node-2\n',
    );
    expect(stdout.text).to.equal('');
  });

  it('writes readable text on a terminal', () => {
    const { out, stderr } = make(true, { colorAllowed: false });
    out.warn('lease held', { holder: 'node-2' });
    out.error('repair failed');
    expect(stderr.text).to.equal('warning: lease held holder=node-2\nerror: repair failed\n');
  });

  it('honours log.format over terminal detection', () => {
    const { out, stderr } = make(true, { logFormat: 'keyvalue' });
    out.info('hello');
    expect(stderr.text).to.equal('level=info msg=hello\n');
  });

  const levels: Array<{
    verbosity: OutputOptions['verbosity'];
    logLevel?: OutputOptions['logLevel'];
    shown: string[];
  }> = [
    { verbosity: 'normal', shown: ['info', 'warn', 'error'] },
    { verbosity: 'quiet', shown: ['warn', 'error'] },
    { verbosity: 'verbose', shown: ['debug', 'info', 'warn', 'error'] },
    { verbosity: 'normal', logLevel: 'error', shown: ['error'] },
    { verbosity: 'verbose', logLevel: 'error', shown: ['debug', 'info', 'warn', 'error'] },
  ];
  for (const testCase of levels) {
    it(`${testCase.verbosity}${testCase.logLevel ? ` with log.level ${testCase.logLevel}` : ''} shows ${testCase.shown.join(', ')}`, () => {
      const { out, stderr } = make(false, {
        verbosity: testCase.verbosity,
        ...(testCase.logLevel ? { logLevel: testCase.logLevel } : {}),
      });
      for (const level of ['debug', 'info', 'warn', 'error'] as const) out.log(level, level);
      const shown = stderr.text
        .trim()
        .split('\n')
        .map((line) => /level=(\w+)/.exec(line)?.[1]);
      expect(shown).to.deep.equal(testCase.shown);
    });
  }

  it('writes data as it is: no search-and-replace of secrets over the output', () => {
    // A password `tend` once turned `keyspace: tend` into `keyspace: [redacted]`, and a password `true` made
    // `config check --json` print `"valid": [redacted]`. Secrets are never put into output in the first place.
    const { out, stdout } = make(false);
    out.text('keyspace: tend');
    expect(stdout.text).to.equal('keyspace: tend\n');
  });
});

describe('output: spinners', () => {
  it('spins only on a terminal', async () => {
    const { out, stderr } = make(true);
    await out.prepareTerminal();
    const spinner = out.spinner('connecting');
    spinner.succeed('connected');
    await out.flush();
    expect(stderr.text).to.include('⠋ connecting').and.to.include('✔ connected');
  });

  it('without prepareTerminal (ora not loaded) a terminal gets the outcome as a log line', async () => {
    const { out, stderr } = make(true);
    out.spinner('connecting').succeed('connected');
    await out.flush();
    expect(stderr.text).to.equal('connected\n');
  });

  it('never spins with --json; the outcome is a log line', () => {
    const { out, stderr, stdout } = make(true, { json: true, colorAllowed: false });
    const spinner = out.spinner('connecting');
    spinner.succeed('connected');
    expect(stderr.text).to.equal('connected\n');
    expect(stdout.text).to.equal('');
  });

  it('never spins when piped; start is debug, outcome is info', () => {
    const { out, stderr } = make(false);
    const spinner = out.spinner('connecting');
    spinner.fail('connection refused');
    expect(stderr.text).to.equal('level=error msg="connection refused"\n');
  });
});

describe('output: times', () => {
  it('are relative to a given reference clock on a terminal, ISO when piped', () => {
    const clusterNow = Date.parse('2026-11-21T12:00:10Z');
    expect(make(true).out.time(Date.parse('2026-11-21T12:00:00Z'), clusterNow)).to.equal('10s ago');
    expect(make(false).out.time(Date.parse('2026-11-21T12:00:00Z'), clusterNow)).to.equal('2026-11-21T12:00:00Z');
  });
});

describe('output/format', () => {
  it('relative times', () => {
    expect(relativeTime(new Date('2026-11-21T11:59:30Z'), NOW)).to.equal('30s ago');
    expect(relativeTime(new Date('2026-11-23T12:00:00Z'), NOW)).to.equal('in 2d');
    expect(relativeTime(NOW, NOW)).to.equal('just now');
  });
  it('ISO-8601 UTC to the second', () => {
    expect(isoTime(new Date('2026-11-21T12:00:00.123Z'))).to.equal('2026-11-21T12:00:00Z');
  });
  it('logfmt quoting', () => {
    expect(logfmt({ a: 'x', b: 'has space', c: 'q"uote', d: undefined, e: '' })).to.equal(
      'a=x b="has space" c="q\\"uote" e=""',
    );
  });
  it('NO_COLOR, --no-color and TERM=dumb turn colour off', () => {
    expect(colorAllowedByEnv({}, true)).to.equal(true);
    expect(colorAllowedByEnv({ NO_COLOR: '1' }, true)).to.equal(false);
    expect(colorAllowedByEnv({ NO_COLOR: '' }, true)).to.equal(true);
    expect(colorAllowedByEnv({}, false)).to.equal(false);
    expect(colorAllowedByEnv({ TERM: 'dumb' }, true)).to.equal(false);
  });
});
