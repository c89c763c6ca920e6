/**
 * Regenerates the files derived from the command registry and the configuration schema:
 *   man/tend.8, man/tend.yml.5, completions/tend.bash, completions/_tend (zsh), completions/tend.fish,
 *   docs/commands-and-config.md (the README sections: commands, configuration, exit codes, systemd units).
 *
 *   npm run gen:docs            write them
 *   npm run gen:docs -- --check exit 1 listing the files that differ (what the drift test checks too)
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { completionScript } from './docs/completions.js';
import { configManMarkdown, renderMan, tendManMarkdown } from './docs/man.js';
import { readmeSections } from './docs/readme.js';
import { packageInfo } from './package-info.js';
import { registry as defaultRegistry, type Registry } from './registry.js';

export const EXAMPLE_CONFIG = 'systemd/tend.yml.example';

/** Every generated file: path relative to the package root → content. */
export function generatedFiles(root: string, registry: Registry = defaultRegistry): Map<string, string> {
  const version = packageInfo().version;
  const example = readFileSync(join(root, EXAMPLE_CONFIG), 'utf8');
  return new Map([
    ['man/tend.8', renderMan(tendManMarkdown(registry), version)],
    ['man/tend.yml.5', renderMan(configManMarkdown(example), version)],
    ['completions/tend.bash', completionScript('bash', registry)],
    ['completions/_tend', completionScript('zsh', registry)],
    ['completions/tend.fish', completionScript('fish', registry)],
    ['docs/commands-and-config.md', readmeSections(registry)],
  ]);
}

/** Paths whose checked-in content differs from what the registry generates. */
export function driftedFiles(root: string, registry: Registry = defaultRegistry): string[] {
  const drifted: string[] = [];
  for (const [path, content] of generatedFiles(root, registry)) {
    let current: string | undefined;
    try {
      current = readFileSync(join(root, path), 'utf8');
    } catch {
      current = undefined;
    }
    if (current !== content) drifted.push(path);
  }
  return drifted;
}

function run(argv: readonly string[]): number {
  const root = packageInfo().root;
  if (argv.includes('--check')) {
    const drifted = driftedFiles(root);
    for (const path of drifted) process.stderr.write(`out of date: ${path} (run npm run gen:docs)\n`);
    return drifted.length ? 1 : 0;
  }
  for (const [path, content] of generatedFiles(root)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
    process.stderr.write(`wrote ${path}\n`);
  }
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = run(process.argv.slice(2));
}
