/**
 * PEFT adapter files: written from the golden tiny-lora parameters (real names and shapes), read
 * back exactly, in the layout Hugging Face PEFT loads (prefixed names, LoraConfig fields), and
 * refused with messages that name the file, the tensor, the expected and the found shape.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSafetensors, readFloat32 } from '../../src-main/models/formats/safetensors';
import { writeSafetensorsFile } from '../../src-main/models/formats/safetensors-write';
import {
  ADAPTER_CONFIG, ADAPTER_WEIGHTS, HEAD_WEIGHTS, loraParameterShapes, readPeftAdapter, splitTrainedParameters, writePeftAdapter,
  type LoraSettings, type ShapedTensorMap,
} from '../../src-main/train/peft';
import { GOLDEN } from '../support/golden';
import { readSafetensorsWhole } from '../support/safetensors-writer';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'peft-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const LORA_DIR = join(GOLDEN, 'tiny-lora');
const manifest = JSON.parse(readFileSync(join(LORA_DIR, 'manifest.json'), 'utf8')) as { param_order: string[] };
const TINY = { hiddenSize: 64, intermediateSize: 256, numLayers: 2 };
const SETTINGS: LoraSettings = {
  baseModel: 'tiny', r: 4, loraAlpha: 8, loraDropout: 0, targetModules: ['query', 'value'], layersToTransform: [0, 1], taskType: 'FEATURE_EXTRACTION',
};

/** The golden initial parameters under their internal names. */
function goldenParams(): ShapedTensorMap {
  const table = openSafetensors(join(LORA_DIR, 'lora_ref.safetensors'));
  return new Map(manifest.param_order.map((name) => {
    const info = table.get(`init.${name}`)!;
    return [name, { shape: info.shape, data: readFloat32(info) }];
  }));
}

function writeGoldenAdapter(dir: string): ShapedTensorMap {
  const params = goldenParams();
  const { lora, head } = splitTrainedParameters(params);
  writePeftAdapter(dir, { settings: SETTINGS, lora, head, headConfig: { pooling: 'mean', task: 'regression' } });
  return params;
}

