/**
 * The layering of ../shared/ARCHITECTURE.md is enforced by eslint's no-restricted-imports
 * (eslint.config.js, `layering()`): a deliberate import across each boundary fails lint, the
 * allowed imports next to it pass, and the tree itself has no violation. Also shows that
 * no-floating-promises really runs (type-aware) on the main side.
 *
 * Snippets are linted as `src-main/<folder>/probe.ts` (not on disk; the config gives such files
 * the project service's default project) with the project's own config file.
 */
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const LAYERING = 'no-restricted-imports';

const eslint = new ESLint({ cwd: process.cwd(), overrideConfigFile: 'eslint.config.js' });

async function messages(filePath: string, code: string, rule: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  const fatal = (result?.messages ?? []).filter((m) => m.fatal);
  expect(fatal.map((m) => m.message)).toEqual([]);
  return (result?.messages ?? []).filter((m) => m.ruleId === rule).map((m) => m.message);
}

const importing = (specifier: string, name: string): string => `import { ${name} } from '${specifier}';\nexport const probe = ${name};\n`;

describe('layering boundaries (lint)', () => {
  it.each([
    ['core/ imports nothing outside core/', 'src-main/core/probe.ts', importing('../api/errors', 'ApiError'), /core\/ is a leaf/],
    ['learn/ is pure: no store', 'src-main/learn/probe.ts', importing('../store', 'openStore'), /pure/],
    ['onnx/ is pure: no jobs', 'src-main/onnx/probe.ts', importing('../jobs/runner', 'JobRunner'), /pure/],
    ['variant parsing is pure: no services', 'src-main/variants/mutations.ts', importing('../services/jobs', 'JobsService'), /pure/],
    ['learn/ is pure: no onnxruntime', 'src-main/learn/probe.ts', importing('onnxruntime-node', 'InferenceSession'), /onnxruntime-node/],
    ['a model family depends only on onnx/ and core/', 'src-main/models/esm2/probe.ts', importing('../../engine/session', 'openSession'), /only on onnx\/ and core\//],
    ['autodiff/ does not import a model family', 'src-main/autodiff/probe.ts', importing('../models/family', 'outputName'), /only on onnx\/ and core\//],
    ['serve/ goes through the services, not the store', 'src-main/serve/probe.ts', importing('../store', 'defaultHome'), /through the services/],
    ['electron/ runs no task body itself', 'src-main/electron/probe.ts', importing('../jobs/tasks/embed-dataset', 'embedDataset'), /through the services/],
    ['the CLI reads projects through the services, not the store', 'src-main/cli/probe.ts', importing('../store', 'openStore'), /CLI is a transport/],
    ['the CLI runs tasks through jobs/run-here, not their bodies', 'src-main/cli/probe.ts', importing('../jobs/tasks/variants', 'scoreDataset'), /CLI is a transport/],
    ['the renderer does not import the store', 'src-renderer/src/lib/probe.ts', importing('../../../src-main/store', 'openStore'), /only src-main\/api\//],
    ['the renderer does not import Node-only core/ modules', 'src-renderer/src/lib/probe.ts', importing('../../../src-main/core/atomic', 'writeTextAtomically'), /use Node/],
  ])('refuses: %s', async (_name, filePath, code, message) => {
    const found = await messages(filePath, code, LAYERING);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(message);
  }, 60_000);

  it.each([
    ['core/ within core/', 'src-main/core/probe.ts', importing('./process', 'isProcessAlive')],
    ['learn/ uses core/', 'src-main/learn/probe.ts', importing('../core/stats', 'spearman')],
    ['a model family uses onnx/, core/ and api/errors', 'src-main/models/esm2/probe.ts', `${importing('../../onnx', 'GraphBuilder')}${importing('../../core/cancel', 'CancelledError').replace('probe', 'probe2')}${importing('../../api/errors', 'ApiError').replace('probe', 'probe3')}`],
    ['serve/ uses the services and the compute launcher', 'src-main/serve/probe.ts', `${importing('../services', 'createHost')}${importing('../jobs/node-launcher', 'nodeComputeLauncher').replace('probe', 'probe2')}`],
    ['the CLI runs tasks here, names task types, reads .npy files', 'src-main/cli/probe.ts', `${importing('../jobs/run-here', 'runTaskHere')}${importing('../store/npy', 'readNpy').replace('probe', 'probe2')}import type { ScoreInput } from '../jobs/tasks/variants';\nexport type Probe3 = ScoreInput;\n`],
    ['the renderer uses the API and pure core/ modules', 'src-renderer/src/lib/probe.ts', `${importing('../../../src-main/api/limits', 'MAX_REQUEST_BYTES')}${importing('../../../src-main/core/metrics', 'metricsFor').replace('probe', 'probe2')}`],
  ])('allows: %s', async (_name, filePath, code) => {
    expect(await messages(filePath, code, LAYERING)).toEqual([]);
  }, 60_000);

  it('holds on the tree', async () => {
    // Only the layering rule, without type information: this checks imports, not types.
    const imports = new ESLint({
      cwd: process.cwd(),
      overrideConfigFile: 'eslint.config.js',
      overrideConfig: { files: ['**/*.ts'], languageOptions: { parserOptions: { projectService: false } } },
      ruleFilter: ({ ruleId }) => ruleId === LAYERING,
    });
    const results = await imports.lintFiles(['src-main', 'src-renderer/src']);
    const violations = results.flatMap((r) => r.messages.map((m) => `${r.filePath}:${m.line} ${m.message}`));
    expect(violations).toEqual([]);
    expect(results.length).toBeGreaterThan(100);
  }, 180_000);
});

describe('no-floating-promises (lint, type-aware)', () => {
  it('refuses a promise nobody awaits in the main side, and accepts one that is awaited or voided', async () => {
    const code = 'async function save(): Promise<void> {}\n';
    expect(await messages('src-main/serve/probe.ts', `${code}save();\n`, '@typescript-eslint/no-floating-promises')).toHaveLength(1);
    expect(await messages('src-main/serve/probe.ts', `${code}export async function run(): Promise<void> {\n  await save();\n  void save();\n}\n`, '@typescript-eslint/no-floating-promises')).toEqual([]);
  }, 60_000);
});
