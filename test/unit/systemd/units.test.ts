/**
 * systemd/tend.service and tend.timer pass `systemd-analyze verify`.
 *
 * verify checks that ExecStart's program exists and that every `man:` Documentation page resolves. On a build
 * machine tend is not installed at /usr/bin/tend and its man pages are not in the system MANPATH, so the test
 * verifies a copy whose ExecStart points at this checkout's bin/tend, with MANPATH pointing at a temporary man
 * tree holding the generated pages. Everything else in the units is verified exactly as shipped; a second test
 * pins the shipped ExecStart line so the copy cannot hide a change to it.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageInfo } from '../../../src/cli/package-info.js';
import { requireTool, tempDir } from '../cli/helpers.js';
import { validateConfig } from '../../../src/config/validate.js';
import { tickBound } from '../../../src/app/time-bound.js';
import { INTERRUPT_GRACE_MS } from '../../../src/cli/main.js';

const root = packageInfo().root;
const service = readFileSync(join(root, 'systemd/tend.service'), 'utf8');
const timer = readFileSync(join(root, 'systemd/tend.timer'), 'utf8');

function directives(unit: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of unit.split('\n')) {
    const match = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (match) out.set(match[1] as string, [...(out.get(match[1] as string) ?? []), match[2] as string]);
  }
  return out;
}

describe('systemd units', () => {
  it('pass systemd-analyze verify (ExecStart pointed at this checkout, man pages on MANPATH)', function () {
    this.timeout(30_000);
    requireTool(this, 'systemd-analyze');
    const dir = tempDir();
    mkdirSync(join(dir, 'units'));
    mkdirSync(join(dir, 'man/man8'), { recursive: true });
    mkdirSync(join(dir, 'man/man5'), { recursive: true });
    copyFileSync(join(root, 'man/tend.8'), join(dir, 'man/man8/tend.8'));
    copyFileSync(join(root, 'man/tend.yml.5'), join(dir, 'man/man5/tend.yml.5'));
    writeFileSync(
      join(dir, 'units/tend.service'),
      service.replace(/^ExecStart=\/usr\/bin\/tend /m, `ExecStart=${join(root, 'bin/tend')} `),
    );
    writeFileSync(join(dir, 'units/tend.timer'), timer);
    const result = spawnSync('systemd-analyze', ['verify', './tend.service', './tend.timer'], {
      cwd: join(dir, 'units'),
      encoding: 'utf8',
      env: { ...process.env, MANPATH: join(dir, 'man'), SYSTEMD_LOG_LEVEL: 'notice' },
    });
    expect(result.stderr).to.equal('');
    expect(result.status).to.equal(0);
  });

  it('the timer schedule is a valid calendar expression', function () {
    requireTool(this, 'systemd-analyze');
    const onCalendar = directives(timer).get('OnCalendar')?.[0] as string;
    const result = spawnSync('systemd-analyze', ['calendar', onCalendar], { encoding: 'utf8' });
    expect(result.status, result.stderr).to.equal(0);
    expect(result.stdout).to.include('*-*-* *:00/5:00');
  });

  it('the service is a hardened oneshot running `tend schedule tick`', () => {
    const d = directives(service);
    expect(d.get('Type')).to.deep.equal(['oneshot']);
    expect(d.get('ExecStart')).to.deep.equal(['/usr/bin/tend schedule tick']);
    expect(d.get('Documentation')?.[0]).to.include('man:tend(8)');
    for (const [key, value] of [
      ['NoNewPrivileges', 'true'],
      ['ProtectSystem', 'strict'],
      ['ProtectHome', 'true'],
      ['PrivateTmp', 'true'],
      ['PrivateDevices', 'true'],
      ['RestrictSUIDSGID', 'true'],
      ['CapabilityBoundingSet', ''],
    ] as const) {
      expect(d.get(key), key).to.deep.equal([value]);
    }
    expect(d.has('MemoryDenyWriteExecute')).to.equal(false);
    expect(d.has('PrivateNetwork')).to.equal(false);
    // Each protection left out says why.
    expect(service).to.match(/# - MemoryDenyWriteExecute=true: .*V8/);
    expect(service).to.match(/# - PrivateNetwork=true: /);
  });

  it('TimeoutStartSec is a backstop just after the watchdog bound of a tick with the default configuration', () => {
    const d = directives(service);
    const text = d.get('TimeoutStartSec')?.[0] ?? '';
    const units: Record<string, number> = { h: 3_600_000, min: 60_000, s: 1000 };
    let ms = 0;
    for (const match of text.matchAll(/(\d+)(h|min|s)/g)) ms += Number(match[1]) * units[match[2]!]!;
    const validated = validateConfig({}, { env: {} });
    const bound = tickBound(validated.config!).ms;
    // The watchdog fires at the bound and gives the tick INTERRUPT_GRACE_MS + 10 s to clean up before it exits.
    const watchdogExit = bound + INTERRUPT_GRACE_MS + 10_000;
    expect(ms, `TimeoutStartSec=${text}`).to.be.greaterThan(watchdogExit);
    expect(ms - watchdogExit).to.be.at.most(15 * 60_000);
    expect(service).to.match(/# .*watchdog.*schedule\.maxDuration/);
  });

  it('the timer runs every few minutes, randomised and persistent', () => {
    const d = directives(timer);
    expect(d.get('OnCalendar')).to.deep.equal(['*:0/5']);
    expect(Number(d.get('RandomizedDelaySec')?.[0])).to.be.greaterThan(0);
    expect(d.get('Persistent')).to.deep.equal(['true']);
    expect(d.get('Documentation')?.[0]).to.include('man:tend(8)');
    expect(d.get('WantedBy')).to.deep.equal(['timers.target']);
  });
});

describe('systemd units for a management host (nodes:, issue 18)', () => {
  const group = readFileSync(join(root, 'systemd/tend-group@.service'), 'utf8');
  const hardening = (unit: string) => unit.slice(unit.indexOf('# ---- Hardening ----'));

  it("tend-group@.service reads /etc/tend/%i.yml and keeps tend.service's hardening line for line", () => {
    expect(directives(group).get('ExecStart')).to.deep.equal(['/usr/bin/tend -c /etc/tend/%i.yml schedule tick']);
    expect(hardening(group)).to.equal(hardening(service));
    expect(directives(group).get('After')).to.deep.equal(['network-online.target']);
  });

  it('tend-group@.timer starts its instance on the same schedule as tend.timer', () => {
    const groupTimer = readFileSync(join(root, 'systemd/tend-group@.timer'), 'utf8');
    for (const key of ['OnCalendar', 'RandomizedDelaySec', 'Persistent', 'AccuracySec']) {
      expect(directives(groupTimer).get(key), key).to.deep.equal(directives(timer).get(key));
    }
  });
});
