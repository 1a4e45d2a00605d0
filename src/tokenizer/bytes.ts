/**
 * Byte-level building blocks shared by every tokenizer here:
 *
 * - the GPT-2 byte→unicode table: each of the 256 byte values maps to one printable code point
 *   (printable Latin-1 bytes map to themselves, the other 68 to U+0100…U+0143), so a byte string is a
 *   plain JS string and tokenizer.json vocabularies stay readable ("Ġthe" = " the");
 * - the pre-tokenizer regex presets (GPT-2 and LLaMA-3), written in JavaScript `u`-mode syntax;
 * - UTF-8 helpers.
 *
 * Pure TypeScript, no Node imports: usable in the browser.
 */

/** `BYTE_TO_CHAR[b]` = the GPT-2 printable character standing for byte `b` (0 ≤ b < 256). */
export const BYTE_TO_CHAR: readonly string[] = (() => {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const out = new Array<string>(256);
  for (const b of bs) out[b] = String.fromCharCode(b);
  let n = 0;
  for (let b = 0; b < 256; b++) if (out[b] === undefined) out[b] = String.fromCharCode(256 + n++);
  return out;
})();

/** Inverse of BYTE_TO_CHAR: char code → byte, or -1 for characters outside the table. */
export const CHAR_TO_BYTE: Int16Array = (() => {
  const t = new Int16Array(512).fill(-1);
  BYTE_TO_CHAR.forEach((c, b) => { t[c.charCodeAt(0)] = b; });
  return t;
})();

/** The byte-level string (one char per byte) of a UTF-8 byte sequence. */
export function bytesToChars(bytes: ArrayLike<number>): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += BYTE_TO_CHAR[bytes[i]!]!;
  return s;
}

/** The bytes of a byte-level string, or undefined if it contains a char outside the table. */
export function charsToBytes(s: string): Uint8Array | undefined {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const b = c < 512 ? CHAR_TO_BYTE[c]! : -1;
    if (b < 0) return undefined;
    out[i] = b;
  }
  return out;
}

/**
 * GPT-2 pre-tokenizer (also the regex of the Hugging Face `ByteLevel` pre-tokenizer with `use_regex: true`):
 * contractions, optional-space + letters, optional-space + digits, optional-space + other symbols,
 * whitespace runs (a run before a non-space keeps its last space for the next word).
 */
export const GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

/**
 * LLaMA-3 / tiktoken cl100k-style pre-tokenizer: case-insensitive contractions, letters with one leading
 * non-letter, digits in groups of ≤ 3, punctuation runs with trailing newlines, newline runs, spaces.
 */
export const LLAMA3_PATTERN =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/** Named pre-tokenizer presets accepted wherever a pattern is expected. */
export const PRETOKENIZER_PRESETS: Readonly<Record<string, string>> = { gpt2: GPT2_PATTERN, llama3: LLAMA3_PATTERN };

/**
 * Compile a pre-tokenizer pattern (preset name or regex source in Oniguruma-compatible syntax) to a global
 * unicode JS RegExp. The only non-JS construct handled is the inline case-insensitive group `(?i:…)` used
 * by LLaMA-3, rewritten for its ASCII contractions (each letter `x` → `[xX]`).
 */
export function compilePattern(pattern: string): RegExp {
  const src = PRETOKENIZER_PRESETS[pattern] ?? pattern;
  const js = src.replace(/\(\?i:([^()]*)\)/g, (_m, body: string) =>
    '(?:' + body.replace(/[a-z]/g, (c) => `[${c}${c.toUpperCase()}]`) + ')');
  return new RegExp(js, 'gu');
}

/** Split `text` into pre-tokens with a compiled global regex (unmatched characters are dropped, as in HF). */
export function pretokenize(re: RegExp, text: string): string[] {
  return text.match(re) ?? [];
}

const ENC = new TextEncoder();
/** UTF-8 bytes of a string. */
export function utf8(s: string): Uint8Array {
  return ENC.encode(s);
}

/** Number of UTF-8 bytes of a string, without allocating. */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) { n += 4; i++; }
    else n += 3;
  }
  return n;
}
