import { expect } from 'chai';
import { tasksToStart, type ParallelCandidate } from '../../../src/core/index.js';

const task = (replicas: string, datacenter = 'dc1'): ParallelCandidate => ({
  replicas: replicas.split(','),
  datacenter,
});

describe('core/parallel-tasks: which tasks of a group tick start together', function () {
  it('parallelTasks 1: the head of the queue when nothing runs, nothing while one runs', function () {
    const queue = [task('a,b'), task('c,d')];
    expect(tasksToStart(queue, [], { parallelTasks: 1 })).to.deep.equal([0]);
    expect(tasksToStart(queue, [task('e,f')], { parallelTasks: 1 })).to.deep.equal([]);
  });

  it('starts tasks whose replica sets are disjoint, up to parallelTasks', function () {
    const queue = [task('a,b'), task('c,d'), task('e,f')];
    expect(tasksToStart(queue, [], { parallelTasks: 2 })).to.deep.equal([0, 1]);
    expect(tasksToStart(queue, [], { parallelTasks: 3 })).to.deep.equal([0, 1, 2]);
    expect(tasksToStart(queue, [task('x,y')], { parallelTasks: 3 })).to.deep.equal([0, 1]);
  });

  it('never starts a task sharing a replica with a running task or one started with it', function () {
    expect(tasksToStart([task('a,b'), task('b,c'), task('c,d')], [], { parallelTasks: 3 })).to.deep.equal([0, 2]);
    expect(tasksToStart([task('b,c'), task('c,d')], [task('a,b')], { parallelTasks: 3 })).to.deep.equal([1]);
    expect(tasksToStart([task('a,c'), task('b,d')], [task('a,b')], { parallelTasks: 4 })).to.deep.equal([]);
  });

  it('first fit in queue order: a blocked task does not hold back the free ones behind it', function () {
    const queue = [task('a,c'), task('d,e'), task('c,e')];
    expect(tasksToStart(queue, [task('a,b')], { parallelTasks: 3 })).to.deep.equal([1]);
  });

  it("lease scope datacenter: at most slotsPerDatacenter of the tick's tasks per datacenter", function () {
    const queue = [task('a,b', 'dc1'), task('c,d', 'dc1'), task('e,f', 'dc2'), task('g,h', 'dc1')];
    expect(tasksToStart(queue, [], { parallelTasks: 4, slotsPerDatacenter: 1 })).to.deep.equal([0, 2]);
    expect(tasksToStart(queue, [], { parallelTasks: 4, slotsPerDatacenter: 2 })).to.deep.equal([0, 1, 2]);
    expect(tasksToStart(queue, [task('x', 'dc1')], { parallelTasks: 4, slotsPerDatacenter: 1 })).to.deep.equal([2]);
    // Scope node (no slots): datacenters do not matter.
    expect(tasksToStart(queue, [], { parallelTasks: 4 })).to.deep.equal([0, 1, 2, 3]);
  });

  it('a simulated tick over random queues: never two running tasks on one replica, never more than N, all run', function () {
    // A deterministic pseudo-random source, so a failure reproduces.
    let seed = 42;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const nodes = ['n1', 'n2', 'n3', 'n4', 'n5', 'n6'];
    let overlapped = 0;
    for (let round = 0; round < 200; round++) {
      const n = 1 + Math.floor(random() * 4);
      const queue = Array.from({ length: 3 + Math.floor(random() * 10) }, () => {
        const first = Math.floor(random() * nodes.length);
        const replicas = [nodes[first]!, nodes[(first + 1 + Math.floor(random() * 5)) % nodes.length]!];
        return task(replicas.join(','), random() < 0.5 ? 'dc1' : 'dc2');
      });
      const slots = random() < 0.5 ? undefined : 1 + Math.floor(random() * 2);
      const limits = { parallelTasks: n, ...(slots ? { slotsPerDatacenter: slots } : {}) };
      let waiting = [...queue];
      // Each running task ends after a random number of steps.
      let running: { task: ParallelCandidate; left: number }[] = [];
      let started = 0;
      for (let step = 0; step < 1000 && (waiting.length > 0 || running.length > 0); step++) {
        const chosen = tasksToStart(
          waiting,
          running.map((r) => r.task),
          limits,
        );
        expect(chosen, 'deterministic').to.deep.equal(
          tasksToStart(
            waiting,
            running.map((r) => r.task),
            limits,
          ),
        );
        if (running.length === 0 && waiting.length > 0) expect(chosen, 'an idle tick starts something').not.to.be.empty;
        running.push(...chosen.map((i) => ({ task: waiting[i]!, left: 1 + Math.floor(random() * 3) })));
        waiting = waiting.filter((_, i) => !chosen.includes(i));
        started += chosen.length;
        expect(running.length).to.be.at.most(n);
        const replicas = running.flatMap((r) => r.task.replicas);
        expect(new Set(replicas).size, JSON.stringify(running)).to.equal(replicas.length);
        if (slots) {
          for (const dc of ['dc1', 'dc2']) {
            expect(running.filter((r) => r.task.datacenter === dc).length).to.be.at.most(slots);
          }
        }
        if (running.length > 1) overlapped += 1;
        running = running.map((r) => ({ ...r, left: r.left - 1 })).filter((r) => r.left > 0);
      }
      expect(started).to.equal(queue.length);
    }
    // The simulation is not vacuous: tasks did run together.
    expect(overlapped).to.be.greaterThan(100);
  });
});
