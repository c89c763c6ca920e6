/**
 * Validation of a raw (already parsed) configuration document. Pure: no file or network access, so
 * `config check` validates without connecting anywhere.
 *
 * Every problem is collected, each as `dotted.path: expected X, found Y`. Sections are validated one by one so
 * a mistake in `lease` does not hide one in `repair`, and cross-field rules run on every section that passed.
 */
import type { core } from 'zod';
import {
  configJsonSchema,
  describeFound,
  sections,
  type JsonSchemaNode,
  type SectionName,
  type TendConfig,
} from './schema.js';
import { closest } from './suggest.js';
import { crossFieldFindings } from './rules.js';
import { FORBIDDEN_SECRET_KEYS, secretEnvFor, type Env } from './secrets.js';

export interface ValidationResult {
  /** Present only when there are no errors. */
  config: TendConfig | undefined;
  errors: string[];
  warnings: string[];
}

/** Paths whose values may be secret-ish: their values are never echoed in messages. */
const SECRETISH_PATH = /pass|token|secret|keyFile/i;

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out ? `.${String(segment)}` : String(segment);
  }
  return out || '(top level)';
}

/** Messages for issues whose schema did not set its own `expected …` text. */
function genericMessage(issue: core.$ZodRawIssue): string | undefined {
  const input = describeFound(issue.input);
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${issue.expected}, found ${input}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map(String).join(', ')}, found ${input}`;
    case 'too_small':
      return `expected at least ${String(issue.minimum)}, found ${input}`;
    case 'too_big':
      return `expected at most ${String(issue.maximum)}, found ${input}`;
    case 'invalid_format':
      return `expected ${issue.format}, found ${input}`;
    case 'invalid_key':
      return `invalid key ${input}`;
    default:
      return undefined;
  }
}

function schemaAt(root: JsonSchemaNode, path: ReadonlyArray<PropertyKey>): JsonSchemaNode | undefined {
  let node: JsonSchemaNode | undefined = root;
  for (const segment of path) {
    if (!node) return undefined;
    if (typeof segment === 'number') node = node.items;
    else node = node.properties?.[String(segment)];
  }
  return node;
}

/** Every dotted key in the schema, for suggestions like `contactPoints` → `cassandra.contactPoints`. */
function allKeyPaths(node: JsonSchemaNode, prefix = ''): string[] {
  const out: string[] = [];
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    const path = prefix ? `${prefix}.${key}` : key;
    out.push(path, ...allKeyPaths(child.items ?? child, child.items ? `${path}[]` : path));
  }
  return out;
}

let cachedJsonSchema: JsonSchemaNode | undefined;
function jsonSchema(): JsonSchemaNode {
  cachedJsonSchema ??= configJsonSchema();
  return cachedJsonSchema;
}

function unknownKeyMessage(parentPath: ReadonlyArray<PropertyKey>, key: string): string {
  const parent = formatPath(parentPath);
  const path = parentPath.length ? `${parent}.${key}` : key;
  const forbidden = FORBIDDEN_SECRET_KEYS[key.toLowerCase()];
  if (forbidden) {
    const variable = secretEnvFor(parent);
    return `${path}: secrets are not read from the configuration file; put it in a file readable only by tend and set ${parentPath.length ? `${parent}.` : ''}${forbidden}${variable ? `, or set ${variable}` : ''}`;
  }
  const known = Object.keys(schemaAt(jsonSchema(), parentPath)?.properties ?? {});
  let suggestion = closest(key, known);
  if (suggestion) {
    suggestion = parentPath.length ? `${parent}.${suggestion}` : suggestion;
  } else {
    // A key placed in the wrong section: `contactPoints` at the top level → cassandra.contactPoints.
    const elsewhere = allKeyPaths(jsonSchema()).filter((candidate) => candidate.split('.').pop() === key);
    suggestion = elsewhere[0]?.replace(/\[\]/g, '[0]');
  }
  if (suggestion) return `${path}: unknown key; did you mean ${suggestion}?`;
  return `${path}: unknown key${known.length ? ` (valid keys: ${known.join(', ')})` : ''}`;
}

function formatIssue(sectionName: string, issue: core.$ZodIssue): string[] {
  const fullPath = [sectionName, ...issue.path];
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => unknownKeyMessage(fullPath, key));
  }
  let message = issue.message;
  if (SECRETISH_PATH.test(formatPath(fullPath))) {
    message = message.replace(/, found .*$/, '');
  }
  return [`${formatPath(fullPath)}: ${message}`];
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function validateConfig(raw: unknown, options: { env?: Env } = {}): ValidationResult {
  const env = options.env ?? {};
  const errors: string[] = [];
  const warnings: string[] = [];
  const document = raw ?? {};
  if (!isMapping(document)) {
    return {
      config: undefined,
      errors: [`(top level): expected a mapping of sections, found ${describeFound(document)}`],
      warnings,
    };
  }
  for (const key of Object.keys(document)) {
    if (!(key in sections)) errors.push(unknownKeyMessage([], key));
  }
  const parsed: { [K in SectionName]?: TendConfig[K] } = {};
  for (const name of Object.keys(sections) as SectionName[]) {
    const result = sections[name].safeParse(document[name], {
      reportInput: true,
      error: genericMessage,
    } as core.ParseContext<core.$ZodIssue>);
    if (result.success) {
      (parsed as Record<string, unknown>)[name] = result.data;
    } else {
      for (const issue of result.error.issues) errors.push(...formatIssue(name, issue));
    }
  }
  const findings = crossFieldFindings(parsed, env);
  errors.push(...findings.errors.map((finding) => `${finding.path}: ${finding.message}`));
  warnings.push(...findings.warnings.map((finding) => `${finding.path}: ${finding.message}`));
  return { config: errors.length === 0 ? (parsed as TendConfig) : undefined, errors, warnings };
}
