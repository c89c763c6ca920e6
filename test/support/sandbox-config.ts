/** Validated tend configurations for the sandbox's nodes, as the real loader would produce them. */
import { validateConfig } from '../../src/config/validate.js';
import type { TendConfig } from '../../src/config/schema.js';
import { NODES } from '../sandbox/src/layout.js';
import { tendConfig } from '../sandbox/src/tend-config.js';

export function sandboxTendConfig(
  index = 1,
  overrides: Parameters<typeof tendConfig>[1] = {},
  patch: (raw: ReturnType<typeof tendConfig>) => void = () => undefined,
): TendConfig {
  const raw = tendConfig(NODES[index - 1]!, overrides);
  patch(raw);
  const result = validateConfig(raw, { env: {} });
  if (!result.config) throw new Error(`sandbox config does not validate: ${result.errors.join('; ')}`);
  return result.config;
}
