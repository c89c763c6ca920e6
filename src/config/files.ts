/**
 * Reading the files a configuration names (the configuration itself, secrets, PEM files) without trusting them to be
 * files: `-c /dev/zero` once read until memory ran out, and a FIFO blocked the process for good, deaf to SIGTERM
 * (the read sat in libuv's thread pool). Only regular files are read, and only up to a limit.
 */
import { constants, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import { formatSize } from './units.js';

/** tend.yml is a few KiB; a file of more than 1MiB is not a configuration. */
export const CONFIG_FILE_LIMIT = 1024 ** 2;
/** A password or token is its file's first line; 64KiB is far beyond any. */
export const SECRET_FILE_LIMIT = 64 * 1024;
/** A PEM file or CA bundle (the system bundle is about 200KiB). */
export const PEM_FILE_LIMIT = 1024 ** 2;

/** A file refused before (or instead of) reading it; `code` says why, like an errno code. */
export class FileRefused extends Error {
  constructor(
    readonly code: 'ENOTREG' | 'ETOOBIG',
    message: string,
  ) {
    super(message);
    this.name = 'FileRefused';
  }
}

function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * The content of the regular file at `path`, at most `limit` bytes. Throws FileRefused for anything else (a
 * directory, FIFO, device or socket, or a file larger than the limit), and the usual errno errors (ENOENT, EACCES).
 */
export async function readBoundedFile(path: string, limit: number): Promise<Buffer> {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer; on a regular file it changes nothing.
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new FileRefused('ENOTREG', `is ${kindOf(stats)}, not a regular file`);
    const tooBig = () =>
      new FileRefused('ETOOBIG', `is larger than ${formatSize(limit)}, the most tend reads from such a file`);
    if (stats.size > limit) throw tooBig();
    // Read one byte past the limit: a file that grew since stat() is refused too, never read without end.
    const buffer = Buffer.alloc(limit + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > limit) throw tooBig();
    }
    return buffer.subarray(0, length);
  } finally {
    await handle.close();
  }
}

/** A password or token file named by the configuration (its first line is the secret), as text. */
export async function readSecretFile(path: string): Promise<string> {
  return (await readBoundedFile(path, SECRET_FILE_LIMIT)).toString('utf8');
}

/** A PEM file named by the configuration (CA bundle, certificate, key). */
export function readPemFile(path: string): Promise<Buffer> {
  return readBoundedFile(path, PEM_FILE_LIMIT);
}

/** Any file the configuration names, as text, up to the PEM limit (the Jolokia client reads all its files so). */
export async function readConfiguredText(path: string): Promise<string> {
  return (await readBoundedFile(path, PEM_FILE_LIMIT)).toString('utf8');
}

/** A short reason for any error of readBoundedFile, for `path: cannot read FILE (reason)` messages. */
export function describeReadError(error: unknown): string {
  if (error instanceof FileRefused) return error.message;
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    case 'ENOTDIR':
      return 'a parent is not a directory';
    default:
      return code ?? (error as Error).message;
  }
}
