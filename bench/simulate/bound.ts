// The lower bound of the time to repair every range of every table once, for a shape and a repair cost model.
//
// Every repair command occupies each of its replicas for its whole duration, and in scope node no replica takes part
// in two commands at once. tend runs two kinds of command:
// - range commands (tables above smallTableSize): the due ranges of one replica set, so at least one command per
//   replica set per table. Each touches replicasPerDatacenter nodes of every DC, so at most
//   floor(nodes of the DC / replicas per DC) of them run at once (the smallest DC decides; with racks, the smallest
//   rack count of a DC caps it too, as NetworkTopologyStrategy puts each replica on another rack while it can);
// - whole-table commands (small tables, up to tablesPerCommand of one keyspace): a node repairs every range it
//   replicates, which touches the union of the replicas of those ranges: with 256 vnodes, (nearly) every node. When
//   no replica set fits beside that union, and no two unions are disjoint, such a command runs alone.
// The bound then is W_whole + W_range / maxDisjoint, where W_range sums the shortest possible range commands (one per
// replica set per table) and W_whole the shortest possible whole-table commands: every range of a keyspace must be
// replicated by some node that ran the command, so at least minCover commands per keyspace (and batch of
// tablesPerCommand tables), minCover being the fewest nodes whose ranges cover the ring (found exactly by search).
// The data part of each command counts the bytes of one replica (the replicas validate in parallel); for whole-table
// commands at least one copy of the table in total.
import { rangeWidth } from '../../src/core/index.js';
import type { Shape } from './shape.js';

export interface RepairCost {
  /** Fixed cost of one repair command (session set-up and tear-down across the replicas), ms. */
  readonly commandMs: number;
  /** Added per table in the command (one validation and comparison round per table), ms. */
  readonly tableMs: number;
  /** Bytes of one replica's data validated per second. */
  readonly bytesPerSecond: number;
}

/** Duration of one command: fixed cost, per-table cost, and the bytes one replica validates. */
export function commandDurationMs(cost: RepairCost, tables: number, bytes: number): number {
  return cost.commandMs + tables * cost.tableMs + (bytes / cost.bytesPerSecond) * 1000;
}

export interface LowerBound {
  readonly replicaSets: number;
  /** Range commands that can run at once without sharing a replica. */
  readonly maxDisjointRangeCommands: number;
  /** Nodes a whole-table command touches: smallest and largest over the nodes. */
  readonly wholeTableReplicas: { readonly min: number; readonly max: number };
  /** True when a whole-table command leaves no room for any other command (the bound below assumes it). */
  readonly wholeTableExclusive: boolean;
  /** Fewest nodes whose local ranges cover the ring; `exact` false when the search gave up (then a valid lower bound). */
  readonly minCover: { readonly nodes: number; readonly exact: boolean };
  /** Tables repaired range by range on every node / whole on every node / whole on some nodes only. */
  readonly tables: { readonly ranges: number; readonly whole: number; readonly mixed: number };
  readonly wholeWorkMs: number;
  readonly rangeWorkMs: number;
  readonly boundMs: number;
  /** How the bound was combined, in words. */
  readonly formula: string;
  /**
   * Not a bound: what a central greedy scheduler without timers reaches with the same commands (idealRangePacking
   * for the range commands, plus W_whole run alone): how much of the bound any scheduler of this shape can reach.
   */
  readonly idealMs: number;
  /** The range commands' part of it, and their W_range ÷ maxDisjoint. */
  readonly idealRange: { readonly makespanMs: number; readonly boundMs: number };
}

