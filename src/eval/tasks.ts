/**
 * Evaluation tasks and their scoring, all through Scorer.loglikelihood (docs/data.md §2.1):
 *
 *   choice  each option is a (context, continuation) pair; the prediction is the option with the
 *           largest log-likelihood (acc) or the largest log-likelihood per UTF-8 byte of its
 *           continuation (acc_norm, the harness's length normalisation)
 *   cloze   one (context, target): acc = the target is the greedy continuation; also the target
 *           perplexity exp(−Σ log p / Σ target tokens)
 *   text    plain documents: sliding-window perplexity and bits per byte (perplexity.ts)
 *
 * Offline tasks built deterministically (seeded) from held-out documents, docs/data.md §2.4:
 *   lambada-lite   passages of 60–120 words ending at a sentence end; target = the last word
 *                  (≥ 3 letters, occurring earlier in the passage)
 *   ending-4way    2–3 sentences → the true next sentence vs 3 sentences from other documents
 *                  (length within ±20 %, different first word)               (HellaSwag-style, chance 25 %)
 *   ending-2way    the same with one distractor                               (StoryCloze-style, chance 50 %)
 *   minimal-pairs  a sentence vs a copy with two adjacent words swapped or one content word replaced
 *                  by a word of similar corpus frequency                      (BLiMP-style, chance 50 %)
 */
import { ArgumentError } from '../errors.js';
import { Rng } from '../tensor/rng.js';
import { perplexity, type PerplexityResult } from './perplexity.js';
import type { LlRequest, Scorer } from './loglikelihood.js';

export interface ChoiceItem { options: LlRequest[]; label: number }
export interface ClozeItem { context: string; target: string }

export type Task =
  | { name: string; kind: 'choice'; items: ChoiceItem[]; chance: number }
  | { name: string; kind: 'cloze'; items: ClozeItem[] }
  | { name: string; kind: 'text'; texts: string[] };

export interface TaskResult {
  name: string;
  kind: Task['kind'];
  n: number;
  acc?: number;
  accNorm?: number;
  /** Target perplexity (cloze) or token perplexity (text). */
  ppl?: number;
  bpb?: number;
  chance?: number;
}

export function scoreChoice(scorer: Scorer, items: ChoiceItem[]): { acc: number; accNorm: number } {
  const reqs = items.flatMap((it) => it.options);
  const res = scorer.loglikelihoodBatch(reqs);
  let k = 0, acc = 0, accNorm = 0;
  for (const it of items) {
    const r = res.slice(k, k + it.options.length);
    k += it.options.length;
    const argmax = (f: (i: number) => number) => r.reduce((best, _, i) => (f(i) > f(best) ? i : best), 0);
    if (argmax((i) => r[i]!.logprob) === it.label) acc++;
    if (argmax((i) => r[i]!.logprob / Math.max(1, r[i]!.bytes)) === it.label) accNorm++;
  }
  return { acc: acc / items.length, accNorm: accNorm / items.length };
}

export function scoreCloze(scorer: Scorer, items: ClozeItem[]): { acc: number; ppl: number } {
  const res = scorer.loglikelihoodBatch(items.map((it) => ({ context: it.context, continuation: it.target })));
  const acc = res.filter((r) => r.greedy).length / items.length;
  const lp = res.reduce((s, r) => s + r.logprob, 0), n = res.reduce((s, r) => s + r.tokens, 0);
  return { acc, ppl: Math.exp(-lp / n) };
}

