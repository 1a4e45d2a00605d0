/**
 * bitnet-ts public API (`bitnet-ts`): everything that runs in any JavaScript engine (Node, browsers,
 * workers). Re-exports only, curated: model config and presets, the BitLinear layer, the Transformer,
 * training pieces, packing/loading/generation, tokenizers, evaluation, the packed-format and
 * quantization-mode tables. More, on explicit subpaths (package.json "exports"; a test resolves each):
 *   bitnet-ts/node       this API plus the file-system pieces (src/node.ts)
 *   bitnet-ts/gguf       GGUF container and ggml block codecs (src/entry/gguf.ts)
 *   bitnet-ts/science    energy model, post-training quantization, scaling fits (src/entry/science.ts)
 *   bitnet-ts/interp     bilinear-layer interpretability (src/entry/interp.ts)
 *   bitnet-ts/internals  building blocks with no stability promise: kernels, pack/unpack, the engine's
 *                        layout, safetensors and HF packing helpers, v1 model files (src/entry/internals.ts)
 * A test keeps this module's static import graph (and the other universal entries') free of `node:` modules.
 */
export * from './errors.js';
export { createBackend, refBackend, wasmBackend, type Backend, type BackendOptions, type Kernels } from './kernels/backend.js';
export { probeFeatures, type Features, type WasmOptions } from './kernels/wasm/context.js';
export { Arena } from './tensor/arena.js';
export { Rng } from './tensor/rng.js';
export { tensor, zeros, type Tensor } from './tensor/tensor.js';
// tables: packed formats, quantization modes
export { FORMAT_TRAITS, formatTraits, type FormatName, type FormatTraits } from './quant/formats.js';
export { QUANT_VARIANTS, QUANT_MODES, quantVariant, type QuantVariant, type QuantVariantTraits, type LinearSite, type V1ShiftedActs } from './quant/modes.js';
// model
export { PRESETS, makeConfig, validateConfig, paramCount, type ModelConfig, type QuantMode, type FfnKind } from './model/config.js';
export { Transformer, type InputHook, type InputSite } from './model/transformer.js';
export { BitLinear, type BitLinearOptions, type BitLinearParameter } from './nn/bitlinear.js';
// training
export { AdamW, type AdamWConfig } from './train/adamw.js';
export { scheduleAt, lambdaAt, type ScheduleConfig } from './train/schedule.js';
export { train, evaluate, defaultTrainOptions, type TrainOptions, type DataSource, type RunStore, type StepLog } from './train/loop.js';
export { checkpointContents, parseCheckpoint, restoreCheckpoint, type LoadedCheckpoint } from './train/checkpoint.js';
export { tokenDataSource, arrayDataSource } from './train/data_source.js';
export { arraySource, batchAt, evalBatches, bitsPerByte, type TokenSource, type Batch } from './data/sampler.js';
// inference: pack, load, generate
export { Sampler, DEFAULT_SAMPLER, type SamplerOptions } from './infer/sampler.js';
export { generateText } from './infer/generate_simple.js';
export { PackedModel, type HeadType, type LoadOptions, type PackedLinear } from './infer/packed_model.js';
export { InferenceSession, sessionBytes, KV_CACHE_TYPES, type KvCacheType, type SessionOptions } from './infer/session.js';
export { InferenceBatch, batchBytes, type BatchOptions, type BatchEntry } from './infer/batch.js';
export { generate, generateStream, TokenStepper, renderChat, defaultChatTemplate, type GenerateOptions, type GenerateChunk, type GenerateResult, type ChatMessage, type ChatTemplateName, type FinishReason } from './infer/generate.js';
export { sourceFromTransformer, sourceFromCheckpoint, type WeightSource, type QuantizedTensor } from './weights/source.js';
export { syntheticSource } from './weights/synthetic.js';
export { modelFileBytes, modelImageFrom, loadModelImage, sourceFromImage, isModelFile, openModelFile, openModelFileBytes, MODEL_FILE_FORMAT, MODEL_FILE_VERSION, type ModelImage, type ImageSource } from './infer/model_file.js';
export { loadModelFromBytes, loadModelFromBlob, loadSource, loadImage, modelImageOfBytes, type LoadedModel, type ModelKind, type ModelLoadOptions } from './load/loaded_model.js';
export { loadModelFromFiles, openModelFiles, memoryLine, type OpenedFiles } from './load/model_files.js';
export { blobSource, blobFileSet, fileSetOf, type FileSet, type NamedBlob, type RandomAccessSource } from './io/blob_source.js';
export { ggufModelFrom, type GgufModel } from './interop/gguf_source.js';
export { hfModelFrom, type HfModel } from './interop/hf_source.js';
export { quickTrain, SAMPLE_TEXT, type QuickTrainOptions, type QuickTrainResult } from './load/quick_train.js';
// tokenizers
export type { Tokenizer } from './tokenizer/types.js';
export { DEFAULT_SPECIAL_TOKENS } from './tokenizer/types.js';
export { BpeTokenizer, byteTokenizer } from './tokenizer/bpe.js';
export { trainBpe } from './tokenizer/train.js';
export { HfTokenizer, bpeFromJSON, tokenizerFromJSON, setHfTokenizersLibrary } from './tokenizer/hf.js';
// evaluation
export { Scorer, type LlRequest, type LlResult } from './eval/loglikelihood.js';
export { perplexity, slidingWindows, type PerplexityResult } from './eval/perplexity.js';
export { offlineTasks, runTask, type Task, type TaskResult } from './eval/tasks.js';
export * as zeroShotFormats from './eval/formats.js';