export function lowerBound(
  shape: Shape,
  cost: RepairCost,
  limits: { readonly smallTableBytes: number; readonly tablesPerCommand: number },
): LowerBound {
  const { options, placement, simulatedNodes } = shape;
  const replicaSets = placement.replicaSets.length;
  const rackSize = Math.floor(options.nodesPerDatacenter / Math.max(1, options.racksPerDatacenter));
  const perRackCap =
    options.racksPerDatacenter >= options.replicasPerDatacenter
      ? rackSize // one replica per rack: the smallest rack caps the count
      : Infinity;
  const maxDisjointRangeCommands = Math.max(
    1,
    Math.min(Math.floor(options.nodesPerDatacenter / options.replicasPerDatacenter), perRackCap),
  );

  const unions = simulatedNodes.map((node) => node.wholeTableReplicas);
  const sizes = unions.map((u) => u.size);
  let exclusive = true;
  for (const union of unions) {
    if (placement.replicaSets.some((set) => set.hostIds.every((host) => !union.has(host)))) exclusive = false;
    for (const other of unions) {
      if (other !== union && [...union].every((host) => !other.has(host))) exclusive = false;
    }
  }

  const small = (bytes: number) => limits.smallTableBytes > 0 && bytes <= limits.smallTableBytes;
  let rangeWorkMs = 0;
  const rangeTables: number[] = [];
  const wholeByKeyspace = new Map<string, { tables: number; bytes: number }>();
  const counts = { ranges: 0, whole: 0, mixed: 0 };
  for (const table of shape.tables) {
    const local = simulatedNodes.map((node) => Math.round(table.bytesPerCopy * node.localShare));
    const smallOn = local.filter(small).length;
    if (smallOn === 0) {
      counts.ranges++;
      rangeTables.push(table.bytesPerCopy);
      // One single-table command per replica set; together they validate one copy of the table.
      rangeWorkMs += replicaSets * commandDurationMs(cost, 1, 0) + (table.bytesPerCopy / cost.bytesPerSecond) * 1000;
      continue;
    }
    // Small on some node: whole-table commands can cover it, which costs far less than range commands.
    if (smallOn === local.length) counts.whole++;
    else counts.mixed++;
    const entry = wholeByKeyspace.get(table.settings.keyspace) ?? { tables: 0, bytes: 0 };
    entry.tables++;
    entry.bytes += table.bytesPerCopy;
    wholeByKeyspace.set(table.settings.keyspace, entry);
  }
  const minCover = minimumCover(shape);
  let wholeWorkMs = 0;
  for (const { tables, bytes } of wholeByKeyspace.values()) {
    const batches = Math.ceil(tables / limits.tablesPerCommand);
    wholeWorkMs +=
      minCover.nodes * (batches * cost.commandMs + tables * cost.tableMs) + (bytes / cost.bytesPerSecond) * 1000;
  }
  const boundMs = exclusive
    ? wholeWorkMs + rangeWorkMs / maxDisjointRangeCommands
    : Math.max(wholeWorkMs, (wholeWorkMs + rangeWorkMs) / maxDisjointRangeCommands);
  const formula = exclusive
    ? `W_whole + W_range / ${maxDisjointRangeCommands} (a whole-table command runs alone)`
    : `max(W_whole, (W_whole + W_range) / ${maxDisjointRangeCommands}) (whole-table commands can run beside others)`;
  const ideal = idealRangePacking(shape, cost, rangeTables, maxDisjointRangeCommands);
  return {
    replicaSets,
    maxDisjointRangeCommands,
    wholeTableReplicas: { min: Math.min(...sizes), max: Math.max(...sizes) },
    wholeTableExclusive: exclusive,
    minCover,
    tables: counts,
    wholeWorkMs,
    rangeWorkMs,
    boundMs,
    formula,
    idealMs: (exclusive ? wholeWorkMs : 0) + ideal.makespanMs,
    idealRange: { makespanMs: ideal.makespanMs, boundMs: ideal.boundMs },
  };
}

/**
 * How close to the bound's "maxDisjoint at once" an ideal scheduler gets with this ring's replica sets: the range
 * commands of the given tables (one per replica set per table), started by a central greedy list scheduler without
 * timers, leases or planning: at time 0 and whenever a command ends, every replica set whose replicas are all free
 * starts its next waiting command, sets in ring order. Returns its makespan and the commands' work ÷ maxDisjoint.
 * Replica sets do not tile the nodes, so the ratio says how much of the bound any scheduler can reach with
 * commands of this shape.
 */
