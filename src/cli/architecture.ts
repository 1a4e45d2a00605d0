/**
 * Architecture flags (`bitnet train`, `bitnet experiment`): each sets one ModelConfig field on top of a
 * preset and is validated like the config (src/model/config.ts); contradicting pairs are usage errors.
 */
import { FFN_KINDS, type ModelConfig } from '../model/config.js';
import { SHARED_OPTIONS, choiceFlag, intFlag, UsageError } from './args.js';

export const ARCHITECTURE_OPTIONS = {
  dim: { type: 'string' },
  layers: { type: 'string' },
  heads: { type: 'string' },
  'kv-heads': { type: 'string' },
  'ffn-dim': { type: 'string' },
  ffn: { type: 'string' },
  ctx: SHARED_OPTIONS.ctx,
  tie: { type: 'boolean' },
  'no-tie': { type: 'boolean' },
  subln: { type: 'boolean' },
  'no-subln': { type: 'boolean' },
} as const;

/** Architecture flags → config overrides (only the flags given). */
export function architectureFlags(v: Record<string, unknown>): Partial<ModelConfig> {
  const o: Partial<ModelConfig> = {};
  const int = (flag: string, key: 'dim' | 'nLayers' | 'nHeads' | 'nKvHeads' | 'ffnDim' | 'maxSeqLen') => {
    const x = intFlag(v, flag, 1);
    if (x !== undefined) o[key] = x;
  };
  int('dim', 'dim');
  int('layers', 'nLayers');
  int('heads', 'nHeads');
  int('kv-heads', 'nKvHeads');
  int('ffn-dim', 'ffnDim');
  int('ctx', 'maxSeqLen');
  const ffn = choiceFlag(v, 'ffn', FFN_KINDS);
  if (ffn !== undefined) o.ffn = ffn;
  const pair = (yes: string, no: string, key: 'tieEmbeddings' | 'subln') => {
    if (v[yes] && v[no]) throw new UsageError(`--${yes} and --${no} contradict each other`);
    if (v[yes]) o[key] = true;
    if (v[no]) o[key] = false;
  };
  pair('tie', 'no-tie', 'tieEmbeddings');
  pair('subln', 'no-subln', 'subln');
  return o;
}

