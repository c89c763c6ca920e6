// Synthetic clusters for planner simulations and the bench: deterministic from a seed.
import type { NodeInfo } from '../../../src/core/ring.js';
import { MIN_TOKEN } from '../../../src/core/tokens.js';

/** mulberry32: a tiny deterministic PRNG so simulations are reproducible from their seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomToken(rand: () => number): bigint {
  const hi = BigInt(Math.floor(rand() * 2 ** 32));
  const lo = BigInt(Math.floor(rand() * 2 ** 32));
  return MIN_TOKEN + ((hi << 32n) | lo);
}

export interface DatacenterSpec {
  readonly name: string;
  readonly nodes: number;
  /** Racks assigned round-robin; default 1. */
  readonly racks?: number;
}

/** Nodes with `vnodes` random tokens each; host ids `h-<dc>-<n>`, addresses 10.<dc>.0.<n>. */
export function syntheticNodes(datacenters: readonly DatacenterSpec[], vnodes: number, seed: number): NodeInfo[] {
  const rand = prng(seed);
  const used = new Set<bigint>();
  const nodes: NodeInfo[] = [];
  datacenters.forEach((dc, d) => {
    for (let n = 1; n <= dc.nodes; n++) {
      const tokens: string[] = [];
      while (tokens.length < vnodes) {
        const token = randomToken(rand);
        if (used.has(token)) continue;
        used.add(token);
        tokens.push(token.toString());
      }
      nodes.push({
        hostId: `h-${dc.name}-${n}`,
        address: `10.${d + 1}.0.${n}`,
        datacenter: dc.name,
        rack: `rack${((n - 1) % (dc.racks ?? 1)) + 1}`,
        tokens,
        up: true,
      });
    }
  });
  return nodes;
}
