/**
 * The one tokenizer interface every tokenizer in the library implements (trained byte-level BPE, the byte
 * fallback, and any Hugging Face tokenizer.json loaded through @huggingface/tokenizers).
 */

/** A text ↔ token-id codec. Ids are dense in [0, vocabSize). */
export interface Tokenizer {
  /** Number of ids (base bytes + merges + special tokens); every id returned by `encode` is < vocabSize. */
  readonly vocabSize: number;
  /** Id of the beginning-of-text special token (prepended to each document in token files). */
  readonly bosId: number;
  /** Id of the end-of-text special token (appended to each document in token files). */
  readonly eosId: number;
  /** Text → ids. Special-token strings occurring in `text` encode to their single ids; no BOS/EOS is added. */
  encode(text: string): number[];
  /** Ids → text (specials are rendered as their strings). Invalid UTF-8 byte sequences decode to U+FFFD. */
  decode(ids: ArrayLike<number>): string;
  /** Token string (byte-level form, e.g. "Ġthe") → id, or undefined. */
  tokenToId(token: string): number | undefined;
  /** Id → token string (byte-level form), or undefined when out of range. */
  idToToken(id: number): string | undefined;
  /** The Hugging Face tokenizer.json object describing this tokenizer (what `saveTokenizer` writes). */
  toJSON(): object;
}

/** Default special tokens (LLaMA-3 names): index 0 is BOS, index 1 is EOS. */
export const DEFAULT_SPECIAL_TOKENS: readonly string[] = ['<|begin_of_text|>', '<|end_of_text|>'];
