/** `tend completion bash|zsh|fish`: the shell completion script, generated from the command registry. */
import { defineCommand, type CommandModule } from '../types.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

export interface CompletionOptions {
  shell: Shell;
}

const completion = defineCommand<CompletionOptions>({
  path: ['completion'],
  summary: 'print the shell completion script',
  description:
    'Prints the completion script for SHELL on stdout. The same files ship under completions/ for packages to install.',
  arguments: [{ name: 'SHELL', description: 'bash, zsh or fish', required: true, choices: SHELLS }],
  options: [],
  examples: [
    { command: 'source <(tend completion bash)', description: 'Enable completion in the current bash.' },
    {
      command: 'tend completion zsh > "${fpath[1]}/_tend"',
      description: 'Install for zsh.',
    },
    {
      command: 'tend completion fish > ~/.config/fish/completions/tend.fish',
      description: 'Install for fish.',
    },
  ],
  exitCodes: [],
  parse: (args) => ({ shell: args[0] as Shell }),
  async run(options, deps) {
    const { completionScript } = await import('../docs/completions.js');
    const { registry } = await import('../registry.js');
    const script = completionScript(options.shell, registry);
    deps.out.data({ shell: options.shell, script }, () => deps.out.text(script));
  },
});

export const completionModule: CommandModule = { commands: [completion] };
