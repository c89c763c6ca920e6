import { Command } from 'commander';
import { readFileSync } from 'node:fs';

// Placeholder entry point until the command registry lands (issue 3).
export async function main(argv: string[]): Promise<number> {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  const program = new Command('tend').version(pkg.version).description('Keeps every table of a Cassandra cluster repaired');
  await program.parseAsync(argv);
  return 0;
}
