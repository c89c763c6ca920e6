/**
 * The effective configuration as an operator reads it (`config show`): durations and sizes spelled as in
 * tend.yml, so the output can be pasted back into a file, and anything secret replaced by where it comes from.
 */
import {
  configJsonSchema,
  formatDuration,
  formatSize,
  KIND_KEY,
  type JsonSchemaNode,
  type TendConfig,
} from './schema.js';
import { describeOrigin, secretOrigins, type Env } from './secrets.js';

export const REDACTED = '[redacted]';
const SECRET_VALUE_KEY = /^(password|token|secret)$/i;

function present(value: unknown, node: JsonSchemaNode | undefined, key: string): unknown {
  if (SECRET_VALUE_KEY.test(key)) return REDACTED;
  if (Array.isArray(value)) return value.map((item) => present(item, node?.items, ''));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [childKey, child] of Object.entries(value)) {
      if (child === undefined) continue;
      out[childKey] = present(child, node?.properties?.[childKey], childKey);
    }
    return out;
  }
  if (typeof value === 'number') {
    if (node?.[KIND_KEY] === 'duration') return formatDuration(value);
    if (node?.[KIND_KEY] === 'size') return formatSize(value);
    // Held as a share (0.1); written, and shown, as the percentage an operator typed.
    if (node?.[KIND_KEY] === 'percent') return `${Number((value * 100).toFixed(4))}%`;
  }
  return value;
}

export interface ConfigView {
  /** The file the configuration came from; null when only defaults apply. */
  file: string | null;
  source: string;
  config: Record<string, unknown>;
  /** Where each secret is read from — never the secret itself. */
  secrets: Record<string, string>;
}

export function configView(config: TendConfig, env: Env, file: string | undefined, source: string): ConfigView {
  const origins = secretOrigins(config, env);
  return {
    file: file ?? null,
    source,
    config: present(config, configJsonSchema(), '') as Record<string, unknown>,
    secrets: Object.fromEntries(Object.entries(origins).map(([name, origin]) => [name, describeOrigin(origin)])),
  };
}
