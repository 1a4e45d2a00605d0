/**
 * Train a small model on a text, start to finish, in any JavaScript engine: the recipe the demo page's
 * Train section runs in its worker (web/train_worker.ts) and the Node tests run, one function so both run
 * the same code — same text, options and thread count give the same model file, byte for byte.
 *
 *   text → byte-level tokens (ids 0…255 = UTF-8 bytes, + BOS/EOS) → the last 10% (at least one window)
 *   for validation → 'tiny' preset (vocab 258, context 64) → train (B 8, T 64, cosine LR) → the trained
 *   weights packed into the engine layout on the reference kernels (as `bitnet pack` does) → model file bytes,
 *   tokenizer included (`bitnet generate model.safetensors`, `loadModelFromBytes`).
 *
 * Here in src/load: it trains (train layer) and packs a model file (infer layer).
 */
import { ArgumentError } from '../errors.js';
import { refBackend, type Backend } from '../kernels/backend.js';
import { makeConfig, QUANT_MODES, type ModelConfig, type QuantMode } from '../model/config.js';
import { byteTokenizer, type BpeTokenizer } from '../tokenizer/bpe.js';
import { arrayDataSource } from '../train/data_source.js';
import { defaultTrainOptions, train, type StepLog, type TrainOptions, type TrainResult } from '../train/loop.js';
import { sourceFromTransformer } from '../weights/source.js';
import { modelFileBytes } from '../infer/model_file.js';
import { PackedModel } from '../infer/packed_model.js';

export { SAMPLE_TEXT } from './sample_text.js';

export interface QuickTrainOptions {
  steps: number;
  /** BitLinear variant (default b158; 'fp' trains the full-precision twin). */
  quant?: QuantMode;
  /** Initialisation and batch order (default 1). */
  seed?: number;
  /** Sequences per step (default 8). */
  batchSize?: number;
  /** Tokens per sequence = the model's context (default 64). */
  seqLen?: number;
  /** Peak learning rate of the cosine schedule (default 3e-3). */
  lr?: number;
}

export interface QuickTrainResult {
  tokenizer: BpeTokenizer;
  config: ModelConfig;
  options: TrainOptions;
  /** The trained model, optimizer state, per-step logs and the final validation loss. */
  result: TrainResult;
  /** Steps actually run (fewer than `steps` when stopped). */
  stepsDone: number;
  trainTokens: number;
  valTokens: number;
  /** The model file (format 'bitnet-ts-model'), tokenizer included. */
  bytes: Uint8Array;
}

const posInt = (v: unknown, what: string): number => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new ArgumentError(`quickTrain: ${what} must be a positive integer, got ${String(v)}`);
  return v;
};

/**
 * Train on `text` and pack the result as a model file. Deterministic: the bytes depend only on the text,
 * the options and the backend (results are the same for any thread count). `onLog` sees every step;
 * `shouldStop` is asked after every step (true ends the run there; the model file is then of that step).
 * Errors: ArgumentError for bad options or a text too short for one training and one validation window.
 */
export function quickTrain(be: Backend, text: string, o: QuickTrainOptions, run: { onLog?: (log: StepLog) => void; shouldStop?: () => boolean } = {}): QuickTrainResult {
  const steps = posInt(o.steps, 'steps');
  const batchSize = posInt(o.batchSize ?? 8, 'batchSize');
  const seqLen = posInt(o.seqLen ?? 64, 'seqLen');
  const seed = o.seed ?? 1;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new ArgumentError(`quickTrain: seed must be an integer in [0, 2^32), got ${String(seed)}`);
  const quant = o.quant ?? 'b158';
  if (!QUANT_MODES.includes(quant)) throw new ArgumentError(`quickTrain: unknown quant '${String(quant)}' (choose from ${QUANT_MODES.join(', ')})`);
  const lr = o.lr ?? 3e-3;
  if (!(lr > 0 && lr < 1)) throw new ArgumentError(`quickTrain: lr must be in (0, 1), got ${String(lr)}`);

  const tokenizer = byteTokenizer();
  const ids = tokenizer.encode(text);
  const window = seqLen + 1;
  const valTokens = Math.max(window, Math.ceil(ids.length / 10));
  const trainTokens = ids.length - valTokens;
  if (trainTokens < window) {
    throw new ArgumentError(`quickTrain: the text is ${ids.length} tokens (bytes); training with sequences of ${seqLen} needs at least ${2 * window}`);
  }
  const data = arrayDataSource(ids.slice(0, trainTokens), ids.slice(trainTokens), 1, seed);
  const config = makeConfig('tiny', { vocabSize: tokenizer.vocabSize, quant, maxSeqLen: seqLen });
  const d = defaultTrainOptions(steps);
  const options: TrainOptions = {
    ...d, batchSize, seqLen, seed, evalEvery: Math.max(1, Math.floor(steps / 5)), evalBatches: 4,
    schedule: { ...d.schedule, lr, minLr: lr / 10 },
  };
  let stepsDone = 0;
  const result = train(be, config, options, data, {
    onLog: (log) => {
      stepsDone = log.step;
      run.onLog?.(log);
    },
    ...(run.shouldStop !== undefined ? { shouldStop: run.shouldStop } : {}),
  });
  // Packed on the reference kernels (plain JS heap), as `bitnet pack` does: the file does not depend on the backend.
  const packed = PackedModel.load(refBackend(), sourceFromTransformer(result.model));
  const bytes = modelFileBytes(packed, JSON.stringify(tokenizer.toJSON()));
  return { tokenizer, config, options, result, stepsDone, trainTokens, valTokens, bytes };
}
