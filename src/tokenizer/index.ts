/** Tokenizers: byte-level BPE (train, encode, tokenizer.json), the byte fallback, and HF interop. */
export type { Tokenizer } from './types.js';
export { DEFAULT_SPECIAL_TOKENS } from './types.js';
export { BYTE_TO_CHAR, CHAR_TO_BYTE, GPT2_PATTERN, LLAMA3_PATTERN, PRETOKENIZER_PRESETS, compilePattern, utf8Length } from './bytes.js';
export { BpeTokenizer, byteTokenizer, type BpeSpec } from './bpe.js';
export { trainBpe, countWords, type TrainBpeOptions } from './train.js';
export { HfTokenizer, bpeFromJSON, pickBosEos, tokenizerFromJSON, setHfTokenizersLibrary } from './hf.js';
export { atomicWriteFile, loadTokenizer, saveTokenizer, tokenizerHash, tokenizerJsonText } from './io.js';
