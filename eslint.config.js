// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'coverage/', 'node_modules/', 'man/', 'completions/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    // src/core is pure: decisions only, no I/O. This rule keeps it that way.
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                'node:*',
                'fs',
                'fs/*',
                'child_process',
                'net',
                'http',
                'https',
                'dns',
                'os',
                'cassandra-driver',
                'consul',
                'execa',
                'cosmiconfig',
                'chalk',
                'ora',
                '../cluster/*',
                '../history/*',
                '../lease/*',
                '../repair/*',
                '../metrics/*',
                '../output/*',
                '../cli/*',
                '../app/*',
                '../config/load*',
              ],
              message: 'src/core is pure: no I/O imports (DESIGN.md, Architecture).',
            },
          ],
        },
      ],
    },
  },
  {
    // CommonJS because mocha loads reporters with require().
    files: ['**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { require: 'readonly', module: 'writable', process: 'readonly' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { 'no-console': 'off', '@typescript-eslint/no-unused-expressions': 'off' },
  },
);
