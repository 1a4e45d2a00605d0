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
export { loadZeroShot, ZERO_SHOT_SETS } from './eval/loaders.js';
export { runPtqTable, PTQ_TABLE_PRESETS } from './science/experiments/ptq_table.js';
export { runLrStability, LR_STABILITY_PRESETS } from './science/experiments/lr_stability.js';
export { runScaling, SCALING_PRESETS } from './science/experiments/scaling.js';
