/** `tend lease status` and `tend lease release RESOURCE [--force]`. */
import { ExitCode } from '../../errors.js';
import { defineCommand, type CommandDeps, type CommandModule } from '../types.js';
import { leaseResource } from '../arguments.js';
import type { LeaseStatusReport } from '../../app/lease-status.js';

export type LeaseStatusOptions = Record<string, never>;

export interface LeaseReleaseOptions {
  resource: string;
  force: boolean;
}

function inSeconds(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s}s`;
  const m = Math.round(s / 60);
  return m < 120 ? `${m}m` : `${Math.round(m / 60)}h`;
}

function render(report: LeaseStatusReport, deps: Pick<CommandDeps, 'out'>): void {
  const { out } = deps;
  if (report.leases.length === 0) out.info(`no leases held (${report.backend})`);
  else
    out.table(
      [
        { header: 'RESOURCE', value: (l) => l.resource },
        { header: 'HOLDER', value: (l) => l.holder },
        { header: 'HOST', value: (l) => l.holderHost },
        { header: 'ACQUIRED', value: (l) => new Date(l.acquiredAt) },
        { header: 'EXPIRES IN', value: (l) => inSeconds(l.expiresInMs) },
        { header: 'TASK', value: (l) => l.metadata.task ?? '-' },
        // Last, so the piped columns before it keep their places: the group instance (`nodes:`) holding the lease
        // from HOST, and the node it runs the task for.
        { header: 'INSTANCE', value: (l) => (l.instance ? `${l.instance} for ${l.forNode ?? '?'}` : '-') },
      ],
      report.leases,
    );
  if (report.announcements.length > 0) {
    if (out.stdoutIsTTY) out.text('\nAnnouncements (nodes waiting, highest priority first):');
    out.table(
      [
        { header: 'RESOURCE', value: (a) => a.resource },
        { header: 'ANNOUNCED BY', value: (a) => a.holder },
        { header: 'PRIORITY', value: (a) => a.priority },
        { header: 'EXPIRES IN', value: (a) => inSeconds(a.expiresInMs) },
      ],
      report.announcements,
    );
  }
  if (report.broken.length > 0 && out.stdoutIsTTY) {
    out.text('\nForced releases:');
    out.table(
      [
        { header: 'RESOURCE', value: (b) => b.resource },
        { header: 'WAS HELD BY', value: (b) => `${b.previousHolder} (${b.previousHost})` },
        { header: 'BROKEN BY', value: (b) => `${b.brokenBy} (${b.brokenByHost})` },
        { header: 'AT', value: (b) => new Date(b.brokenAt) },
      ],
      report.broken,
    );
  }
}

const status = defineCommand<LeaseStatusOptions>({
  path: ['lease', 'status'],
  summary: 'who holds which lease, until when, and who is waiting',
  description:
    'Lists the leases held in the configured backend (lease.backend): resource, holder node and host, when it was acquired and how long until it expires unless renewed, the group instance (`nodes:`) holding it and the node it runs the task for, plus live priority announcements of nodes waiting for a lease and forced releases of the last days. With --json, one document with leases, announcements and broken (forced releases).',
  arguments: [],
  options: [],
  examples: [
    { command: 'tend lease status', description: 'Who holds the leases now.' },
    { command: 'tend lease status --json | jq ".leases[].holder"', description: 'Holders, for scripts.' },
  ],
  exitCodes: [ExitCode.Config, ExitCode.ClusterUnavailable],
  parse: () => ({}),
  async run(_options, deps) {
    const { withLeaseBackend, leaseStatus } = await import('../../app/lease-status.js');
    const report = await withLeaseBackend(deps, (backend) => leaseStatus(backend));
    deps.out.data(report, () => render(report, deps));
  },
});

const release = defineCommand<LeaseReleaseOptions>({
  path: ['lease', 'release'],
  summary: "release a lease this node holds, or with --force another node's",
  description:
    'Releases RESOURCE (as shown by `tend lease status`) when this node holds it, for instance after a tick was killed and its lease would otherwise stay until it expires. A lease held by another node is refused (exit 4) unless --force is given: --force breaks it, says whose it was, and records who broke it (shown by `lease status`). The node whose lease was broken notices at its next renewal and stops its repair, but between the break and that moment two repairs may overlap.',
  arguments: [{ name: 'RESOURCE', description: 'the lease to release, e.g. node/10.0.0.1/slot-0', required: true }],
  options: [{ flags: '--force', description: 'break the lease even when another node holds it' }],
  examples: [
    { command: 'tend lease release dc/dc1/slot-0', description: "Free this node's leftover lease." },
    { command: 'tend lease release node/10.0.0.7/slot-0 --force', description: 'Break a dead node’s lease.' },
  ],
  exitCodes: [ExitCode.Config, ExitCode.LeaseUnavailable, ExitCode.ClusterUnavailable],
  parse(args, opts) {
    const resource = leaseResource(args[0]);
    return { resource, force: opts.force === true };
  },
  async run(options, deps) {
    const { withLeaseBackend, releaseLease, localHolder } = await import('../../app/lease-status.js');
    const report = await withLeaseBackend(deps, (backend, config) =>
      releaseLease(backend, options.resource, localHolder(config), options.force),
    );
    deps.out.data(report, () => {
      if (!report.released) deps.out.info(`lease ${report.resource} is not held; nothing to release`);
      else if (report.forced && report.previousHolder !== report.releasedBy)
        deps.out.warn(
          `broke lease ${report.resource} held by ${report.previousHolder} on ${report.previousHost}; recorded as broken by ${report.releasedBy}`,
        );
      else
        deps.out.info(`released lease ${report.resource} (held by ${report.previousHolder} on ${report.previousHost})`);
    });
  },
});

export const leaseModule: CommandModule = {
  group: { name: 'lease', summary: 'leases that keep repairs apart' },
  commands: [release, status],
};
