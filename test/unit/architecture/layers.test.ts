/**
 * The import rules between the folders of src/ (src/README.md draws them; issue 13): use cases (src/app) own their
 * dependencies and never reach into the command layer; commands (src/cli) reach the outside world only through a use
 * case; executors (src/repair) report outcomes and the use case records them (no src/history there); src/core is pure
 * and imports only itself. Static imports, `export … from` and `import('…')` all count (ESLint's
 * no-restricted-imports sees only the first two, and the commands import their use cases lazily).
 */
import { expect } from 'chai';
import { folderOf, importedFolder, importsOf, sourceFiles } from '../../support/source-tree.js';

/** Folder → folders it must not import. */
const FORBIDDEN: Readonly<Record<string, readonly string[]>> = {
  app: ['cli'],
  cli: ['cluster', 'lease', 'repair', 'history'],
  repair: ['history', 'app', 'cli'],
  cluster: ['app', 'cli'],
  lease: ['app', 'cli', 'repair', 'history'],
  history: ['app', 'cli', 'repair', 'lease'],
  metrics: ['app', 'cli'],
  config: ['app', 'cli', 'cluster', 'lease', 'repair', 'history', 'metrics'],
  output: ['app', 'cli', 'cluster', 'lease', 'repair', 'history', 'metrics'],
};

/** Imports that break a rule, with the issue that removes them (`file -> specifier`); none since issue 13. */
const PENDING = new Set<string>([]);

describe('import rules between the folders of src/', function () {
  const files = sourceFiles('src');

  it('no folder imports one it must not', function () {
    const broken: string[] = [];
    for (const file of files) {
      const forbidden = FORBIDDEN[folderOf(file)] ?? [];
      for (const specifier of importsOf(file)) {
        const target = importedFolder(file, specifier);
        if (target && forbidden.includes(target) && !PENDING.has(`${file} -> ${specifier}`)) {
          broken.push(`${file} -> ${specifier}`);
        }
      }
    }
    expect(broken).to.deep.equal([]);
  });

  it('src/core imports only src/core (and no package)', function () {
    const outside = files
      .filter((file) => folderOf(file) === 'core')
      .flatMap((file) => importsOf(file).map((specifier) => ({ file, specifier })))
      .filter(({ file, specifier }) => importedFolder(file, specifier) !== 'core')
      .map(({ file, specifier }) => `${file} -> ${specifier}`);
    expect(outside).to.deep.equal([]);
  });

  it('every pending exception still exists (the list shrinks as the code moves)', function () {
    const present = new Set(files.flatMap((file) => importsOf(file).map((specifier) => `${file} -> ${specifier}`)));
    expect([...PENDING].filter((entry) => !present.has(entry))).to.deep.equal([]);
  });

  it('sees dynamic imports (a sanity check of the tool itself)', function () {
    expect(importsOf('src/cli/commands/schedule.ts')).to.include('../../app/schedule.js');
  });
});
