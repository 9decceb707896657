/**
 * The model-family boundary is enforced by eslint (eslint.config.js): code outside src-main/models/
 * that imports a family's folder (src-main/models/esm2/…) fails lint; the same import inside
 * models/ or in a test passes, and so does going through models/family or models/installed.
 */
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const RULE = '@typescript-eslint/no-restricted-imports';

async function familyRuleMessages(filePath: string, code: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: process.cwd() });
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).filter((m) => m.ruleId === RULE).map((m) => m.message);
}

describe('model family boundary (lint)', () => {
  it("refuses a family's internals imported from outside src-main/models", async () => {
    const messages = await familyRuleMessages('src-main/engine/probe.ts', "import { TOKENS } from '../models/esm2/tokenizer';\nexport const t = TOKENS;\n");
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/private to src-main\/models/);
    const viaFolder = await familyRuleMessages('src-main/jobs/tasks/probe.ts', "import { esm2 } from '../../models/esm2';\nexport const f = esm2;\n");
    expect(viaFolder).toHaveLength(1);
    const esmcInternals = await familyRuleMessages('src-main/services/probe.ts', "import { TOKENS } from '../models/esmc/tokenizer';\nexport const t = TOKENS;\n");
    expect(esmcInternals).toHaveLength(1);
  }, 60_000);

  it('allows the interface from outside, and the family from models/ and tests', async () => {
    expect(await familyRuleMessages('src-main/engine/probe.ts', "import { outputName } from '../models/family';\nexport const o = outputName;\n")).toEqual([]);
    expect(await familyRuleMessages('src-main/models/probe.ts', "import { esm2 } from './esm2';\nexport const f = esm2;\n")).toEqual([]);
    expect(await familyRuleMessages('test/unit/probe.test.ts', "import { esm2 } from '../../src-main/models/esm2';\nexport const f = esm2;\n")).toEqual([]);
  }, 60_000);
});
