// The pure core of tend: decisions only, plain data in and out, no I/O (DESIGN.md, Architecture).
// Adapters fetch the inputs (src/cluster, src/history, src/config) and carry out the Plan (src/app, src/repair).
export * from './tokens.js';
export * from './ranges.js';
export * from './ring.js';
export * from './timeline.js';
export * from './policy.js';
export * from './job-state.js';
export * from './hash.js';
export * from './planner.js';
export * from './summary.js';
export * from './command-sessions.js';
export * from './consul-ttl.js';
export * from './adhoc-task.js';
export * from './lease-keeping.js';
export * from './tick-rounds.js';
export * from './node-group.js';
export * from './maintenance.js';
export * from './ring-picture.js';
export * from './coverage.js';
export * from './parallel-tasks.js';
export * from './task-choice.js';
