// Lint rules for the whole tree: typescript-eslint's recommended set, Svelte's, and a few
// project rules: no floating promises in the main side (where a lost rejection loses an error;
// type-aware, so those files are linted with the TypeScript project), and the layering of
// ../shared/ARCHITECTURE.md as import boundaries (test/unit/boundaries.test.ts shows each one
// refuses a deliberate violation).
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
  // No floating promises in the main side: a promise nobody awaits loses its rejection (a failed
  // write, a failed job) without a word. Needs type information, hence the project service. The
  // lint tests lint snippets as `src-main/<folder>/probe.ts`, a file that is not on disk: the
  // service knows only files on disk, so those get its default project.
  {
    files: ['src-main/**/*.ts'],
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['src-main/*/probe.ts', 'src-main/*/*/probe.ts'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: { '@typescript-eslint/no-floating-promises': 'error' },
  },
  // Layering (../shared/ARCHITECTURE.md). Each file matches at most one of these blocks: blocks
  // that set the same rule for the same file replace each other's options instead of adding up.
  ...layering(),
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
              group: ['**/models/esm2', '**/models/esm2/**', '**/models/esmc', '**/models/esmc/**'],
              message: "A model family's folder is private to src-main/models/: use models/family, models/registry or models/installed.",
            },
          ],
        },
      ],
    },
  },
);

/** Folders of src-main that hold state, transports or orchestration: what pure code never imports. */
function impure(...extra) {
  return ['store', 'services', 'serve', 'electron', 'cli', 'jobs', ...extra].flatMap((dir) => [`**/${dir}`, `**/${dir}/**`]);
}

/** Packages that load native code or the desktop shell: never in pure modules or in the renderer. */
function native() {
  return ['onnxruntime-node', 'better-sqlite3', 'electron'].map((name) => ({ name, message: `${name} belongs to the engine, the store or the desktop shell, not to this layer.` }));
}

/** One block of `no-restricted-imports` for `files`; pure layers also refuse the native packages. */
function boundary(files, patterns, { allowNative = false } = {}) {
  return { files, rules: { 'no-restricted-imports': ['error', { paths: allowNative ? [] : native(), patterns }] } };
}

function layering() {
  const src = (dirs) => dirs.map((dir) => `src-main/${dir}/**/*.ts`);
  return [
    // core/: leaf utilities; imports nothing else of the project.
    boundary(src(['core']), [{ regex: '^\\.\\./', message: 'core/ is a leaf: it imports nothing outside core/ (move the code here, or keep it where it is).' }]),
    // onnx/, learn/, variants/ parsing: pure (no database, no transport, no jobs, no runtime).
    boundary(
      [...src(['onnx', 'learn']), ...['mutations', 'positions', 'wild-type', 'apply', 'tables'].map((f) => `src-main/variants/${f}.ts`)],
      [{ group: impure('engine'), message: 'onnx/, learn/ and the variant parsers are pure: no store, services, transports, jobs or engine (ARCHITECTURE.md).' }],
    ),
    // Model families: only onnx/, core/ and each other's contract in models/ (and the user-facing
    // ApiError of api/errors); autodiff/ the same without models/.
    boundary(src(['models']), [
      {
        group: [...impure('engine', 'train', 'learn', 'variants', 'datasets', 'embeddings', 'exports', 'map', 'reports'), '**/api/*', '!**/api/errors'],
        message: 'Model families depend only on onnx/ and core/ (and api/errors) (ARCHITECTURE.md).',
      },
    ]),
    boundary(src(['autodiff']), [
      {
        group: [...impure('engine', 'train', 'learn', 'variants', 'datasets', 'embeddings', 'exports', 'map', 'reports', 'models'), '**/api/*', '!**/api/errors'],
        message: 'autodiff/ depends only on onnx/ and core/ (and api/errors) (ARCHITECTURE.md).',
      },
    ]),
    // Transports translate onto the services: no store, no task bodies (jobs/tasks/*) of their own.
    boundary(
      src(['serve', 'electron']),
      [{ group: ['**/store', '**/store/**', '**/jobs/tasks/*'], message: 'Transports go through the services: no store/ or task bodies (ARCHITECTURE.md).' }],
      { allowNative: true },
    ),
    // The command line is a transport too: its commands run the app's tasks through jobs/run-here
    // (in this process) and read the project through the services. It may name a task file's
    // types, and it reads users' .npy files with the project's codec (store/npy).
    boundary(
      src(['cli']),
      [
        { regex: '(^|/)store(/(?!npy$)[^/]+)?$', allowTypeImports: true, message: 'The CLI is a transport: it runs tasks through jobs/run-here and reads projects through the services, never store/ or task bodies (ARCHITECTURE.md).' },
        { group: ['**/jobs/tasks/*'], allowTypeImports: true, message: 'The CLI is a transport: it runs tasks through jobs/run-here and reads projects through the services, never store/ or task bodies (ARCHITECTURE.md).' },
      ],
      { allowNative: true },
    ),
    // The renderer knows the API (types) and core/'s pure modules, nothing else of src-main.
    boundary(['src-renderer/**/*.ts', 'src-renderer/**/*.svelte'], [
      {
        group: ['**/src-main/**', '!**/src-main/api', '!**/src-main/api/**', '!**/src-main/core', '!**/src-main/core/**'],
        message: 'The renderer imports only src-main/api/ (the contract) and src-main/core/ (pure utilities).',
      },
      { group: ['**/src-main/core/atomic', '**/src-main/core/process'], message: 'These core/ modules use Node (files, processes): not in the renderer.' },
    ]),
  ];
}
