/**
 * bitnet-ts public API: everything that runs in any JavaScript engine (Node, browsers,
 * workers). Re-exports only. File-system helpers are in `bitnet-ts/node` (src/node.ts).
 * A test keeps this module's static import graph free of `node:` modules.
 */
export * from './errors.js';
export { createBackend, refBackend, wasmBackend, type Backend, type BackendOptions, type Kernels } from './kernels/backend.js';
export { WasmContext, probeFeatures, type Features, type WasmOptions } from './kernels/wasm/context.js';
export { Arena } from './tensor/arena.js';
export { Rng } from './tensor/rng.js';
export { roundHalfEven } from './tensor/round.js';
export { tensor, zeros, type Tensor } from './tensor/tensor.js';
export { FORMAT_TRAITS, formatTraits, type FormatName, type FormatTraits } from './quant/formats.js';
export { PRESETS, makeConfig, validateConfig, paramCount, type ModelConfig, type QuantMode, type FfnKind } from './model/config.js';
export { Transformer } from './model/transformer.js';
export { MODE_TRAITS, QuantInput, QuantWeight, BitLinear, type BitLinearOptions } from './nn/bitlinear.js';
export { AdamW } from './train/adamw.js';
export { scheduleAt, lambdaAt, type ScheduleConfig } from './train/schedule.js';
export { train, evaluate, defaultTrainOptions, type TrainOptions, type DataSource, type RunStore, type StepLog } from './train/loop.js';
export { checkpointContents, parseCheckpoint, restoreCheckpoint, type LoadedCheckpoint } from './train/checkpoint.js';
export { tokenDataSource, arrayDataSource } from './train/data_source.js';
export { Sampler, DEFAULT_SAMPLER, type SamplerOptions } from './infer/sampler.js';
export { generateText } from './infer/generate_simple.js';
export { PackedModel, quantizeRowsI7, type HeadType, type LoadOptions, type PackedLinear } from './infer/packed_model.js';
export { InferenceSession, sessionBytes, type SessionOptions } from './infer/session.js';
export { generate, generateStream, renderChat, defaultChatTemplate, type GenerateOptions, type GenerateChunk, type GenerateResult, type ChatMessage, type ChatTemplateName, type FinishReason } from './infer/generate.js';
export { sourceFromTransformer, sourceFromCheckpoint, type WeightSource, type QuantizedTensor } from './infer/source.js';
export { syntheticSource } from './infer/synthetic.js';
export { modelFileContents, sourceFromModelFile, isModelFile, MODEL_FILE_FORMAT } from './infer/model_file.js';
export { matmulEnergyPerToken, weightBytes } from './science/energy.js';
export { parseSafetensors, serializeHeader, toFloat32, type StTensor, type StDType } from './io/safetensors.js';
export type { Tokenizer } from './tokenizer/types.js';
export { DEFAULT_SPECIAL_TOKENS } from './tokenizer/types.js';
export { BpeTokenizer, byteTokenizer } from './tokenizer/bpe.js';
export { trainBpe } from './tokenizer/train.js';
export { HfTokenizer, bpeFromJSON } from './tokenizer/hf.js';
export { arraySource, batchAt, evalBatches, bitsPerByte, type TokenSource, type Batch } from './data/sampler.js';
export { parseGguf, serializeGgufHeader, ggufChunks, ggufTensorBytes, bufferSource, metaNumber, metaString, metaArray, gv, type ByteSource, type GgufFile, type GgufTensorInfo, type GgufTensorSpec, type GgufValue } from './io/gguf.js';
export { GGML_TYPES, ggmlType, encodeGgml, decodeGgml, decodeTernary, encodeTernaryTQ, floatToHalf, floatToBf16, bf16ToFloat, type GgmlType } from './io/gguf_quant.js';
export { packHfTernary, unpackHfTernary, betaFromWeightScale, weightScaleFromBeta, type HfLinearClass } from './interop/hf_pack.js';
export { symEig, type SymEig } from './interp/eigen.js';
export { foldBiases, interactionMatrix, interactionFromCoeffs, hiddenCoeffs, bilinearForward, bilinearTensor, hosvd, effectiveRank, eigenForm, decomposeOutputs, projectThroughEmbedding, type BilinearWeights, type Hosvd } from './interp/bilinear.js';
export { BilinearClassifier, type ClassifierConfig, type InterpQuant, type InterpArch } from './interp/model.js';
export { fitClassifier, evaluateClassifier, splitDataset, type Dataset, type FitOptions } from './interp/train.js';
export { decomposeClassifier, truncationCurve, truncatedLogits, seedConsistency, adversarialMasks, inputEigenvector, type ClassifierDecomposition } from './interp/analysis.js';
export { trainToy, idealToyMatrix, toyBatch, type BoolOp, type ToyOptions } from './interp/toy.js';
export { ffnBilinearWeights, decomposeForTokens, hosvdTokens } from './interp/lm.js';
export { tileGrid, linePlotSvg, heatmapsSvg, type RgbImage } from './interp/figures.js';
export { formatEnergyPerToken, formatWeightBytes, trainedFormat, FP16_FORMAT, OP_ENERGY_PJ, type MatmulFormat, type EnergyOptions } from './science/energy.js';
export { PTQ_METHODS, DEFAULT_PTQ, quantizeModel, ptqFormat, actQuantHook, type PtqSpec, type PtqOptions, type CalibBatch } from './science/ptq.js';
export { gptqQuantize, rtnMinMax, HessianAccumulator } from './science/gptq.js';
export { quipQuantize, randomRotation } from './science/quip.js';
export { smoothModel, smoothScales } from './science/smoothquant.js';
export { fitScalingLaw, predictScaling, type ScalingFit } from './science/scaling.js';
export type { InputHook, InputSite } from './model/transformer.js';
export { Scorer, type LlRequest, type LlResult } from './eval/loglikelihood.js';
export { perplexity, slidingWindows, type PerplexityResult } from './eval/perplexity.js';
export { offlineTasks, runTask, type Task, type TaskResult } from './eval/tasks.js';
export * as zeroShotFormats from './eval/formats.js';
