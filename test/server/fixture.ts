/**
 * A tiny random model for server tests (no training): b1.58, byte tokenizer with chat tokens,
 * the EOS and <|eot_id|> embedding rows zeroed (tied head → their logits are exactly 0 while some
 * other logit is positive), so greedy generation runs until max_tokens or the context end.
 */
import { refBackend } from '../../src/kernels/backend.js';
import { validateConfig, type ModelConfig } from '../../src/model/config.js';
import { Transformer } from '../../src/model/transformer.js';
import { PackedModel } from '../../src/infer/packed_model.js';
import { sourceFromTransformer, type WeightSource } from '../../src/weights/source.js';
import { byteTokenizer } from '../../src/tokenizer/bpe.js';

export const tok = byteTokenizer(['<|begin_of_text|>', '<|end_of_text|>', '<|eot_id|>']);

/** embScale 40: decisive (repetitive) greedy output; 1: a flat distribution for sampling tests. */
export function tinySource(maxSeqLen = 1024, seed = 5, embScale = 40): WeightSource {
  const cfg: ModelConfig = validateConfig({ vocabSize: tok.vocabSize, dim: 32, nLayers: 2, nHeads: 4, nKvHeads: 2, ffnDim: 64, maxSeqLen, ropeTheta: 10000, normEps: 1e-5, ffn: 'relu2glu', subln: true, tieEmbeddings: true, quant: 'b158', groups: 1 });
  const m = new Transformer(refBackend(), cfg, 'f32');
  m.init(seed);
  const e = m.param('embed_tokens').p;
  for (let i = 0; i < e.length; i++) e[i]! *= embScale;
  for (const id of [tok.eosId, tok.tokenToId('<|eot_id|>')!]) e.fill(0, id * cfg.dim, (id + 1) * cfg.dim);
  return sourceFromTransformer(m);
}

export function tinyModel(maxSeqLen = 1024, embScale = 40): PackedModel {
  return PackedModel.load(refBackend(), tinySource(maxSeqLen, 5, embScale), { head: 'f32' });
}
