/**
 * One small model in every format the page and Node open, written by the project's own writers: GGUF TQ2_0
 * and TQ1_0 (writeGguf, with a byte-level BPE tokenizer trained here), a Hugging Face folder (exportHF) and
 * our model file (saveModelFile), the last two from the GGUF, so all four hold the same ternary weights.
 * A freshly initialised Transformer (not the synthetic random-ternary source, whose logits are so peaked
 * that every token comes out the same): rows of 256 values, as the TQ blocks need.
 */
import { join } from 'node:path';
import { loadGguf, writeGguf } from '../../src/interop/gguf_model.js';
import { exportHF } from '../../src/interop/hf.js';
import { saveModelFile } from '../../src/load/open.js';
import { refBackend } from '../../src/kernels/backend.js';
import { makeConfig, type ModelConfig } from '../../src/model/config.js';
import { Transformer } from '../../src/model/transformer.js';
import { trainBpe } from '../../src/tokenizer/train.js';
import { sourceFromTransformer } from '../../src/weights/source.js';

export const FORMATS_CONFIG: ModelConfig = makeConfig('tiny', { dim: 256, ffnDim: 512, nHeads: 4, nKvHeads: 2, vocabSize: 320, maxSeqLen: 64, nLayers: 2 });
const TEXT = ['The state of the Union is strong.', 'the cat sat on the mat, the end.', 'naïve café — the people of this nation', "it's 2024: numbers 12345"];

export interface FormatFiles {
  tq2: string;
  tq1: string;
  /** A Hugging Face folder (config.json, model.safetensors, tokenizer.json, tokenizer_config.json, generation_config.json). */
  hf: string;
  modelFile: string;
}

/** Write the four under `dir` (seeded synthetic weights). */
export function writeFormats(dir: string, seed = 5): FormatFiles {
  const m = new Transformer(refBackend(), FORMATS_CONFIG);
  m.init(seed);
  // A fresh model with a tied head repeats its last input token (the embedding dominates the residual);
  // with the embedding scaled down the layers decide, and greedy tokens vary.
  const emb = m.param('embed_tokens').p as Float32Array;
  for (let i = 0; i < emb.length; i++) emb[i] = emb[i]! * 0.001;
  const src = sourceFromTransformer(m);
  const tokenizer = trainBpe(TEXT, { vocabSize: 300, pattern: 'llama3' });
  const tq2 = join(dir, 'tiny-tq2_0.gguf'), tq1 = join(dir, 'tiny-tq1_0.gguf'), hf = join(dir, 'tiny-hf'), modelFile = join(dir, 'tiny.safetensors');
  writeGguf(tq2, src, { type: 'tq2_0', tokenizer });
  writeGguf(tq1, src, { type: 'tq1_0', tokenizer });
  const g = loadGguf(tq2); // the weights and tokenizer as the GGUF holds them go into the other formats
  try {
    exportHF(hf, g.source, { tokenizer: g.tokenizer! });
    saveModelFile(modelFile, g.source, g.tokenizer);
  } finally {
    g.close();
  }
  return { tq2, tq1, hf, modelFile };
}