/** Run one task. `maxTokens` caps text tasks. */
export function runTask(scorer: Scorer, task: Task, opts: { maxTokens?: number } = {}): TaskResult {
  switch (task.kind) {
    case 'choice': {
      if (task.items.length === 0) throw new ArgumentError(`task ${task.name}: no items`);
      return { name: task.name, kind: task.kind, n: task.items.length, chance: task.chance, ...scoreChoice(scorer, task.items) };
    }
    case 'cloze': {
      if (task.items.length === 0) throw new ArgumentError(`task ${task.name}: no items`);
      return { name: task.name, kind: task.kind, n: task.items.length, ...scoreCloze(scorer, task.items) };
    }
    case 'text': {
      const r: PerplexityResult = perplexity(scorer.model, scorer.tokenizer, task.texts, { batchSize: scorer.opts.batchSize, window: scorer.opts.maxLen, ...(opts.maxTokens !== undefined ? { maxTokens: opts.maxTokens } : {}) });
      return { name: task.name, kind: task.kind, n: r.tokens, ppl: r.ppl, bpb: r.bpb };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Offline tasks from held-out documents

/** Sentences of a text: split after . ! ? (optionally followed by a closing quote) before an upper-case letter or quote. */
export function sentences(text: string): string[] {
  return text
    .replace(/\s+/g, ' ')
    .split(/(?<=[.!?]["')\]]?)\s+(?=["'(\[]?[A-Z])/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

const words = (s: string) => s.split(' ').filter((w) => w.length > 0);
const ok = (s: string, o: OfflineTaskOptions) => s.length <= o.maxChars && (o.fits?.(s) ?? true);

export interface OfflineTaskOptions {
  /** Items per task (at most). */
  items: number;
  seed: number;
  /** Longest scored sentence in characters (keeps every continuation inside the model's window). */
  maxChars: number;
  /** Extra test every scored sentence / target must pass (e.g. a token budget); default: accept. */
  fits?: (text: string) => boolean;
}

/** The four offline tasks from a list of held-out documents (each a plain text). */
export function offlineTasks(docs: string[], opts: Partial<OfflineTaskOptions> = {}): Task[] {
  const o: OfflineTaskOptions = { items: 200, seed: 1234, maxChars: 250, ...opts };
  if (docs.length < 2) throw new ArgumentError('offline tasks need at least two held-out documents (distractors come from other documents)');
  const sents = docs.map(sentences);
  return [
    { name: 'lambada-lite', kind: 'cloze', items: lambadaLite(sents, o) },
    { name: 'ending-4way', kind: 'choice', items: endingChoice(sents, 4, o), chance: 0.25 },
    { name: 'ending-2way', kind: 'choice', items: endingChoice(sents, 2, o), chance: 0.5 },
    { name: 'minimal-pairs', kind: 'choice', items: minimalPairs(sents, o), chance: 0.5 },
  ];
}

/** Draw up to n distinct values of pick() (rejecting undefined) with a bounded number of tries. */
function sample<T>(n: number, tries: number, pick: () => T | undefined): T[] {
  const out: T[] = [];
  for (let t = 0; t < tries && out.length < n; t++) {
    const v = pick();
    if (v !== undefined) out.push(v);
  }
  return out;
}

function lambadaLite(sents: string[][], o: OfflineTaskOptions): ClozeItem[] {
  // Every candidate passage: consecutive sentences of one document with 60–120 words in total.
  const cands: ClozeItem[] = [];
  for (const ss of sents) {
    for (let i = 0; i < ss.length; i++) {
      let text = '', n = 0;
      for (let j = i; j < ss.length && n < 120; j++) {
        text = text ? `${text} ${ss[j]}` : ss[j]!;
        n += words(ss[j]!).length;
        if (n < 60 || n > 120) continue;
        const m = /^(.*\S)\s+([A-Za-z]+)[.!?]["')\]]?$/.exec(text);
        if (!m) continue;
        const [, context, target] = m as unknown as [string, string, string];
        if (target.length < 3 || !ok(` ${target}`, o)) continue;
        if (!new RegExp(`\\b${target}\\b`, 'i').test(context)) continue;
        cands.push({ context, target: ` ${target}` });
        break;
      }
    }
  }
  return pickSubset(cands, o.items, new Rng(o.seed).fork('lambada'));
}

function pickSubset<T>(xs: T[], n: number, rng: Rng): T[] {
  const idx = xs.map((_, i) => i);
  for (let i = idx.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  return idx.slice(0, n).sort((a, b) => a - b).map((i) => xs[i]!);
}

function endingChoice(sents: string[][], k: number, o: OfflineTaskOptions): ChoiceItem[] {
  const rng = new Rng(o.seed).fork(`ending${k}`);
  const pool = sents.flatMap((ss, d) => ss.map((s) => ({ d, s })));
  return sample(o.items, o.items * 20, () => {
    const d = rng.int(sents.length);
    const ss = sents[d]!;
    const nc = 2 + rng.int(2);
    if (ss.length < nc + 1) return undefined;
    const i = rng.int(ss.length - nc);
    const context = ss.slice(i, i + nc).join(' ');
    const truth = ss[i + nc]!;
    if (!ok(truth, o)) return undefined;
    const first = words(truth)[0];
    const cands = pool.filter((p) => p.d !== d && Math.abs(p.s.length - truth.length) <= 0.2 * truth.length && words(p.s)[0] !== first);
    if (cands.length < k - 1) return undefined;
    const distract = pickSubset(cands, k - 1, rng.fork(i)).map((p) => p.s);
    if (!distract.every((x) => ok(x, o))) return undefined;
    const label = rng.int(k);
    const endings = [...distract];
    endings.splice(label, 0, truth);
    return { options: endings.map((e) => ({ context, continuation: ` ${e}` })), label };
  });
}

const STOP = new Set('the of and to a in that is was for it with as be by on not he his this are which have from or at but had has they we you its their been were will all there would an our may so if can should these them than more any who such other upon into only what when made also those i one no'.split(' '));

function minimalPairs(sents: string[][], o: OfflineTaskOptions): ChoiceItem[] {
  const rng = new Rng(o.seed).fork('pairs');
  const freq = new Map<string, number>();
  for (const ss of sents) for (const s of ss) for (const w of words(s)) if (/^[a-z]+$/.test(w)) freq.set(w, (freq.get(w) ?? 0) + 1);
  // Frequency buckets: ⌊log2 count⌋ → words (content words only), sorted for determinism.
  const buckets = new Map<number, string[]>();
  for (const [w, c] of [...freq].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    if (w.length < 4 || STOP.has(w)) continue;
    const b = Math.floor(Math.log2(c));
    if (!buckets.has(b)) buckets.set(b, []);
    buckets.get(b)!.push(w);
  }
  const pool = sents.flat().filter((s) => { const n = words(s).length; return n >= 6 && n <= 30 && ok(s, o); });
  if (pool.length === 0) return [];
  return sample(o.items, o.items * 20, () => {
    const s = pool[rng.int(pool.length)]!;
    const ws = words(s);
    let bad: string[] | undefined;
    if (rng.uniform() < 0.5) {
      const i = 1 + rng.int(ws.length - 2); // keep the first word (capitalised) in place
      if (ws[i] === ws[i + 1]) return undefined;
      bad = [...ws];
      [bad[i], bad[i + 1]] = [bad[i + 1]!, bad[i]!];
    } else {
      const content = ws.map((w, i) => ({ w, i })).filter(({ w }) => /^[a-z]+$/.test(w) && w.length >= 4 && !STOP.has(w));
      if (content.length === 0) return undefined;
      const { w, i } = content[rng.int(content.length)]!;
      const bucket = buckets.get(Math.floor(Math.log2(freq.get(w)!)))!.filter((x) => x !== w);
      if (bucket.length === 0) return undefined;
      bad = [...ws];
      bad[i] = bucket[rng.int(bucket.length)]!;
    }
    const label = rng.int(2);
    const pair = label === 0 ? [s, bad.join(' ')] : [bad.join(' '), s];
    return { options: pair.map((p) => ({ context: '', continuation: p })), label };
  });
}
