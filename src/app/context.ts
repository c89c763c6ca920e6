/**
 * What a use case may use of the process it runs in: its own ports, so that src/app never imports the command layer.
 * src/cli builds an AppContext from argv and the process (main.ts); tests build one from fakes.
 */
import type { Output } from '../output/output.js';
import type { LoadedValidConfig } from '../config/load.js';
import type { SecretSource } from '../config/secrets.js';

export interface AppContext {
  /** Where data (stdout) and diagnostics (stderr) go. */
  readonly out: Output;
  /** Cancelled on SIGINT/SIGTERM; long-running work must stop and clean up (release leases) when it fires. */
  readonly signal: AbortSignal;
  /** Loads and validates the configuration (search order of DESIGN.md); throws ConfigError. */
  loadConfig(): Promise<LoadedValidConfig>;
  /**
   * A secret (password file or environment; src/config/secrets.ts), read once and registered as a known secret, so
   * outside text that echoes it is masked where it enters tend's errors and logs. Never put the value into output.
   */
  readonly secret: SecretSource;
}
