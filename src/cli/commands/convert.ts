/**
 * `bitnet convert IN OUT [--to gguf|hf] [--type tq2_0|tq1_0|f16|…]`: between this project's checkpoints and
 * run directories, Hugging Face model directories, GGUF files and synthetic models (`synthetic:PRESET[:SEED]`).
 * Tensors stream one at a time; the output is written to a temp file and renamed.
 */
import { progressBar } from '../progress.js';

const progressBarOf = (label: string) => progressBar(label, 'tensors', 0);
import { openModel } from '../../load/open.js';
import { loadTokenizer } from '../../tokenizer/io.js';
import { exportHF } from '../../interop/hf.js';
import { GGUF_WEIGHT_TYPES, writeGguf, type GgufWeightType } from '../../interop/gguf_model.js';
import { checkOutputDir, checkOutputFile, choiceFlag, UsageError, type Command } from '../args.js';


export const convertCommand: Command = {
  summary: 'convert a model between checkpoint/run dir, Hugging Face dir, GGUF and synthetic:PRESET (IN OUT)',
  usage: 'bitnet convert IN OUT [--to gguf|hf] [--type tq2_0|tq1_0|f16|bf16|f32|q8_0]',
  maxPositionals: 2,
  options: {
    to: { type: 'string' },
    type: { type: 'string', default: 'tq2_0' },
    'embed-type': { type: 'string', default: 'f16' },
    dtype: { type: 'string', default: 'f32' },
    tokenizer: { type: 'string' },
    name: { type: 'string' },
  },
  async run(v, pos) {
    if (pos.length !== 2) throw new UsageError('expects IN and OUT (e.g. bitnet convert runs/x model.gguf --type tq2_0)');
    const [input, output] = pos as [string, string];
    const to = choiceFlag(v, 'to', ['gguf', 'hf'] as const) ?? (output.endsWith('.gguf') ? 'gguf' : 'hf');
    const type = choiceFlag(v, 'type', GGUF_WEIGHT_TYPES)! as GgufWeightType;
    const embedType = choiceFlag(v, 'embed-type', ['f16', 'bf16', 'f32', 'q8_0'] as const)!;
    const dtype = choiceFlag(v, 'dtype', ['f32', 'bf16'] as const)!;
    if (to === 'gguf') checkOutputFile(output, 'OUT');
    else checkOutputDir(output, 'OUT');
    const m = openModel(input);
    const tokenizer = typeof v.tokenizer === 'string' ? loadTokenizer(v.tokenizer) : m.tokenizer;
    const bar = progressBarOf(`convert → ${to}`);
    const t0 = performance.now();
    try {
      if (to === 'gguf') {
        writeGguf(output, m.source, {
          type, embedType, onProgress: bar.onProgress,
          ...(tokenizer ? { tokenizer } : {}), ...(m.chatTemplate !== undefined ? { chatTemplate: m.chatTemplate } : {}),
          ...(typeof v.name === 'string' ? { name: v.name } : {}),
        });
      } else {
        exportHF(output, m.source, {
          dtype: dtype === 'f32' ? 'F32' : 'BF16', onProgress: bar.onProgress,
          ...(tokenizer ? { tokenizer } : {}), ...(m.chatTemplate !== undefined ? { chatTemplate: m.chatTemplate } : {}),
        });
      }
    } finally {
      bar.stop();
      m.close();
    }
    const c = m.source.config;
    console.log(`wrote ${output} (${to}${to === 'gguf' ? `, linear weights ${type}` : ''}) from ${m.kind} ${input}: ${c.nLayers} layers, dim ${c.dim}, vocab ${c.vocabSize}${tokenizer ? '' : ', no tokenizer (synthetic vocabulary)'} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  },
};
