import { expect } from 'chai';
import {
  evaluatePolicies,
  localClock,
  parseClockTime,
  PolicyError,
  windowContains,
  type TimeWindow,
} from '../../../src/core/policy.js';

// 2026-11-23 is a Monday.
const at = (iso: string): number => Date.parse(iso);
const subject = (now: number, keyspace = 'shop', table = 'orders', datacenter = 'dc1') => ({
  now,
  keyspace,
  table,
  datacenter,
});

describe('core/policy', () => {
  it('parses times of day, including 24:00 as an end', () => {
    expect(parseClockTime('00:00')).to.equal(0);
    expect(parseClockTime('22:30')).to.equal(1350);
    expect(parseClockTime('24:00')).to.equal(1440);
    for (const bad of ['24:01', '7:00', '12:60', 'noon']) expect(() => parseClockTime(bad)).to.throw(PolicyError);
  });

  it('reads the local clock through Intl time zones', () => {
    expect(localClock(at('2026-11-23T10:15:00Z'))).to.deep.equal({ weekday: 1, minutes: 615 });
    // Berlin is UTC+1 in November; Sydney UTC+11 (already Tuesday).
    expect(localClock(at('2026-11-23T23:30:00Z'), 'Europe/Berlin')).to.deep.equal({ weekday: 2, minutes: 30 });
    expect(localClock(at('2026-11-23T13:00:00Z'), 'Australia/Sydney')).to.deep.equal({ weekday: 2, minutes: 0 });
    expect(() => localClock(0, 'Mars/Olympus')).to.throw(PolicyError, /unknown time zone/);
  });

  const cases: { name: string; window: TimeWindow; now: string; inside: boolean }[] = [
    {
      name: 'same-day window, inside',
      window: { mode: 'block', start: '08:00', end: '18:00' },
      now: '2026-11-23T12:00:00Z',
      inside: true,
    },
    {
      name: 'same-day window, end excluded',
      window: { mode: 'block', start: '08:00', end: '18:00' },
      now: '2026-11-23T18:00:00Z',
      inside: false,
    },
    {
      name: 'weekday filter',
      window: { mode: 'block', days: ['sat', 'sun'], start: '00:00', end: '24:00' },
      now: '2026-11-23T12:00:00Z',
      inside: false,
    },
    {
      name: 'overnight window, evening part',
      window: { mode: 'allow', days: ['mon'], start: '22:00', end: '06:00' },
      now: '2026-11-23T23:00:00Z',
      inside: true,
    },
    {
      name: 'overnight window, morning part belongs to the previous day',
      window: { mode: 'allow', days: ['mon'], start: '22:00', end: '06:00' },
      now: '2026-11-24T05:59:00Z',
      inside: true,
    },
    {
      name: 'overnight window, not opened the day before',
      window: { mode: 'allow', days: ['mon'], start: '22:00', end: '06:00' },
      now: '2026-11-23T05:00:00Z',
      inside: false,
    },
    {
      name: 'time zone shifts the window',
      window: { mode: 'block', start: '09:00', end: '17:00', timezone: 'America/New_York' },
      now: '2026-11-23T15:00:00Z',
      inside: true,
    },
    {
      name: 'time zone shifts the window (outside)',
      window: { mode: 'block', start: '09:00', end: '17:00', timezone: 'America/New_York' },
      now: '2026-11-23T23:00:00Z',
      inside: false,
    },
  ];
  for (const c of cases) {
    it(c.name, () => expect(windowContains(c.window, at(c.now))).to.equal(c.inside));
  }

  it('allows when there are no policies', () => {
    expect(evaluatePolicies(undefined, subject(0))).to.deep.equal({ allowed: true, reasons: [] });
  });

  it('blocks inside a block window that applies to the table and datacenter only', () => {
    const windows: TimeWindow[] = [
      { mode: 'block', start: '08:00', end: '18:00', keyspace: 'shop', datacenters: ['dc1'], source: 'config' },
    ];
    const noon = at('2026-11-23T12:00:00Z');
    const blocked = evaluatePolicies({ windows }, subject(noon));
    expect(blocked.allowed).to.equal(false);
    expect(blocked.reasons[0]).to.match(/inside block window every day 08:00-18:00 UTC \(shop\.\*\) from config/);
    expect(evaluatePolicies({ windows }, subject(noon, 'other')).allowed).to.equal(true);
    expect(evaluatePolicies({ windows }, subject(noon, 'shop', 'orders', 'dc2')).allowed).to.equal(true);
  });

  it('with allow windows, allows only inside one of them', () => {
    const windows: TimeWindow[] = [
      { mode: 'allow', start: '22:00', end: '06:00' },
      { mode: 'allow', days: ['sat', 'sun'], start: '00:00', end: '24:00' },
    ];
    expect(evaluatePolicies({ windows }, subject(at('2026-11-23T12:00:00Z')))).to.deep.include({ allowed: false });
    expect(evaluatePolicies({ windows }, subject(at('2026-11-23T23:00:00Z'))).allowed).to.equal(true);
    expect(evaluatePolicies({ windows }, subject(at('2026-11-28T12:00:00Z'))).allowed).to.equal(true);
  });

  it('pauses until an expiry or until resumed, per scope', () => {
    const now = at('2026-11-23T12:00:00Z');
    const expired = evaluatePolicies({ pauses: [{ until: now - 1 }] }, subject(now));
    expect(expired.allowed).to.equal(true);
    const paused = evaluatePolicies({ pauses: [{ until: now + 1000, reason: 'upgrade' }] }, subject(now));
    expect(paused.reasons).to.deep.equal(['paused until 2026-11-23T12:00:01.000Z: upgrade']);
    const forever = evaluatePolicies({ pauses: [{ table: 'orders' }] }, subject(now));
    expect(forever.reasons).to.deep.equal(['paused until resumed']);
    expect(evaluatePolicies({ pauses: [{ table: 'carts' }] }, subject(now)).allowed).to.equal(true);
  });
});