export function idealRangePacking(
  shape: Shape,
  cost: RepairCost,
  tableBytesPerCopy: readonly number[],
  maxDisjoint: number,
): { makespanMs: number; boundMs: number; commands: number } {
  const { placement, ring, nodes } = shape;
  const sets = placement.replicaSets.length;
  const hostIndex = new Map(nodes.map((node, i) => [node.hostId, i]));
  const share = new Float64Array(sets);
  ring.ranges.forEach((range, index) => {
    share[placement.replicaSetOfRange[index] ?? 0]! += Number(rangeWidth(range)) / 2 ** 64;
  });
  const replicas = placement.replicaSets.map((set) => set.hostIds.map((h) => hostIndex.get(h)!));
  const setLists = nodes.map(() => [] as number[]);
  replicas.forEach((hosts, set) => hosts.forEach((node) => setLists[node]!.push(set)));
  const setsOfNode = setLists.map((list) => Int32Array.from(list));
  // Each set has one command per table waiting; busyReplicas counts its replicas that are in a running command.
  const waiting = new Int32Array(sets).fill(tableBytesPerCopy.length);
  const busyReplicas = new Int32Array(sets);
  const durationOf = (set: number, table: number) =>
    commandDurationMs(cost, 1, (tableBytesPerCopy[table] ?? 0) * share[set]!);
  const running: { at: number; set: number }[] = [];
  let now = 0;
  let work = 0;
  let commands = 0;
  const start = (set: number) => {
    const table = tableBytesPerCopy.length - waiting[set]!;
    waiting[set]!--;
    const duration = durationOf(set, table);
    work += duration;
    commands++;
    running.push({ at: now + duration, set });
    for (const node of replicas[set]!) {
      const others = setsOfNode[node]!;
      for (let k = 0; k < others.length; k++) busyReplicas[others[k]!]!++;
    }
  };
  const startAll = (candidates: Iterable<number>) => {
    for (const set of candidates) if (busyReplicas[set] === 0 && waiting[set]! > 0) start(set);
  };
  startAll(Array.from({ length: sets }, (_, set) => set));
  while (running.length > 0) {
    let next = 0;
    for (let k = 1; k < running.length; k++) if (running[k]!.at < running[next]!.at) next = k;
    const [end] = running.splice(next, 1);
    now = end!.at;
    const freed: number[] = [];
    for (const node of replicas[end!.set]!) {
      const others = setsOfNode[node]!;
      for (let k = 0; k < others.length; k++) {
        const other = others[k]!;
        if (--busyReplicas[other]! === 0 && waiting[other]! > 0) freed.push(other);
      }
    }
    startAll(Int32Array.from(new Set(freed)).sort());
  }
  return { makespanMs: now, boundMs: work / maxDisjoint, commands };
}

/**
 * The fewest nodes whose local ranges together cover every ring range: iterative deepening over "some replica of
 * the first range not yet covered must be chosen", pruned by the largest number of ranges one node adds. Gives up
 * after `budget` search steps and then returns the counting bound (ranges ÷ most ranges of one node), still a valid
 * lower bound.
 */
export function minimumCover(shape: Shape, budget = 5_000_000): { nodes: number; exact: boolean } {
  const { ring, placement, simulatedNodes } = shape;
  const ranges = ring.ranges.length;
  const words = Math.ceil(ranges / 32);
  const hostIndex = new Map(simulatedNodes.map((node, i) => [node.info.hostId, i]));
  const sets = simulatedNodes.map((node) => {
    const bits = new Uint32Array(words);
    for (const index of node.localRanges) bits[index >>> 5]! |= 1 << (index & 31);
    return bits;
  });
  const replicasOf = Array.from({ length: ranges }, (_, index) =>
    (placement.replicaSets[placement.replicaSetOfRange[index] ?? 0]?.hostIds ?? []).map((h) => hostIndex.get(h)!),
  );
  const largest = Math.max(...simulatedNodes.map((node) => node.localRanges.length));
  const counting = Math.ceil(ranges / largest);
  const full = new Uint32Array(words);
  for (let index = 0; index < ranges; index++) full[index >>> 5]! |= 1 << (index & 31);

  let steps = 0;
  const popcount = (x: number) => {
    x -= (x >>> 1) & 0x55555555;
    x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
    return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
  };
  const search = (covered: Uint32Array, depth: number): boolean | 'budget' => {
    if (++steps > budget) return 'budget';
    let first = -1;
    let missing = 0;
    for (let w = 0; w < words; w++) {
      const open = full[w]! & ~covered[w]!;
      if (open !== 0) {
        if (first < 0) first = w * 32 + (31 - Math.clz32(open & -open));
        missing += popcount(open);
      }
    }
    if (first < 0) return true;
    if (depth === 0 || missing > depth * largest) return false;
    for (const node of replicasOf[first]!) {
      const next = new Uint32Array(words);
      const set = sets[node]!;
      for (let w = 0; w < words; w++) next[w] = covered[w]! | set[w]!;
      const found = search(next, depth - 1);
      if (found !== false) return found;
    }
    return false;
  };
  for (let depth = counting; depth <= simulatedNodes.length; depth++) {
    const found = search(new Uint32Array(words), depth);
    if (found === true) return { nodes: depth, exact: true };
    if (found === 'budget') return { nodes: depth, exact: false };
  }
  return { nodes: simulatedNodes.length, exact: false };
}
