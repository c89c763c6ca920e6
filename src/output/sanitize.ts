/**
 * Two kinds of text need care before a person reads them.
 *
 * - Anything written for people (diagnostics, tables, TSV rows): a name, an argument or a message can carry
 *   control characters — an escape sequence that recolours or clears the operator's terminal, a carriage return
 *   that hides the start of a line, a tab that shifts TSV columns, a bidirectional override that reorders what is
 *   shown. `escapeControl` shows them as visible escapes (`\x1b`, `\n`, `\u202e`) instead. JSON needs none of
 *   this: JSON.stringify escapes control characters itself.
 * - Text from outside tend (a server's or the driver's error message, a tool's output): it may quote a credential
 *   back, or carry a stack trace. `sanitizeExternal` masks every known secret, drops stack frames and keeps one
 *   bounded line, where that text enters tend's errors and logs — never over tend's own output as a whole.
 */
import { maskSecrets } from '../config/secrets.js';

/**
 * C0 controls, DEL, C1 controls (U+0080–U+009F: a terminal may read U+009B as CSI), the line and paragraph
 * separators, and the bidirectional marks, embeddings, overrides and isolates.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;

const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeOne(char: string): string {
  const named = NAMED[char];
  if (named) return named;
  const code = char.codePointAt(0) ?? 0;
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * `text` with every control character shown as an escape (`\x1b`, `\n`, `\t`, `\u202e`), except those in `keep`
 * (a multi-line document keeps its newlines). Backslashes are left alone: this is for safe display, not an
 * encoding to be decoded.
 */
export function escapeControl(text: string, keep = ''): string {
  return text.replace(CONTROL, (char) => (keep.includes(char) ? char : escapeOne(char)));
}

/** Whether `text` contains a control character `escapeControl` would escape. */
export function hasControl(text: string): boolean {
  CONTROL.lastIndex = 0;
  const found = CONTROL.test(text);
  CONTROL.lastIndex = 0;
  return found;
}

/** A line of a stack trace (Java's `\tat …`, `... 12 more`, `Caused by:` blocks are kept as text) or its header. */
const STACK_LINE = /^\s*(?:at\s|\.\.\. \d+ more$|-- StackTrace --$)/;

/** Longest outside message kept (a driver error can quote a whole query, a JVM a whole stack). */
export const EXTERNAL_TEXT_LIMIT = 500;

/**
 * Outside text made fit for tend's errors and logs: known secrets masked, stack-trace lines dropped, the rest on
 * one line (lines joined with " / "), at most `limit` characters.
 */
export function sanitizeExternal(text: string, limit = EXTERNAL_TEXT_LIMIT): string {
  const lines = maskSecrets(text)
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !STACK_LINE.test(line));
  const joined = lines.join(' / ');
  return joined.length > limit ? `${joined.slice(0, limit - 1)}…` : joined;
}

/** The message of anything thrown, sanitised as outside text. */
export function externalMessage(error: unknown, limit = EXTERNAL_TEXT_LIMIT): string {
  return sanitizeExternal(error instanceof Error ? error.message : String(error), limit);
}
