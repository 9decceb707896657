/**
 * ESM C checkpoints in every layout of test/fixtures/golden/esmc-tiny: the original `.pth` (and a
 * state dict saved in module order, with `_metadata`), the esm package's names as safetensors, and
 * the Biohub / Hugging Face TransformerEngine folder (empty `_extra_state` tensors skipped) all
 * open to the same sizes and byte-identical stored weights; recognition keeps ESM-2 and ESM C
 * apart; the heads rule, config.json precedence, and the messages for missing or misshapen tensors.
 */
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { esm2 } from '../../src-main/models/esm2';
import { esmc } from '../../src-main/models/esmc';
import { ESMC_CATALOG } from '../../src-main/models/esmc/catalog';
import { openEsmcCheckpoint } from '../../src-main/models/esmc/checkpoint';
import { inferredHeads, makeConfig, type EsmcConfig } from '../../src-main/models/esmc/config';
import { parameterCount } from '../../src-main/models/esmc/weights';
import { openSafetensors, readFloat32 } from '../../src-main/models/formats/safetensors';
import { writeSafetensorsFile } from '../../src-main/models/formats/safetensors-write';
import { familyOfCheckpoint } from '../../src-main/models/registry';
import { GOLDEN } from '../support/golden';

const CHECKPOINT = join(GOLDEN, 'esmc-tiny', 'checkpoint');
const LAYOUTS = {
  'esm .pth': join(CHECKPOINT, 'esm', 'data', 'weights', 'esmc_tiny_2024_12_v0.pth'),
  'module-order .pth': join(CHECKPOINT, 'variants', 'state_dict_module_order.pth'),
  'esm safetensors': join(CHECKPOINT, 'esm', 'model.safetensors'),
  'hf folder': join(CHECKPOINT, 'hf'),
  'hf model.safetensors': join(CHECKPOINT, 'hf', 'model.safetensors'),
} as const;

const sizes = (config: EsmcConfig) => ({
  numLayers: config.numLayers,
  hiddenSize: config.hiddenSize,
  numHeads: config.numHeads,
  headDim: config.headDim,
  intermediateSize: config.intermediateSize,
  vocabSize: config.vocabSize,
});

describe('ESM C checkpoints', () => {
  it('reads every layout to the same sizes and byte-identical stored weights', () => {
    const reference = esmc.openCheckpoint(LAYOUTS['esm safetensors']);
    const tensors = esmc.storedTensors(reference.config, 'fp32');
    expect(sizes(reference.config as EsmcConfig)).toEqual({ numLayers: 2, hiddenSize: 64, numHeads: 4, headDim: 16, intermediateSize: 256, vocabSize: 64 });
    for (const [layout, source] of Object.entries(LAYOUTS)) {
      expect(familyOfCheckpoint(source).id, layout).toBe('esmc');
      const checkpoint = esmc.openCheckpoint(source);
      expect(sizes(checkpoint.config as EsmcConfig), layout).toEqual(sizes(reference.config as EsmcConfig));
      expect(checkpoint.ignoredKeys, layout).toEqual([]);
      for (const tensor of tensors) expect(Buffer.from(checkpoint.storedBytes(tensor)).equals(Buffer.from(reference.storedBytes(tensor))), `${layout} ${tensor.name}`).toBe(true);
    }
  });

  it('records the layout and where the head count came from', () => {
    const configOf = (source: string) => openEsmcCheckpoint(source).config;
    expect(configOf(LAYOUTS['esm .pth'])).toMatchObject({ layout: 'esm-pth', headsInferred: true, sourceName: 'esmc_tiny_2024_12_v0' });
    expect(configOf(LAYOUTS['esm safetensors'])).toMatchObject({ layout: 'esm-safetensors', headsInferred: true });
    expect(configOf(LAYOUTS['hf folder'])).toMatchObject({ layout: 'hf', headsInferred: false });
  });

  it('keeps ESM-2 and ESM C checkpoints apart', () => {
    for (const source of Object.values(LAYOUTS)) expect(esm2.recognises(source)).toBe(false);
    const esm2Tiny = join(GOLDEN, 'tiny', 'checkpoint');
    expect(esmc.recognises(esm2Tiny)).toBe(false);
    expect(esmc.recognises(join(esm2Tiny, 'model.safetensors'))).toBe(false);
    expect(familyOfCheckpoint(esm2Tiny).id).toBe('esm2');
  });

  it('infers 64-wide heads for the published widths and 4 heads below 256; a config.json beside the weights wins', () => {
    expect([960, 1152, 2560, 64, 128].map(inferredHeads)).toEqual([15, 18, 40, 4, 4]);
    const dir = mkdtempSync(join(tmpdir(), 'esmc-config-'));
    copyFileSync(LAYOUTS['esm safetensors'], join(dir, 'model.safetensors'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'esmc', d_model: 64, n_heads: 8, n_layers: 2, vocab_size: 64 }));
    expect(openEsmcCheckpoint(dir).config).toMatchObject({ numHeads: 8, headDim: 8, headsInferred: false, layout: 'esm-safetensors' });
  });

  it('names the missing tensor, and the tensor whose shape disagrees with config.json', () => {
    const dir = mkdtempSync(join(tmpdir(), 'esmc-broken-'));
    const table = openSafetensors(LAYOUTS['esm safetensors']);
    const kept = [...table.values()].filter((info) => info.name !== 'transformer.blocks.1.attn.k_ln.weight');
    writeSafetensorsFile(join(dir, 'model.safetensors'), kept.map((info) => ({ name: info.name, shape: info.shape, data: readFloat32(info) })));
    expect(() => openEsmcCheckpoint(dir)).toThrow(/"transformer\.blocks\.1\.attn\.k_ln\.weight" is missing \(expected shape \[64\]\)/);

    const wrong = mkdtempSync(join(tmpdir(), 'esmc-wrong-'));
    copyFileSync(LAYOUTS['hf model.safetensors'], join(wrong, 'model.safetensors'));
    writeFileSync(join(wrong, 'config.json'), JSON.stringify({ model_type: 'esmc', d_model: 64, n_heads: 4, n_layers: 3 }));
    expect(() => openEsmcCheckpoint(wrong)).toThrow(/"transformer\.blocks\.2\..*" is missing/);
    writeFileSync(join(wrong, 'config.json'), JSON.stringify({ model_type: 'esmc', d_model: 64, n_heads: 4, n_layers: 2, vocab_size: 33 }));
    expect(() => openEsmcCheckpoint(wrong)).toThrow(/"vocab_size" is 33, but ESM C has 64/);
  });

  it('has catalogue entries whose sizes are those of the converted weights', () => {
    for (const entry of ESMC_CATALOG) {
      const config = makeConfig(
        { hiddenSize: entry.hidden, numHeads: inferredHeads(entry.hidden), numLayers: entry.layers, intermediateSize: Math.ceil((8 / 3) * entry.hidden / 256) * 256 },
        { layout: 'hf', headsInferred: true, sourceName: entry.id, where: entry.repo },
      );
      expect(config.numHeads, entry.id).toBe(entry.heads);
      expect(parameterCount(config), entry.id).toBe(entry.parameters);
      expect(entry.sizeBytes / (4 * entry.parameters)).toBeCloseTo(1, 1);
      expect(entry.family).toBe('esmc');
    }
    expect(ESMC_CATALOG.map((entry) => entry.repo)).toEqual(['biohub/ESMC-300M', 'biohub/ESMC-600M']);
  });
});
