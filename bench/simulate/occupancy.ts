// Which replicas are in a running repair: the check that no two simulated repairs share a replica (issue 14, item 4).
// It is measured, not assumed: every repair the simulated executor starts is entered here, whatever the leases
// allowed, and a start on a replica that is already busy counts as an overlap. In lease scope node with one slot
// per replica (perResource 1) tend's leases must keep this at 0; with perResource 2 they allow overlaps, and the
// unit test shows this check finding them.

export class ReplicaOccupancy {
  private readonly busy = new Map<string, number>();
  /** Repairs that started while one of their replicas was in another running repair. */
  overlaps = 0;
  /** The first few, for the report: when, which repair, on which replica. */
  readonly examples: string[] = [];

  constructor(private readonly keepExamples = 5) {}

  /** A repair starts on `replicas`; `label` names it in the examples. Returns the replicas it shares. */
  start(replicas: readonly string[], label: () => string): string[] {
    const shared = replicas.filter((host) => (this.busy.get(host) ?? 0) > 0);
    if (shared.length > 0) {
      this.overlaps++;
      if (this.examples.length < this.keepExamples) this.examples.push(`${label()} on ${shared.join(',')}`);
    }
    for (const host of replicas) this.busy.set(host, (this.busy.get(host) ?? 0) + 1);
    return shared;
  }

  /** The repair started on `replicas` has ended. */
  end(replicas: readonly string[]): void {
    for (const host of replicas) {
      const left = (this.busy.get(host) ?? 0) - 1;
      if (left < 0) throw new Error(`repair ended on ${host}, which was in no running repair`);
      if (left === 0) this.busy.delete(host);
      else this.busy.set(host, left);
    }
  }

  /** Replicas in a running repair now. */
  get busyReplicas(): number {
    return this.busy.size;
  }
}