describe('PEFT adapters', () => {
  it('derives the golden LoRA names and shapes from the settings (q, v of both tiny layers, r 4)', () => {
    const expected = goldenParams();
    const shapes = loraParameterShapes(SETTINGS, TINY);
    expect([...shapes.keys()].sort()).toEqual(manifest.param_order.filter((n) => n.includes('lora_')).sort());
    for (const [name, shape] of shapes) expect(shape).toEqual(expected.get(name)!.shape);
    expect(loraParameterShapes({ ...SETTINGS, targetModules: ['dense'], layersToTransform: [1] }, TINY)).toEqual(new Map([
      ['esm.encoder.layer.1.attention.output.dense.lora_A.weight', [4, 64]],
      ['esm.encoder.layer.1.attention.output.dense.lora_B.weight', [64, 4]],
      ['esm.encoder.layer.1.intermediate.dense.lora_A.weight', [4, 64]],
      ['esm.encoder.layer.1.intermediate.dense.lora_B.weight', [256, 4]],
      ['esm.encoder.layer.1.output.dense.lora_A.weight', [4, 256]],
      ['esm.encoder.layer.1.output.dense.lora_B.weight', [64, 4]],
    ]));
    expect(() => loraParameterShapes({ ...SETTINGS, layersToTransform: [2] }, TINY)).toThrow(/layers 0 to 1/);
  });

  it('writes PEFT’s layout: prefixed fp32 tensors, LoraConfig fields, the head beside them', () => {
    const dir = tempDir();
    writeGoldenAdapter(dir);
    const tensors = readSafetensorsWhole(join(dir, ADAPTER_WEIGHTS));
    expect(tensors).toHaveLength(8);
    expect(tensors.every((t) => t.dtype === 'F32' && t.name.startsWith('base_model.model.esm.encoder.layer.'))).toBe(true);
    expect(tensors.map((t) => t.name)).toContain('base_model.model.esm.encoder.layer.1.attention.self.value.lora_B.weight');
    const config = JSON.parse(readFileSync(join(dir, ADAPTER_CONFIG), 'utf8')) as Record<string, unknown>;
    expect(config).toMatchObject({
      peft_type: 'LORA', task_type: 'FEATURE_EXTRACTION', r: 4, lora_alpha: 8, lora_dropout: 0, target_modules: ['query', 'value'],
      layers_to_transform: [0, 1], bias: 'none', fan_in_fan_out: false, inference_mode: true, base_model_name_or_path: 'tiny', modules_to_save: null,
    });
    expect(readSafetensorsWhole(join(dir, HEAD_WEIGHTS)).map((t) => [t.name, t.shape])).toEqual([['head.weight', [1, 64]], ['head.bias', [1]]]);
  });

  it('reads an adapter back exactly, checked against the shapes the model expects', () => {
    const dir = tempDir();
    const params = writeGoldenAdapter(dir);
    const adapter = readPeftAdapter(dir, { lora: loraParameterShapes(SETTINGS, TINY), head: new Map([['head.weight', [1, 64]], ['head.bias', [1]]]) });
    expect(adapter.settings).toEqual({ ...SETTINGS, inferenceMode: true });
    expect(new Map([...adapter.lora, ...adapter.head])).toEqual(params);
    expect(adapter.headConfig).toEqual({ pooling: 'mean', task: 'regression' });
  });

  it('names file, tensor, expected and found shape when the adapter does not fit the model', () => {
    const dir = tempDir();
    writeGoldenAdapter(dir);
    const weights = join(dir, ADAPTER_WEIGHTS);
    const wrongModel = loraParameterShapes(SETTINGS, { ...TINY, hiddenSize: 32 });
    expect(() => readPeftAdapter(dir, { lora: wrongModel })).toThrow(
      `${weights}: tensor "esm.encoder.layer.0.attention.self.query.lora_A.weight": expected shape [4, 32], found [4, 64].`,
    );
    expect(() => readPeftAdapter(dir, { lora: loraParameterShapes({ ...SETTINGS, targetModules: ['query', 'key', 'value'] }, TINY) })).toThrow(
      /tensor "esm\.encoder\.layer\.0\.attention\.self\.key\.lora_A\.weight" is missing; this model expects it with shape \[4, 64\]/,
    );
    expect(() => readPeftAdapter(dir, { head: new Map([['head.weight', [3, 64]], ['head.bias', [3]]]) })).toThrow(/head\.safetensors: tensor "head\.weight": expected shape \[3, 64\], found \[1, 64\]/);
  });

  it('refuses a rank that disagrees with adapter_config.json, unpaired matrices and unsupported LoRA variants', () => {
    const dir = tempDir();
    writeGoldenAdapter(dir);
    const configPath = join(dir, ADAPTER_CONFIG);
    const config = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>;
    const withConfig = (changes: Record<string, unknown>): (() => unknown) => () => {
      writeFileSync(configPath, JSON.stringify({ ...config, ...changes }));
      return readPeftAdapter(dir);
    };
    expect(withConfig({ r: 8 })).toThrow(/lora_A\.weight": expected shape \[8, in\] \(r = 8 from adapter_config\.json\), found \[4, 64\]/);
    expect(withConfig({ layers_to_transform: [1] })).toThrow(/adapts layer 0, but adapter_config\.json's layers_to_transform is \[1\]/);
    expect(withConfig({ target_modules: '.*query' })).toThrow(/target_modules ".\*query" is not a list/);
    expect(withConfig({ use_dora: true })).toThrow(/DoRA/);
    expect(withConfig({ peft_type: 'IA3' })).toThrow(/peft_type "IA3"/);
    writeFileSync(configPath, JSON.stringify(config));
    const a = goldenParams().get('esm.encoder.layer.0.attention.self.query.lora_A.weight')!;
    writeSafetensorsFile(join(dir, ADAPTER_WEIGHTS), [{ name: 'base_model.model.esm.encoder.layer.0.attention.self.query.lora_A.weight', ...a }]);
    expect(() => readPeftAdapter(dir)).toThrow(/has no partner "base_model\.model\.esm\.encoder\.layer\.0\.attention\.self\.query\.lora_B\.weight"/);
  });

  it('refuses to split parameters that belong neither to LoRA nor to the head', () => {
    expect(() => splitTrainedParameters(new Map([['esm.encoder.layer.0.attention.self.query.weight', { shape: [1], data: new Float32Array(1) }]]))).toThrow(/neither a LoRA matrix/);
  });
});
