/**
 * An in-memory stand-in for stdout/stderr, for tests of any command: set `isTTY` to run "on a terminal" or
 * "piped", then read what was written.
 */
import type { OutputStream } from './output.js';

export class MemoryStream implements OutputStream {
  readonly chunks: string[] = [];
  isTTY: boolean;
  columns = 100;

  constructor(isTTY = false) {
    this.isTTY = isTTY;
  }

  write(chunk: string): boolean {
    this.chunks.push(chunk);
    return true;
  }

  // The cursor calls ora makes on a terminal.
  cursorTo(): boolean {
    return true;
  }
  moveCursor(): boolean {
    return true;
  }
  clearLine(): boolean {
    return true;
  }

  get text(): string {
    return this.chunks.join('');
  }
}
