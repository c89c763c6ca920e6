/**
 * Writing and reading a Prometheus textfile (node_exporter's textfile collector).
 *
 * node_exporter reads every `*.prom` file in its directory whenever it is scraped, so a file caught half-written
 * would publish a truncated set of series (tables silently disappearing from dashboards, alarms going quiet).
 * `writeTextfileAtomically` therefore writes a temporary file whose name does not end in `.prom` in the same
 * directory (rename is atomic only within one file system), flushes it to disk, and renames it over the target:
 * a reader sees the previous file or the new one, never a mix.
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export class MetricsWriteError extends Error {
  override readonly name = 'MetricsWriteError';
}

/** 0644: node_exporter usually runs as another user and must be able to read the file; nothing in it is secret. */
export const TEXTFILE_MODE = 0o644;

/** Replaces `path` with `content` in one atomic step; on failure the previous file is left untouched. */
export async function writeTextfileAtomically(path: string, content: string): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let handle;
  try {
    handle = await open(temp, 'wx', TEXTFILE_MODE);
    await handle.writeFile(content, 'utf8');
    // The mode given to open() is narrowed by the umask, and tend.service runs with UMask=0077: the file would be
    // 0600 and node_exporter, another user, could not read it. Set it explicitly, before the file is visible.
    await handle.chmod(TEXTFILE_MODE);
    // Without the flush a crash right after the rename can leave an empty file under the final name.
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(temp, path);
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw new MetricsWriteError(`cannot write metrics to ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/** One sample of the text exposition format. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?\s*/gy;

function unescapeLabel(value: string): string {
  return value.replace(/\\(.)/g, (_, char: string) => (char === 'n' ? '\n' : char));
}

function parseValue(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  const value = Number(text);
  if (Number.isNaN(value)) throw new Error(`not a sample value: ${text}`);
  return value;
}

/**
 * Parses the Prometheus text format (samples only; `# HELP`/`# TYPE` lines are skipped). Throws on a line that
 * is not a sample, which is what a reader of a truncated file would hit.
 */
export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = SAMPLE.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    const labelText = match[2] ?? '';
    LABEL.lastIndex = 0;
    let consumed = 0;
    for (let label = LABEL.exec(labelText); label; label = LABEL.exec(labelText)) {
      labels[label[1] as string] = unescapeLabel(label[2] as string);
      consumed = LABEL.lastIndex;
    }
    if (consumed !== labelText.length) throw new Error(`malformed labels: ${line}`);
    samples.push({ name: match[1] as string, labels, value: parseValue(match[3] as string) });
  }
  return samples;
}

/** The samples of an existing textfile; empty when there is none or it cannot be parsed. */
export async function readTextfile(path: string): Promise<Sample[]> {
  try {
    return parseExposition(await readFile(path, 'utf8'));
  } catch {
    return [];
  }
}
