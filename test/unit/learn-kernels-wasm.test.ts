// The SIMD kernels' binary is generated from learn/kernels.wat (scripts/build-kernels-wasm.ts):
// the committed bytes must be exactly what a fresh compile of the source gives, and the module
// must export the four kernels learn/kernels calls. (Their numerics are tested against the JS
// kernels in learn-regressors.test.ts.)
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileKernels, generatedSource, GENERATED_FILE } from '../../scripts/build-kernels-wasm';
import { KERNELS_WASM_BASE64 } from '../../src-main/learn/kernels-wasm.generated';

describe('learn/kernels.wat', () => {
  it('compiles to the committed bytes', async () => {
    const fresh = await compileKernels();
    expect(Buffer.from(KERNELS_WASM_BASE64, 'base64').equals(Buffer.from(fresh))).toBe(true);
    expect(readFileSync(GENERATED_FILE, 'utf8')).toBe(generatedSource(fresh));
  });

  it('exports axpy, dot, rot and block4x4 over an imported memory', () => {
    const module = new WebAssembly.Module(Buffer.from(KERNELS_WASM_BASE64, 'base64'));
    expect(WebAssembly.Module.exports(module).map((e) => `${e.kind} ${e.name}`).sort()).toEqual(['function axpy', 'function block4x4', 'function dot', 'function rot']);
    expect(WebAssembly.Module.imports(module)).toEqual([{ module: 'env', name: 'memory', kind: 'memory' }]);
  });
});
