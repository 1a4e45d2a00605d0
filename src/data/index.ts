/** Data pipeline: corpora and splits, leakage check, token files, tokenization cache, batch samplers. */
export { DataError, FormatError } from './errors.js';
export {
  SPLITS, checkDisjoint, computeSotuSplit, hashSplitOf, loadCorpus, loadDirCorpus, loadSotu, loadSplitRecord, nameHash,
  sotuDir, sotuSplitOf, sotuSplitPath, splitCorpus, splitNames, verifySplit,
  type Corpus, type Doc, type Split, type SplitRecord,
} from './corpus.js';
export { findSharedShingles, type LeakageReport } from './leakage.js';
export { TOKFILE_HEADER_BYTES, TokenFileReader, TokenFileWriter, decodeHeader, encodeHeader, readTokenFile, type TokenFileHeader } from './tokfile.js';
export { cacheKey, prepareTokens, writeDocsTokenFile, type PreparedData } from './prepare.js';
export { BatchSampler, arraySource, batchAt, bitsPerByte, evalBatches, numEvalWindows, type Batch, type TokenSource } from './sampler.js';
