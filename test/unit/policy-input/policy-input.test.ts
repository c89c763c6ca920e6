/** Run-policy input: days, targets, windows, stored rows and --until, table-driven. */
import { expect } from 'chai';
import {
  formatDays,
  parseDays,
  parseJobWindow,
  parseTarget,
  parseUntil,
  parseWindowSpec,
  resolveUntil,
  toTimeWindow,
  windowFromRow,
  windowId,
} from '../../../src/app/policy-input.js';
import { evaluatePolicies, PolicyError } from '../../../src/core/index.js';
import { UsageError } from '../../../src/errors.js';

describe('policy input: days', () => {
  const cases: Array<[string, string[]]> = [
    ['mon', ['mon']],
    ['Mon,WED,fri', ['mon', 'wed', 'fri']],
    ['mon-fri', ['mon', 'tue', 'wed', 'thu', 'fri']],
    ['fri-mon', ['mon', 'fri', 'sat', 'sun']],
    ['weekdays', ['mon', 'tue', 'wed', 'thu', 'fri']],
    ['weekends', ['sat', 'sun']],
    ['daily', ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']],
    ['sunday,saturday', ['sat', 'sun']],
    ['mon-wed,tue-thu', ['mon', 'tue', 'wed', 'thu']],
    ['sun-sun', ['sun']],
  ];
  for (const [text, days] of cases) {
    it(`"${text}" → ${days.join(',')}`, () => expect(parseDays(text)).to.deep.equal(days));
  }
  for (const bad of ['', 'mon,', 'funday', 'mon-', 'mon-tue-wed', '1']) {
    it(`rejects "${bad}" as a usage error`, () => expect(() => parseDays(bad)).to.throw(UsageError));
  }
  const formats: Array<[string, string]> = [
    ['mon,tue,wed,thu,fri', 'mon-fri'],
    ['sat,sun', 'sat,sun'],
    ['mon,tue,wed,thu,fri,sat,sun', 'daily'],
    ['mon,wed,thu,fri,sun', 'mon,wed-fri,sun'],
  ];
  for (const [days, text] of formats) {
    it(`formats ${days} as ${text}`, () => expect(formatDays(parseDays(days))).to.equal(text));
  }
});

describe('policy input: targets', () => {
  const cases: Array<[string | undefined, object]> = [
    [undefined, {}],
    ['*', {}],
    ['shop', { keyspace: 'shop' }],
    ['shop.*', { keyspace: 'shop' }],
    ['shop.orders', { keyspace: 'shop', table: 'orders' }],
  ];
  for (const [text, target] of cases) {
    it(`${String(text)} → ${JSON.stringify(target)}`, () => expect(parseTarget(text)).to.deep.equal(target));
  }
  for (const bad of ['a.b.c', '.orders', 'shop.', 'sh op', 'shop.or-ders']) {
    it(`rejects "${bad}"`, () => expect(() => parseTarget(bad)).to.throw(UsageError, /KEYSPACE/));
  }
});

describe('policy input: windows', () => {
  it('validates and fills defaults: every day, UTC', () => {
    expect(parseWindowSpec({ action: 'block', start: '08:00', end: '18:00' })).to.deep.equal({
      action: 'block',
      days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'],
      start: '08:00',
      end: '18:00',
      timezone: 'UTC',
    });
  });

  it('keeps scope and datacenter', () => {
    const spec = parseWindowSpec({
      action: 'allow',
      target: 'shop.orders',
      datacenter: 'eu-west',
      days: 'sat,sun',
      start: '22:00',
      end: '06:00',
      timezone: 'Europe/Berlin',
    });
    expect(spec).to.include({ keyspace: 'shop', table: 'orders', datacenter: 'eu-west', timezone: 'Europe/Berlin' });
  });

  const bad: Array<[string, Record<string, string>, RegExp]> = [
    ['an unknown action', { action: 'deny', start: '08:00', end: '09:00' }, /block or allow/],
    ['a missing start', { action: 'block', end: '09:00' }, /--start is required/],
    ['a malformed start', { action: 'block', start: '8am', end: '09:00' }, /--start: "8am" is not a time of day/],
    ['an impossible end', { action: 'block', start: '08:00', end: '24:30' }, /--end/],
    ['an unknown zone', { action: 'block', start: '08:00', end: '09:00', timezone: 'Mars/Olympus' }, /time zone/],
    [
      'bad days',
      { action: 'block', start: '08:00', end: '09:00', days: 'someday' },
      /--days: "someday" is not a list of days/,
    ],
    ['a bad datacenter', { action: 'block', start: '08:00', end: '09:00', datacenter: 'd c' }, /datacenter/],
  ];
  for (const [what, input, message] of bad) {
    it(`rejects ${what} with exit 2`, () => {
      let error: unknown;
      try {
        parseWindowSpec(input as { action: string });
      } catch (e) {
        error = e;
      }
      expect(error).to.be.instanceOf(UsageError);
      expect((error as UsageError).exitCode).to.equal(2);
      expect((error as Error).message).to.match(message);
    });
  }

  it('ids are stable for the same window and differ for another', () => {
    const a = parseWindowSpec({ action: 'block', start: '08:00', end: '18:00', days: 'mon-fri' });
    const b = parseWindowSpec({ action: 'block', start: '08:00', end: '18:00', days: 'mon,tue,wed,thu,fri' });
    const c = parseWindowSpec({ action: 'block', start: '08:00', end: '18:00', days: 'mon-fri', target: 'shop' });
    expect(windowId(a)).to.match(/^w[0-9a-f]{8}$/);
    expect(windowId(a)).to.equal(windowId(b));
    expect(windowId(a)).to.not.equal(windowId(c));
  });

  it('becomes a core TimeWindow the policy evaluator understands (scope and DC)', () => {
    const spec = parseWindowSpec({
      action: 'block',
      target: 'shop',
      datacenter: 'dc2',
      days: 'sat',
      start: '10:00',
      end: '12:00',
    });
    const window = toTimeWindow(spec, 'tend.run_windows w1');
    const saturday11 = Date.parse('2026-11-21T11:00:00Z');
    const subject = { now: saturday11, keyspace: 'shop', table: 'orders', datacenter: 'dc2' };
    expect(evaluatePolicies({ windows: [window] }, subject).allowed).to.equal(false);
    expect(evaluatePolicies({ windows: [window] }, { ...subject, datacenter: 'dc1' }).allowed).to.equal(true);
    expect(evaluatePolicies({ windows: [window] }, { ...subject, keyspace: 'other' }).allowed).to.equal(true);
    expect(evaluatePolicies({ windows: [window] }, { ...subject, now: saturday11 + 2 * 3600_000 }).allowed).to.equal(
      true,
    );
  });
});

describe('policy input: stored rows', () => {
  it('reads a row written by tend', () => {
    expect(
      windowFromRow({
        id: 'w1',
        keyspace_name: 'shop',
        table_name: '*',
        datacenter: '*',
        days: ['fri', 'mon'],
        start_time: '01:00',
        end_time: '05:00',
        timezone: 'UTC',
        action: 'allow',
      }),
    ).to.deep.equal({
      action: 'allow',
      keyspace: 'shop',
      days: ['mon', 'fri'],
      start: '01:00',
      end: '05:00',
      timezone: 'UTC',
    });
  });

  it('reads a hand-written row with nulls as wildcards and every day', () => {
    const spec = windowFromRow({ id: 'x', action: 'block', start_time: '00:00', end_time: '01:00' });
    expect(spec).to.deep.equal({
      action: 'block',
      days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'],
      start: '00:00',
      end: '01:00',
      timezone: 'UTC',
    });
  });

  it('reports a malformed row naming its id', () => {
    expect(() => windowFromRow({ id: 'bad1', action: 'sometimes', start_time: '00:00', end_time: '01:00' })).to.throw(
      PolicyError,
      /run_windows row bad1: action must be block or allow/,
    );
  });
});

describe('policy input: --until', () => {
  const now = Date.parse('2026-11-21T12:00:00Z');
  const cases: Array<[string, string]> = [
    ['2h', '2026-11-21T14:00:00.000Z'],
    ['1h30m', '2026-11-21T13:30:00.000Z'],
    ['3d', '2026-11-24T12:00:00.000Z'],
    ['2026-12-24T06:00:00Z', '2026-12-24T06:00:00.000Z'],
    ['2026-12-24T06:00:00+02:00', '2026-12-24T04:00:00.000Z'],
    ['2026-12-24T06:00', '2026-12-24T06:00:00.000Z'],
    ['2026-12-24 06:00:30', '2026-12-24T06:00:30.000Z'],
    ['2026-12-27', '2026-12-27T00:00:00.000Z'],
    ['2020-01-01T00:00:00Z', '2020-01-01T00:00:00.000Z'],
  ];
  for (const [text, iso] of cases) {
    it(`"${text}" → ${iso}`, () => expect(new Date(resolveUntil(parseUntil(text), now)).toISOString()).to.equal(iso));
  }
  for (const bad of ['tomorrow', '2h ago', '0s', '2026-13-01', '2026-12-24T25:00Z', '12/24/2026', '']) {
    it(`rejects "${bad}"`, () => expect(() => parseUntil(bad)).to.throw(UsageError, /--until/));
  }
});

describe('policy input: job start --window', () => {
  it('reads "[DAYS] HH:MM-HH:MM [TIMEZONE]" into an allow window', () => {
    expect(parseJobWindow('mon-fri 22:00-06:00 Europe/Berlin')).to.deep.equal({
      mode: 'allow',
      days: ['mon', 'tue', 'wed', 'thu', 'fri'],
      start: '22:00',
      end: '06:00',
      timezone: 'Europe/Berlin',
      source: 'job start --window',
    });
    expect(parseJobWindow('1:00-5:30')).to.deep.include({ start: '01:00', end: '05:30', timezone: 'UTC' });
    expect(parseJobWindow('01:00-05:00 America/New_York')).to.deep.include({ timezone: 'America/New_York' });
    expect(parseJobWindow('weekends 00:00-24:00').days).to.deep.equal(['sat', 'sun']);
  });

  it('refuses what the schedule windows refuse, naming --window', () => {
    for (const text of [
      '',
      '22:00',
      'mon-fri',
      '22:00-06:00 01:00-02:00',
      'mon-fri 22:00-06:00 Europe/Berlin extra',
      '25:00-06:00',
      '08:00-08:00',
      '22:00-06:00 Mars/Olympus',
      'someday 22:00-06:00 UTC',
    ]) {
      expect(() => parseJobWindow(text), text)
        .to.throw(UsageError)
        .with.property('message')
        .that.match(/^--window/);
    }
  });
});
