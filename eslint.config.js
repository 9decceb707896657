// Lint rules for the whole tree: typescript-eslint's recommended set, Svelte's, and a few
// project rules (no floating promises in the main side, where a lost rejection loses an error).
import js from '@eslint/js';
import globals from 'globals';
import svelte from 'eslint-plugin-svelte';
import ts from 'typescript-eslint';

export default ts.config(
  { ignores: ['out/', 'dist/', 'node_modules/', 'test-results/', '.electron-native/', '.scratch*'] },
  js.configs.recommended,
  ...ts.configs.recommended,
  ...svelte.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: ts.parser, extraFileExtensions: ['.svelte'] } },
  },
  // Model families: nothing outside src-main/models/ imports a family's folder; everything else
  // asks models/family, models/registry and models/installed. Tests may import a family directly.
  // typescript-eslint's twin of no-restricted-imports, so this block never replaces (or is
  // replaced by) the layering rules' own no-restricted-imports options for the same files.
  {
    files: ['src-main/**/*.ts', 'src-renderer/**/*.ts', 'src-renderer/**/*.svelte'],
    ignores: ['src-main/models/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/models/esm2', '**/models/esm2/**'],
              message: "A model family's folder is private to src-main/models/: use models/family, models/registry or models/installed.",
            },
          ],
        },
      ],
    },
  },
);
