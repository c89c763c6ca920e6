/**
 * tend's source as the TypeScript compiler reads it, for the tests that hold the architecture in place
 * (test/unit/architecture): how long each function is, and what each file imports. The compiler's syntax tree, not a
 * regex: a brace in a string or a template, or an import split over lines, cannot fool it.
 *
 * Also a command: `npx tsx test/support/source-tree.ts [LIMIT]` lists every function in src/ longer than LIMIT lines
 * (default 60), longest first.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Every .ts file below `dir` (relative to the repository), as repository-relative paths with `/`. */
export function sourceFiles(dir = 'src'): string[] {
  const files: string[] = [];
  const walk = (absolute: string) => {
    for (const entry of readdirSync(absolute, { withFileTypes: true })) {
      const path = join(absolute, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) files.push(relative(REPO, path).split(sep).join('/'));
    }
  };
  walk(join(REPO, dir));
  return files.sort();
}

function parse(file: string): ts.SourceFile {
  return ts.createSourceFile(file, readFileSync(join(REPO, file), 'utf8'), ts.ScriptTarget.Latest, true);
}

export interface FunctionSpan {
  readonly file: string;
  /** `name`, `Class.method`, or the name of what holds an anonymous function (`const x = () => …`, `{ x: () => … }`). */
  readonly name: string;
  /** 1-based line of its first token (after any doc comment). */
  readonly line: number;
  /** Lines from its first token to its last, both included. */
  readonly lines: number;
}

function nameOf(node: ts.Node): string {
  const named = (n: ts.Node): string | undefined => {
    const name = (n as { name?: ts.Node }).name;
    return name && (ts.isIdentifier(name) || ts.isStringLiteral(name) || ts.isPrivateIdentifier(name))
      ? name.text
      : undefined;
  };
  if (ts.isConstructorDeclaration(node)) return `${named(node.parent) ?? '<class>'}.constructor`;
  if (ts.isMethodDeclaration(node) || ts.isGetAccessor(node) || ts.isSetAccessor(node)) {
    const owner = ts.isClassLike(node.parent) ? named(node.parent) : undefined;
    return owner ? `${owner}.${named(node) ?? '<method>'}` : (named(node) ?? '<method>');
  }
  const own = named(node);
  if (own) return own;
  // An anonymous function: named by what holds it.
  const holder = node.parent;
  if (ts.isVariableDeclaration(holder) || ts.isPropertyAssignment(holder) || ts.isPropertyDeclaration(holder)) {
    return named(holder) ?? '<anonymous>';
  }
  return '<anonymous>';
}

/** Every function of `file`: declarations, methods, accessors, constructors, function expressions and arrows. */
export function functionSpans(file: string): FunctionSpan[] {
  const source = parse(file);
  const spans: FunctionSpan[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && (node as { body?: ts.Node }).body !== undefined) {
      const first = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const last = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      spans.push({ file, name: nameOf(node), line: first + 1, lines: last - first + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return spans;
}

/** The module specifiers `file` imports: static imports, `export … from`, and `import('…')` with a literal. */
export function importsOf(file: string): string[] {
  const source = parse(file);
  const found: string[] = [];
  const visit = (node: ts.Node) => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) {
      if (ts.isStringLiteral(node.moduleSpecifier)) found.push(node.moduleSpecifier.text);
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteralLike(node.arguments[0])
    ) {
      found.push(node.arguments[0].text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/**
 * The folder of src/ a relative import of `file` lands in (`cluster`, `core`, …; `.` for src/ itself), or undefined
 * for a package import.
 */
export function importedFolder(file: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const target = relative(join(REPO, 'src'), resolve(join(REPO, dirname(file)), specifier)).split(sep);
  return target.length === 1 ? '.' : target[0];
}

/** The folder of src/ that `file` (a repository-relative path under src/) is in; `.` for src/ itself. */
export function folderOf(file: string): string {
  const parts = file.split('/');
  return parts.length === 2 ? '.' : parts[1]!;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const limit = Number(process.argv[2] ?? 60);
  const long = sourceFiles('src')
    .flatMap(functionSpans)
    .filter((span) => span.lines > limit)
    .sort((a, b) => b.lines - a.lines);
  for (const span of long) process.stdout.write(`${span.lines}\t${span.file}:${span.line}\t${span.name}\n`);
}
