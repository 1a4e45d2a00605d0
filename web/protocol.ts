/** Messages between the demo page (web/app.ts) and its generation worker (web/worker.ts). */

/**
 * A model: URLs on this origin (one GGUF or model file, or a Hugging Face folder's files, as `bitnet web`
 * serves them), or picked files (one file, several, or a folder's: their `webkitRelativePath` names them).
 */
export type ModelRef = { urls: string[] } | { files: File[] };

export type ToWorker =
  /** Open a model (fetched or picked: GGUF, model file, Hugging Face folder) on a new backend with `threads` kernel threads. */
  | { type: 'load'; model: ModelRef; threads: number; tokenizersUrl?: string }
  /** Generate; `temperature` 0 is greedy. */
  | { type: 'generate'; prompt: string; maxTokens: number; temperature: number; seed?: number }
  /** Abort the running generation (it ends with finish reason 'abort'). */
  | { type: 'stop' };

export interface ModelInfo {
  /** The file, or the folder of a Hugging Face model. */
  name: string;
  /** What was read: 'gguf' | 'hf' | 'model-file'. */
  kind: string;
  /** Bytes of the files read. */
  bytes: number;
  /** Resident weights and the KV cache of the page's session (bytes), as the memory line says. */
  weightBytes: number;
  kvBytes: number;
  /** The memory line `bitnet generate` prints (weights, KV cache, load time). */
  memory: string;
  backend: 'wasm' | 'ref';
  threads: number;
  simd: boolean;
  relaxed: boolean;
  /** Whether the worker is cross-origin isolated (SharedArrayBuffer, so threads). */
  crossOriginIsolated: boolean;
  tokenizer: string;
  config: { quant: string; dim: number; nLayers: number; vocabSize: number; maxSeqLen: number };
  loadMs: number;
}

export interface GenerationResult {
  text: string;
  tokens: number[];
  promptTokens: number;
  finishReason: 'stop' | 'length' | 'abort';
  prefillMs: number;
  decodeMs: number;
  /** Prompt tokens per second of prefill. */
  prefillTokPerS: number;
  /** Generated tokens after the first, per second of decode (as `bitnet generate` reports it). */
  decodeTokPerS: number;
}

export type FromWorker =
  | { type: 'status'; text: string }
  /** Load progress: `done` of `total` tensors (arrays of a model file). */
  | { type: 'progress'; done: number; total: number }
  | { type: 'loaded'; info: ModelInfo }
  /** Streamed text (the pieces of one or more tokens: the worker posts at most every 50 ms; `token` is the last); `generated` tokens so far, `elapsedMs` since the first one. */
  | { type: 'chunk'; text: string; token: number; generated: number; elapsedMs: number }
  | { type: 'done'; result: GenerationResult }
  /** A failure, with the library's error class name (FormatError, ArgumentError, …). */
  | { type: 'error'; during: 'load' | 'generate'; name: string; message: string };

/** Messages between the page's Train section (web/app.ts) and its training worker (web/train_worker.ts). */
export type ToTrainWorker = {
  type: 'train'; text: string; steps: number; quant: 'b158' | 'fp'; seed: number; threads: number;
  /** Int32 flag the page sets to 1 to stop after the current step (cross-origin isolated pages only). */
  stop?: SharedArrayBuffer;
};

export type FromTrainWorker =
  | { type: 'started'; backend: 'wasm' | 'ref'; threads: number; relaxed: boolean; crossOriginIsolated: boolean }
  | { type: 'step'; step: number; steps: number; loss: number; tokensPerSec: number; elapsedSec: number; valLoss?: number }
  /** `bytes`: the model file (quickTrain's bytes); `steps` run (fewer than asked when stopped). */
  | { type: 'done'; bytes: Uint8Array<ArrayBuffer>; steps: number; stopped: boolean; valLoss: number; valBpb: number; elapsedSec: number; quant: string; trainTokens: number; valTokens: number }
  | { type: 'error'; name: string; message: string };
