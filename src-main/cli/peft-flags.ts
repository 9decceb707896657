/**
 * cli/peft-flags — `finetune`'s choice of PEFT method (--peft lora|prompt|adapter, --prompt-length,
 * --prompt-layers, --adapter-size, --adapter-layers) for every task, signal peptides included: the
 * flags read into the API's PeftChoice, with messages that name the flag, and the help text.
 */
import { PeftChoice, PeftMethodName } from '../api/schemas';
import { CliExit } from './exit';

export interface PeftFlags {
  peft: string;
  promptLength: string;
  promptLayers: string;
  adapterSize: string;
  adapterLayers: string;
}

/** The flags' defaults (the API's) as commander strings. */
export function peftFlagDefaults(): PeftFlags {
  const d = PeftChoice.parse({});
  return { peft: d.method, promptLength: String(d.prompt.length), promptLayers: String(d.prompt.layers), adapterSize: String(d.adapter.size), adapterLayers: String(d.adapter.layers) };
}

export const PEFT_HELP = {
  peft: 'how the frozen model is adapted: lora (low-rank updates, --lora-*), prompt (learned virtual tokens before <cls>, --prompt-*) or adapter (bottleneck adapters after the attention and feed-forward outputs, --adapter-*); prompts and adapters cannot be merged into the weights, the prediction model carries them',
  promptLength: '--peft prompt: number of virtual tokens',
  promptLayers: "--peft prompt: input (a prompt before the first layer only), all (deep: a prompt before every layer, as PEFT-SP) or K (deep, the top K layers)",
  adapterSize: '--peft adapter: bottleneck width of each adapter',
  adapterLayers: '--peft adapter: adapt all layers or the top K',
} as const;

const layerCount = (text: string, words: readonly string[], flag: string): string | number => {
  if (words.includes(text)) return text;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new CliExit(`${flag} must be ${words.join(', ')} or a whole number of top layers, got "${text}".`, 2);
  return n;
};

/** The flags as the API's PeftChoice; a bad value exits with the flag named. */
export function peftChoiceFromFlags(flags: Partial<PeftFlags>): PeftChoice {
  const d = peftFlagDefaults();
  const f = { ...d, ...Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined)) } as PeftFlags;
  if (!PeftMethodName.options.includes(f.peft as PeftChoice['method'])) throw new CliExit(`--peft must be one of ${PeftMethodName.options.join(', ')}, got "${f.peft}".`, 2);
  const parsed = PeftChoice.safeParse({
    method: f.peft,
    prompt: { length: Number(f.promptLength), layers: layerCount(f.promptLayers, ['input', 'all'], '--prompt-layers') },
    adapter: { size: Number(f.adapterSize), layers: layerCount(f.adapterLayers, ['all'], '--adapter-layers') },
  });
  if (!parsed.success) {
    const flagOf: Record<string, string> = { 'prompt.length': '--prompt-length', 'prompt.layers': '--prompt-layers', 'adapter.size': '--adapter-size', 'adapter.layers': '--adapter-layers' };
    const problems = parsed.error.issues.map((issue) => `${flagOf[issue.path.join('.')] ?? '--peft'}: ${issue.message}`);
    throw new CliExit(`Invalid PEFT settings:\n  ${problems.join('\n  ')}`, 2);
  }
  return parsed.data;
}
