/**
 * 12 OS processes race for one resource for 20 counted rounds on each backend (40 on Cassandra with its warm-up). Each winner records when it started and
 * stopped holding, from the host clock all processes share; no two intervals may overlap, and every round in
 * which some contender got to try must have a winner. Contenders connect through different Cassandra nodes
 * (both DCs), so the node scope's SERIAL Paxos is what keeps them apart.
 *
 * By default a contender that lost keeps retrying until 60% of the round is over, so each round sees many
 * hand-overs (the strongest check of exclusion). LEASE_RACE_ATTEMPTS=once makes it one bounded attempt per
 * round, all of them at the same instant (the strongest check that Paxos contention still leaves a winner).
 * LEASE_RACE_PROCESSES / LEASE_RACE_ROUNDS override the sizes (e.g. for a quick run).
 */
import { expect } from 'chai';
import { ensureLeaseKeyspace, uniqueResource } from '../support/lease-sandbox.js';
import { overlaps, startContender, type Contender, type HoldInterval } from '../support/lease-processes.js';

// 12 processes (was 20): each is a tsx process started on 2 cores (30 s of a local CI run's 43 s for Consul's 20),
// and 12 contenders still keep several attempts in flight on every hand-over. LEASE_RACE_PROCESSES=20 for more.
const PROCESSES = Number(process.env.LEASE_RACE_PROCESSES ?? 12);
// 20 counted rounds: in retry mode a round hands the lease over as often as contenders win it in the round's
// attempt window, and exclusion is checked over every hand-over; 50 cost CI about 50 s more and 30 about 30 s more
// for the same kind of check (LEASE_RACE_ROUNDS=50 for a longer run).
const ROUNDS = Number(process.env.LEASE_RACE_ROUNDS ?? 20);
const ATTEMPTS = process.env.LEASE_RACE_ATTEMPTS === 'once' ? 'once' : 'retry';
const HOLD_MS = 20;
const TTL_MS = 5000;
// A Paxos round trip among 20 contenders on 2 cores takes longer than a Consul one, and far longer on a freshly
// started cluster (the suite's sandbox is cold when this file runs): the round leaves room for that.
const ROUND_MS: Record<string, number> = { cassandra: 2000, consul: 600 };
// Rounds run before the counted ones. On a freshly started sandbox (as in CI) the first ~40 s of 20-way Paxos
// contention leave some Cassandra rounds without a winner (measured: up to round 20 of 2 s rounds, 0 errors); on
// a warm cluster none do. Exclusion is checked over every round, warm-up included; "a winner every round" over
// the counted ROUNDS after it.
const WARMUP_ROUNDS: Record<string, number> = { cassandra: 20, consul: 0 };

/**
 * What happened around a round without a winner, relative to its start (ms): the holds from the round before
 * to the round after (acquired, done, released), and how many contenders tried and when they first did.
 */
function describeRound(contenders: Contender[], t0: number, roundMs: number, round: number): string {
  const roundStart = t0 + round * roundMs;
  const at = (t: unknown) => (typeof t === 'number' ? `${t - roundStart}` : '?');
  const holds = contenders.flatMap((contender, index) => {
    const of = (r: number) => contender.lines.filter((line) => line.round === r);
    return [round - 1, round, round + 1].flatMap((r) => {
      const hold = of(r).find((line) => typeof line.start === 'number');
      if (!hold) return [];
      const released = of(r).find((line) => typeof line.released === 'number')?.released;
      return [`#${index} won round ${r}: acquired ${at(hold.start)}, done ${at(hold.end)}, released ${at(released)}`];
    });
  });
  const tried = contenders.flatMap(
    (contender) =>
      contender.lines.filter((line) => line.round === round && typeof line.tries === 'number') as {
        tries: number;
        firstTry: number | null;
      }[],
  );
  const first = tried.flatMap((t) => (t.firstTry === null ? [] : [t.firstTry]));
  return (
    `  round ${round} (ms from its start; attempts until ${Math.round(roundMs * 0.6)}): ${holds.join('; ') || 'no holds nearby'}; ` +
    `${first.length} of ${tried.length} contenders tried (${tried.reduce((n, t) => n + t.tries, 0)} attempts), ` +
    `first at ${first.length > 0 ? at(Math.min(...first)) : '-'}`
  );
}

