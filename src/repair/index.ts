/**
 * src/repair: carrying out repair tasks. Import from here.
 *
 * - `createExecutor(config, env)`: the Executor the configuration names (executor.type).
 * - `runTasks(tasks, {executor, record, taskTimeoutMs, signal, startDeadline})`: a batch, one task at a time.
 * - `historyRecords(task, outcome, {coordinator, tickId})`: outcome → rows for src/history's recordTaskOutcome.
 * - `createRepairedStateReader(config, env)` + `incrementalDecision(state)`: skip fully repaired incremental tables.
 */
import { readConfiguredText } from '../config/files.js';
import { jmxPasswords, registerSecret, type Env } from '../config/secrets.js';
import type { TendConfig } from '../config/schema.js';
import type { Executor } from './executor.js';
import { jolokiaClientFromConfig } from './jolokia-client.js';
import { JolokiaExecutor } from './jolokia-executor.js';
import { NodetoolExecutor } from './nodetool-executor.js';
import { JolokiaRepairedState, NodetoolRepairedState, type RepairedStateReader } from './incremental.js';
import type { NodetoolConnection } from './nodetool-output.js';

export * from './executor.js';
export { runTasks, batchError, type BatchResult, type TaskRunnerOptions } from './task-runner.js';
export { historyRecords } from './history-records.js';
export { JolokiaClient, jolokiaClientFromConfig } from './jolokia-client.js';
export { JolokiaExecutor } from './jolokia-executor.js';
export { NodetoolExecutor } from './nodetool-executor.js';
export {
  incrementalDecision,
  JolokiaRepairedState,
  NodetoolRepairedState,
  type IncrementalDecision,
  type RepairedStateReader,
  type TableRepairedState,
} from './incremental.js';

export function nodetoolConnection(config: TendConfig): NodetoolConnection {
  const nodetool = config.executor.nodetool;
  return {
    path: nodetool.path,
    host: nodetool.host,
    port: nodetool.port,
    user: nodetool.user,
    passwordFile: nodetool.passwordFile,
  };
}

/**
 * Registers the JMX password of executor.nodetool.passwordFile as a known secret, so nodetool's output is masked
 * like every other outside text. nodetool reads the file itself (-pwf); an unreadable file is nodetool's to report.
 */
async function registerNodetoolPassword(config: TendConfig, read: (path: string) => Promise<string>): Promise<void> {
  const { passwordFile, user } = config.executor.nodetool;
  if (!passwordFile) return;
  const content = await read(passwordFile).catch(() => '');
  for (const password of jmxPasswords(content, user)) registerSecret(password);
}

export async function createExecutor(
  config: TendConfig,
  env: Env,
  read: (path: string) => Promise<string> = readConfiguredText,
): Promise<Executor> {
  if (config.executor.type === 'jolokia') {
    return new JolokiaExecutor({ client: await jolokiaClientFromConfig(config, env, read) });
  }
  await registerNodetoolPassword(config, read);
  return new NodetoolExecutor({ connection: nodetoolConnection(config) });
}

/** Reads percentRepaired / maxRepairedAt the way the configured executor reaches the node. */
export async function createRepairedStateReader(
  config: TendConfig,
  env: Env,
  read: (path: string) => Promise<string> = readConfiguredText,
): Promise<RepairedStateReader> {
  if (config.executor.type === 'jolokia') {
    return new JolokiaRepairedState(await jolokiaClientFromConfig(config, env, read));
  }
  await registerNodetoolPassword(config, read);
  return new NodetoolRepairedState(nodetoolConnection(config));
}
