/**
 * Every duration and size key of tend.yml has a range (issue 12, items 2-4), found by walking the schema, so a key
 * added later without one fails here. For each key: both ends are accepted, one millisecond (or byte) beyond either
 * end and zero are refused, naming the key and the range.
 */
import { expect } from 'chai';
import {
  configJsonSchema,
  DURATION_RANGES,
  formatDuration,
  formatSize,
  KIND_KEY,
  RANGE_KEY,
  TIMER_MAX_MS,
  type JsonSchemaNode,
} from '../../../src/config/schema.js';
import { validateConfig } from '../../../src/config/validate.js';
import { runTend } from '../cli/helpers.js';

interface RangedKey {
  /** `repair.tables[].interval` */
  path: string;
  kind: 'duration' | 'size';
  min: number;
  max: number;
}

function rangedKeys(node: JsonSchemaNode, prefix: string, out: RangedKey[]): RangedKey[] {
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    const path = prefix ? `${prefix}.${key}` : key;
    const kind = child[KIND_KEY];
    if (kind === 'duration' || kind === 'size') {
      const range = child[RANGE_KEY];
      out.push({ path, kind, min: range?.min ?? NaN, max: range?.max ?? NaN });
    }
    if (child.properties) rangedKeys(child, path, out);
    if (child.items?.properties) rangedKeys(child.items, `${path}[]`, out);
  }
  return out;
}

/** A document setting `path` to `value` (array items get a `match`). */
function documentWith(path: string, value: string): Record<string, unknown> {
  const build = (parts: string[]): unknown => {
    const [head, ...rest] = parts as [string, ...string[]];
    if (head.endsWith('[]')) return { [head.slice(0, -2)]: [{ match: 'ks.t', ...(build(rest) as object) }] };
    return { [head]: rest.length ? build(rest) : value };
  };
  return build(path.split('.')) as Record<string, unknown>;
}

/** Schema errors about the key: `repair.tables[0].interval: expected …` (cross-field findings are not counted). */
function rangeErrors(path: string, value: string): string[] {
  const dotted = path.replace('[]', '[0]');
  return validateConfig(documentWith(path, value)).errors.filter((error) => error.startsWith(`${dotted}: expected`));
}

const keys = rangedKeys(configJsonSchema(), '', []);

/**
 * Keys whose value becomes a Node timer (setTimeout/setInterval, the driver's socket timeouts, http timeouts), or
 * part of the tick's own bound (maxDuration + taskTimeout): each must stay below TIMER_MAX_MS, where a timer fires
 * at once instead.
 */
const TIMER_KEYS = [
  'cassandra.connectTimeout',
  'cassandra.requestTimeout',
  'repair.taskTimeout',
  'repair.tables[].taskTimeout',
  'schedule.maxDuration',
  'lease.ttl',
  'lease.renewEvery',
  'lease.announcementTtl',
];

/** Keys whose zero is a setting of its own (it turns the feature off) rather than a mistake. */
const ZERO_TURNS_OFF = ['repair.smallTableSize'];

describe('config: every duration and size key has a range', () => {
  it('finds the keys (every duration key of the schema, per table overrides too)', () => {
    expect(keys.map((key) => key.path)).to.include.members([...TIMER_KEYS, 'repair.interval', 'repair.sizeTarget']);
    expect(keys.length).to.be.at.least(19);
  });

  for (const key of keys) {
    const format = key.kind === 'size' ? formatSize : formatDuration;
    describe(key.path, () => {
      const zeroTurnsOff = ZERO_TURNS_OFF.includes(key.path);
      it(zeroTurnsOff ? 'has a range from zero (off)' : 'has a range above zero', () => {
        if (zeroTurnsOff) expect(key.min, 'min').to.equal(0);
        else expect(key.min, 'min').to.be.greaterThan(0);
        expect(key.max, 'max').to.be.greaterThan(key.min);
      });
      it(`accepts ${format(key.min)} and ${format(key.max)}`, () => {
        expect(rangeErrors(key.path, format(key.min))).to.deep.equal([]);
        expect(rangeErrors(key.path, format(key.max))).to.deep.equal([]);
      });
      const refused = zeroTurnsOff
        ? [format(key.max + 1)]
        : [key.kind === 'size' ? '0B' : '0s', format(key.min - 1), format(key.max + 1)];
      it(`refuses ${refused.join(', ')}, stating the range`, () => {
        const between = `between ${format(key.min)} and ${format(key.max)}`;
        for (const value of refused) {
          const errors = rangeErrors(key.path, value);
          expect(errors, value).to.have.length(1);
          expect(errors[0]).to.include(between).and.include(`found "${value}"`);
        }
      });
    });
  }

  it("keeps every key that feeds a timer below Node's limit (2^31-1 ms)", () => {
    for (const path of TIMER_KEYS) {
      const key = keys.find((candidate) => candidate.path === path);
      expect(key, path).to.not.equal(undefined);
      expect(key!.max, path).to.be.at.most(TIMER_MAX_MS);
    }
  });

  it("leaves room for a tick's bound: maxDuration + taskTimeout + connect and request timeouts + a day of grace", () => {
    const { maxDuration, taskTimeout, connectTimeout, requestTimeout } = DURATION_RANGES;
    const worst = maxDuration.max + taskTimeout.max + connectTimeout.max + requestTimeout.max;
    expect(worst + 86_400_000).to.be.at.most(TIMER_MAX_MS);
  });
});

describe('history show --since has a range too (item 5)', () => {
  for (const since of ['999999999w', `${'9'.repeat(400)}d`, '366d', '0s', '500ms']) {
    it(`--since ${since.length > 20 ? `${since.slice(0, 20)}…` : since}: exit 2 before connecting, stating the range`, async () => {
      const result = await runTend(['history', 'show', '--since', since]);
      expect(result.code).to.equal(2);
      expect(result.stderr).to.include(`--since ${since}: expected a duration between 1s and 365d`);
    });
  }
});
