/** The sandbox talks to its operator on stderr only; stdout is kept for `env`'s data. */
export function log(message: string): void {
  process.stderr.write(`sandbox: ${message}\n`);
}

/** A failure the sandbox explains itself: printed without a stack trace, exit 1. */
export class SandboxError extends Error {
  override name = 'SandboxError';
}
