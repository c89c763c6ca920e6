/**
 * src/repair: carrying out repair tasks. Import from here.
 *
 * - `NodetoolExecutor`, `JolokiaExecutor`: the two Executors (src/app/adapters.ts builds the configured one).
 * - `runTask(task, {executor, timeoutMs, signal})`: one task, and how it ended (src/app/batch.ts owns the sequence).
 * - `NodetoolRepairedState`, `JolokiaRepairedState` + `incrementalDecision(state)`: skip fully repaired incremental
 *   tables.
 */
export * from './executor.js';
export { runTask, taskError, type TaskRun, type TaskRunOptions } from './task-runner.js';
export { JolokiaClient, type JolokiaClientOptions } from './jolokia-client.js';
export { JolokiaExecutor } from './jolokia-executor.js';
export { NodetoolExecutor } from './nodetool-executor.js';
export type { NodetoolConnection } from './nodetool-output.js';
export {
  incrementalDecision,
  JolokiaRepairedState,
  NodetoolRepairedState,
  type IncrementalDecision,
  type RepairedStateReader,
  type TableRepairedState,
} from './incremental.js';
export * from './maintenance-operations.js';
