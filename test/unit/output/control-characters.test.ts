/**
 * Issue 12 item 14: control characters in arguments and names are never written raw to a terminal or into TSV:
 * every diagnostic and every human (TTY and TSV) output shows them as escapes. JSON escapes them itself.
 */
import { expect } from 'chai';
import { Output } from '../../../src/output/output.js';
import { MemoryStream } from '../../../src/output/memory-stream.js';
import { escapeControl, sanitizeExternal } from '../../../src/output/sanitize.js';
import { runTend } from '../cli/helpers.js';

const ESC = '\u001b';
// eslint-disable-next-line no-control-regex -- looking for raw control characters is the test
const RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

function make(tty: boolean, json = false) {
  const stdout = new MemoryStream(tty);
  const stderr = new MemoryStream(tty);
  const out = new Output({ stdout, stderr, json, colorAllowed: false, verbosity: 'normal' });
  return { out, stdout, stderr };
}

describe('control characters are escaped in human output and diagnostics', function () {
  it('escapeControl shows C0, DEL, C1 and bidi controls as escapes; keeps what it is told to', function () {
    expect(escapeControl(`a${ESC}[2Jb\r\n\t\u007f\u009b\u202ec`)).to.equal('a\\x1b[2Jb\\r\\n\\t\\x7f\\x9b\\u202ec');
    expect(escapeControl('line 1\nline 2\tx', '\n\t')).to.equal('line 1\nline 2\tx');
    expect(escapeControl('plain ünïcode ✓')).to.equal('plain ünïcode ✓');
  });

  for (const tty of [true, false]) {
    const where = tty ? 'on a terminal' : 'piped (key=value)';
    it(`log lines ${where}: message and fields escaped`, function () {
      const { out, stderr } = make(tty);
      out.error(`unknown table ks.${ESC}[31mred`, { table: `t${ESC}]0;title\u0007` });
      out.detail('error', `hint with ${ESC}c reset`);
      expect(stderr.text).to.not.match(RAW);
      expect(stderr.text).to.include('\\x1b[31mred').and.include('\\x1b]0;title\\x07').and.include('\\x1bc');
    });

    it(`table cells ${where}: escaped, so a tab or newline in a name never makes a new column or row`, function () {
      const { out, stdout } = make(tty);
      out.table(
        [
          { header: 'TABLE', value: (r: { name: string }) => r.name },
          { header: 'N', value: () => 1 },
        ],
        [{ name: `a\tb\nc${ESC}[1m` }],
      );
      expect(stdout.text).to.not.match(RAW);
      const lines = stdout.text.trimEnd().split('\n');
      expect(lines).to.have.length(tty ? 2 : 1);
      if (!tty) expect(lines[0]!.split('\t')).to.deep.equal(['a\\tb\\nc\\x1b[1m', '1']);
    });
  }

  it('text output keeps newlines and tabs, escapes the rest', function () {
    const { out, stdout } = make(false);
    out.text(`removed w1\npaused: ${ESC}[2J because\ttab`);
    expect(stdout.text).to.equal('removed w1\npaused: \\x1b[2J because\ttab\n');
  });

  it('JSON output stays JSON (JSON.stringify escapes control characters itself)', function () {
    const { out, stdout } = make(false, true);
    out.writeJson({ name: `x${ESC}y` });
    expect(stdout.text).to.not.match(RAW);
    expect((JSON.parse(stdout.text) as { name: string }).name).to.equal(`x${ESC}y`);
  });

  it('outside text: one line, stack frames dropped', function () {
    expect(
      sanitizeExternal('java.lang.RuntimeException: boom\n\tat a.B.c(B.java:1)\n\tat d.E.f(E.java:2)\nCaused by: x'),
    ).to.equal('java.lang.RuntimeException: boom / Caused by: x');
  });

  it('an argument with an escape sequence is echoed escaped in the usage error', async function () {
    for (const tty of [true, false]) {
      // --no-color: tend's own colours are escape sequences too; what must not appear is the operator's.
      const result = await runTend(['--no-color', 'history', 'show', '--since', `${ESC}[2J${ESC}[31m`], { tty });
      expect(result.code).to.equal(2);
      expect(result.stderr).to.not.match(RAW);
      expect(result.stderr).to.include('\\x1b[2J');
    }
    const unknown = await runTend(['--no-color', `sched${ESC}[31mule`], { tty: true });
    expect(unknown.code).to.equal(2);
    expect(unknown.stderr).to.not.match(RAW);
  });
});
