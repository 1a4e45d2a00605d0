/**
 * Text-overlap leakage check between splits (docs/data.md §1.3): do held-out documents share long verbatim
 * passages with the training documents?
 *
 * Method: take the L-character shingles (substrings, UTF-16 code units) of every held-out document at
 * positions 0, S, 2S, … (S = stride), hash them with two independent 32-bit polynomial hashes, and slide a
 * rolling L-window over every position of every training document; each hash hit is confirmed by direct
 * string comparison (no false positives). Any shared passage of ≥ L + S − 1 characters is always detected.
 * Cost O(total characters).
 */
import type { Doc } from './corpus.js';

/** Result of `findSharedShingles`. */
export interface LeakageReport {
  /** Held-out shingles that occur verbatim in some training document. */
  shared: number;
  /** Held-out shingles examined. */
  checked: number;
  /** Up to 5 examples: held-out document, offset, and the shared text. */
  examples: { doc: string; offset: number; text: string }[];
}

const B1 = 0x01000193, B2 = 0x5bd1e995;

function powMod32(b: number, e: number): number {
  let r = 1;
  for (let i = 0; i < e; i++) r = Math.imul(r, b);
  return r;
}

/** Count held-out L-char shingles (taken every `stride` chars) that appear verbatim in the training docs. */
export function findSharedShingles(train: readonly Doc[], heldout: readonly Doc[], L = 200, stride = 100): LeakageReport {
  const P1 = powMod32(B1, L), P2 = powMod32(B2, L);
  const hashOf = (s: string, at: number): [number, number] => {
    let h1 = 0, h2 = 0;
    for (let i = at; i < at + L; i++) { const c = s.charCodeAt(i); h1 = (Math.imul(h1, B1) + c) | 0; h2 = (Math.imul(h2, B2) + c) | 0; }
    return [h1, h2];
  };
  const key = (h1: number, h2: number): number => (h1 >>> 0) * 2097152 + (h2 >>> 11);
  const table = new Map<number, { doc: Doc; at: number; found: boolean }[]>();
  const filter = new Uint8Array(1 << 22); // prefilter on 22 bits of h1: skips most Map lookups
  let checked = 0;
  for (const d of heldout) {
    for (let at = 0; at + L <= d.text.length; at += stride) {
      const [h1, h2] = hashOf(d.text, at);
      const k = key(h1, h2);
      filter[h1 & 0x3fffff] = 1;
      const lst = table.get(k);
      const e = { doc: d, at, found: false };
      if (lst === undefined) table.set(k, [e]); else lst.push(e);
      checked++;
    }
  }
  let shared = 0;
  const examples: LeakageReport['examples'] = [];
  for (const d of train) {
    const s = d.text;
    if (s.length < L) continue;
    let [h1, h2] = hashOf(s, 0);
    for (let i = 0; ; i++) {
      const lst = filter[h1 & 0x3fffff] === 0 ? undefined : table.get(key(h1, h2));
      if (lst !== undefined) {
        for (const e of lst) {
          if (e.found || s.slice(i, i + L) !== e.doc.text.slice(e.at, e.at + L)) continue;
          e.found = true;
          shared++;
          if (examples.length < 5) examples.push({ doc: e.doc.name, offset: e.at, text: s.slice(i, i + L) });
        }
      }
      if (i + L >= s.length) break;
      const cOut = s.charCodeAt(i), cIn = s.charCodeAt(i + L);
      h1 = (Math.imul(h1, B1) + cIn - Math.imul(cOut, P1)) | 0;
      h2 = (Math.imul(h2, B2) + cIn - Math.imul(cOut, P2)) | 0;
    }
  }
  return { shared, checked, examples };
}
