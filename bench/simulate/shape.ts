// The simulated cluster's shape: nodes and tokens, keyspaces, tables and their sizes, all from one seed.
import {
  buildRing,
  computePlacement,
  rangesReplicatedBy,
  rangeWidth,
  tableKey,
  type KeyspaceReplication,
  type NodeInfo,
  type Placement,
  type Ring,
  type TableSettings,
  type TableSize,
} from '../../src/core/index.js';
import { prng, syntheticNodes } from '../../test/unit/core/synthetic.js';

const DAY = 86_400_000;
const KIB = 1024;
const MIB = 1024 * KIB;
const GIB = 1024 * MIB;
const RING_WIDTH = 2 ** 64;

/** A band of table sizes: `count` tables whose size is log-uniform between `min` and `max` bytes. */
export interface SizeBand {
  readonly count: number;
  readonly min: number;
  readonly max: number;
}

export interface ShapeOptions {
  readonly datacenters: number;
  readonly nodesPerDatacenter: number;
  readonly racksPerDatacenter: number;
  readonly vnodes: number;
  /** Replicas per datacenter (NetworkTopologyStrategy) of every keyspace. */
  readonly replicasPerDatacenter: number;
  readonly keyspaces: number;
  /**
   * Table sizes per copy of the data (one replica's worth of the whole ring), band by band; the tables are the sum of
   * the counts, assigned to bands at random. What a node holds of a table is this times the share of the ring it
   * replicates.
   */
  readonly sizes: readonly SizeBand[];
  readonly intervalMs: number;
  readonly warnMs: number;
  readonly errorMs: number;
  /**
   * gc_grace_seconds of every table (ms): a range not repaired within it may bring deleted data back. What tend's
   * interval and alarms exist to stay under; the report sets the oldest range's age against it.
   */
  readonly gcGraceMs: number;
  readonly seed: number;
}

/**
 * The shape: 30 nodes in 3 DCs of 10 (3 racks each), 256 vnodes, every keyspace NetworkTopologyStrategy
 * with 3 replicas per DC, 1,000 tables in 40 keyspaces. Sizes are skewed the way clusters are: most tables hold
 * KiB to MiB, a few hold hundreds of GiB.
 */
export const DEFAULT_SHAPE: ShapeOptions = {
  datacenters: 3,
  nodesPerDatacenter: 10,
  racksPerDatacenter: 3,
  vnodes: 256,
  replicasPerDatacenter: 3,
  keyspaces: 40,
  sizes: [
    { count: 980, min: KIB, max: 256 * MIB },
    { count: 15, min: GIB, max: 64 * GIB },
    { count: 5, min: 100 * GIB, max: 500 * GIB },
  ],
  intervalMs: 7 * DAY,
  warnMs: 8 * DAY,
  errorMs: 10 * DAY,
  // Cassandra's default gc_grace_seconds, 864000.
  gcGraceMs: 10 * DAY,
  seed: 14,
};

export interface SimulatedTable {
  readonly settings: TableSettings;
  readonly key: string;
  /** Bytes of one copy of the table's data. */
  readonly bytesPerCopy: number;
}

export interface SimulatedNode {
  readonly info: NodeInfo;
  /** Ring indexes of the ranges this node replicates, per replication signature (one here: all keyspaces alike). */
  readonly localRanges: readonly number[];
  /** Share of the ring (by width) this node replicates. */
  readonly localShare: number;
  /** Ranges whose end token is this node's: rows of system.size_estimates per table (its primary ranges). */
  readonly primaryRanges: number;
  /** Host ids of every replica of every local range: what a whole-table command from this node touches. */
  readonly wholeTableReplicas: ReadonlySet<string>;
}

export interface Shape {
  readonly options: ShapeOptions;
  readonly nodes: readonly NodeInfo[];
  readonly ring: Ring;
  readonly keyspaces: Readonly<Record<string, KeyspaceReplication>>;
  /** Every keyspace has the same replication, so one placement serves all. */
  readonly placement: Placement;
  readonly tables: readonly SimulatedTable[];
  readonly byKey: ReadonlyMap<string, SimulatedTable>;
  readonly simulatedNodes: readonly SimulatedNode[];
}

/** Builds the shape; deterministic from `options.seed`. */
export function buildShape(options: ShapeOptions): Shape {
  const datacenters = Array.from({ length: options.datacenters }, (_, d) => ({
    name: `dc${d + 1}`,
    nodes: options.nodesPerDatacenter,
    racks: options.racksPerDatacenter,
  }));
  const nodes = syntheticNodes(datacenters, options.vnodes, options.seed);
  const ring = buildRing(nodes);
  const replication: KeyspaceReplication = {
    class: 'NetworkTopologyStrategy',
    datacenters: Object.fromEntries(datacenters.map((dc) => [dc.name, options.replicasPerDatacenter])),
  };
  const keyspaceNames = Array.from({ length: options.keyspaces }, (_, k) => `ks${String(k).padStart(2, '0')}`);
  const keyspaces = Object.fromEntries(keyspaceNames.map((name) => [name, replication]));
  const placement = computePlacement(ring, replication);
  const widths = ring.ranges.map((range) => Number(rangeWidth(range)));

  const simulatedNodes = nodes.map((info): SimulatedNode => {
    const localRanges = rangesReplicatedBy(placement, info.hostId);
    const wholeTableReplicas = new Set<string>();
    let width = 0;
    for (const index of localRanges) {
      width += widths[index] ?? 0;
      for (const host of placement.replicaSets[placement.replicaSetOfRange[index] ?? 0]?.hostIds ?? []) {
        wholeTableReplicas.add(host);
      }
    }
    return {
      info,
      localRanges,
      localShare: width / RING_WIDTH,
      primaryRanges: ring.owners.filter((owner) => owner === info.hostId).length,
      wholeTableReplicas,
    };
  });

  // Sizes: each band's tables get a log-uniform size; which table falls in which band is drawn too, so the large
  // tables are spread over keyspaces and over the priority order (ties are broken by a hash of the name).
  const rand = prng(options.seed * 7919 + 1);
  const sizes: number[] = [];
  for (const band of options.sizes) {
    for (let i = 0; i < band.count; i++) {
      sizes.push(Math.round(band.min * Math.pow(band.max / band.min, rand())));
    }
  }
  for (let i = sizes.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [sizes[i], sizes[j]] = [sizes[j]!, sizes[i]!];
  }
  const tables = sizes.map((bytesPerCopy, i): SimulatedTable => {
    const keyspace = keyspaceNames[i % keyspaceNames.length]!;
    const table = `t${String(i).padStart(4, '0')}`;
    return {
      key: tableKey(keyspace, table),
      bytesPerCopy,
      settings: {
        keyspace,
        table,
        enabled: true,
        intervalMs: options.intervalMs,
        warnMs: options.warnMs,
        errorMs: options.errorMs,
        weight: 1,
        repairType: 'vnode',
        parallelism: 'parallel',
      },
    };
  });
  return {
    options,
    nodes,
    ring,
    keyspaces,
    placement,
    tables,
    byKey: new Map(tables.map((t) => [t.key, t])),
    simulatedNodes,
  };
}

/**
 * What the node's size estimates say of a table: its share of the data. Cassandra's estimates are per primary range
 * and tend scales them to every range the node replicates (src/app/plan-input.ts); with data spread evenly over the
 * ring both give this.
 */
export function localSize(table: SimulatedTable, node: SimulatedNode): TableSize {
  return { totalBytes: Math.round(table.bytesPerCopy * node.localShare) };
}

export const UNITS = { KIB, MIB, GIB, DAY };