for (const backend of ['cassandra', 'consul']) {
  describe(`lease race on ${backend}: ${PROCESSES} processes x ${ROUNDS} rounds, ${ATTEMPTS} (real sandbox)`, function () {
    this.timeout(300_000);
    let contenders: Contender[] = [];

    before(async function () {
      if (backend === 'cassandra') await ensureLeaseKeyspace();
    });
    afterEach(function () {
      for (const contender of contenders) contender.process.kill('SIGKILL');
      contenders = [];
    });

    it('never has two holders at once, and every round has a winner', async function () {
      const resource = uniqueResource(`race-${backend}`);
      const prefix = `tend-it-race-${Date.now().toString(36)}`;
      const roundMs = ROUND_MS[backend]!;
      const warmup = WARMUP_ROUNDS[backend]!;
      contenders = Array.from({ length: PROCESSES }, (_, index) =>
        startContender([
          'race',
          backend,
          resource,
          String(warmup + ROUNDS),
          String(roundMs),
          String(HOLD_MS),
          String(TTL_MS),
          String((index % 3) + 1),
          String(index),
          prefix,
          ATTEMPTS,
        ]),
      );
      await Promise.all(contenders.map((contender) => contender.waitFor((line) => line.ready === true, 120_000)));
      const t0 = Date.now() + 500;
      for (const contender of contenders) contender.process.stdin!.end(`${t0}\n`);
      const codes = await Promise.all(contenders.map((contender) => contender.exited));
      const elapsed = Date.now() - t0;

      expect(codes, contenders.map((c) => c.stderr).join('\n')).to.deep.equal(codes.map(() => 0));
      const intervals: HoldInterval[] = contenders.flatMap((contender, index) =>
        contender.lines
          .filter((line) => typeof line.start === 'number')
          .map((line) => ({
            contender: index,
            round: line.round as number,
            start: line.start as number,
            end: line.end as number,
          })),
      );
      const errors = contenders.flatMap((contender) => contender.lines.filter((line) => line.error));
      const rounds = new Set(intervals.map((interval) => interval.round));
      // A round in which no contender got to try (every one woke after the round's give-up time: the machine
      // stalled, measured at 0.7 s on a loaded 2-core machine) cannot have a winner and says nothing about the
      // lease. It is reported, not failed, as long as such rounds stay few.
      const untried = new Set(
        Array.from({ length: warmup + ROUNDS }, (_, round) => round).filter((round) =>
          contenders.every((contender) =>
            contender.lines.some((line) => line.round === round && 'firstTry' in line && line.firstTry === null),
          ),
        ),
      );
      // A round whose whole attempt window (its first 60%) the previous round's winner still held the lease (a
      // 20 ms hold stretched to 1.4 s when the holder's process stalled, seen on a machine at load average 25)
      // cannot have a winner either: the lease did its job. Also reported, and counted with the stalled rounds.
      const releases = contenders.flatMap((contender) =>
        contender.lines.flatMap((line) => {
          const hold = contender.lines.find((l) => l.round === line.round && typeof l.start === 'number');
          return typeof line.released === 'number' && hold ? [{ start: hold.start as number, end: line.released }] : [];
        }),
      );
      const heldThrough = (round: number) => {
        const from = t0 + round * roundMs;
        const to = from + roundMs * 0.6;
        return releases.some((hold) => hold.start <= from && hold.end >= to);
      };
      const counted = Array.from({ length: ROUNDS }, (_, round) => warmup + round);
      const blocked = counted.filter((round) => !rounds.has(round) && !untried.has(round) && heldThrough(round));
      if (blocked.length > 0)
        console.log(`      rounds held through by the round before's winner: ${blocked.join(', ')}`);
      const missing = counted.filter((round) => !rounds.has(round) && !untried.has(round) && !heldThrough(round));
      const stalled = counted.filter((round) => untried.has(round) || blocked.includes(round));
      if (untried.size > 0) console.log(`      rounds in which no contender got to try: ${[...untried].join(', ')}`);
      expect(
        stalled.length,
        `rounds no contender could win (stalled or held through): ${stalled.join(', ')}`,
      ).to.be.at.most(ROUNDS / 5);
      const warmupMissing = Array.from({ length: warmup }, (_, round) => round).filter((round) => !rounds.has(round));
      if (warmupMissing.length > 0) console.log(`      warm-up rounds without a winner: ${warmupMissing.join(', ')}`);
      console.log(
        `      ${backend}: ${intervals.length} holds in ${ROUNDS} rounds by ${new Set(intervals.map((i) => i.contender)).size} processes, ${errors.length} errors, ${(elapsed / 1000).toFixed(1)}s`,
      );
      const kinds = new Map<string, number>();
      for (const error of errors) {
        const kind = String(error.error)
          .replace(/[0-9a-f-]{36}|\d+/g, '#')
          .slice(0, 160);
        kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
      }
      for (const [kind, count] of kinds) console.log(`        ${count} x ${kind}`);
      expect(overlaps(intervals), 'overlapping holds').to.deep.equal([]);
      expect(
        missing,
        `rounds without a winner (errors: ${JSON.stringify(errors.slice(0, 3))})\n` +
          missing.map((round) => describeRound(contenders, t0, roundMs, round)).join('\n'),
      ).to.deep.equal([]);
    });
  });
}
