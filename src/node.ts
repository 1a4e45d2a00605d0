/**
 * bitnet-ts for Node: the universal API plus file-system pieces — safetensors files,
 * run directories and checkpoints, tokenizer files, corpora, token files.
 */
export * from './index.js';
export { atomicWriteFile, saveSafetensors, loadSafetensors } from './io/files.js';
export { runDirStore, readCheckpoint, listCheckpoints } from './train/run_dir.js';
export { prepareRun } from './train/prepare_run.js';
export { loadTokenizer, saveTokenizer, tokenizerHash } from './tokenizer/io.js';
export { loadCorpus, splitCorpus } from './data/corpus.js';
export { readTokenFile, TokenFileReader, TokenFileWriter } from './data/tokfile.js';
export { prepareTokens } from './data/prepare.js';
export { openModel, saveModelFile, loadModel, type OpenedModel } from './load/open.js';
export { openFileSource, dirFileSet } from './io/byte_source.js';
export { openSafetensors, writeSafetensorsStream } from './io/safetensors_stream.js';
export { loadHF, sourceFromHF, exportHF, configFromHF } from './interop/hf.js';
export { loadGguf, sourceFromGguf, writeGguf, configFromGguf } from './interop/gguf_model.js';
export { BitnetServer, type ServerOptions, type ServerMetrics } from './server/server.js';
export { ApiError, parseChatRequest, parseCompletionRequest, type ChatRequest, type CompletionRequest } from './server/openai.js';
export { SlotPool, Overloaded, QueueClosed } from './server/slots.js';
export { loadMnist, loadFashionMnist, parseIdx } from './interp/datasets.js';
export { encodePng } from './interp/png.js';
export { runMnistExperiment, runToyExperiment } from './interp/experiment.js';
export { runLmExperiment } from './interp/lm_experiment.js';
export { loadZeroShot, ZERO_SHOT_SETS } from './eval/loaders.js';
export { runPtqTable, PTQ_TABLE_PRESETS } from './science/experiments/ptq_table.js';
export { runLrStability, LR_STABILITY_PRESETS } from './science/experiments/lr_stability.js';
export { runScaling, SCALING_PRESETS } from './science/experiments/scaling.js';
