/**
 * Parsers for the standard zero-shot sets in their original file formats (docs/data.md §2.3), into
 * Tasks scored with the lm-evaluation-harness prompts the BitNet papers used. Pure functions of
 * the file text; src/eval/loaders.ts finds the files. Errors name the file and line.
 */
import { FormatError } from '../errors.js';
import type { ChoiceItem, ClozeItem, Task } from './tasks.js';

function jsonl(text: string, file: string): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      const v = JSON.parse(line) as unknown;
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
      out.push(v as Record<string, unknown>);
    } catch (e) {
      throw new FormatError(`${file}:${i + 1}: invalid JSON line (${(e as Error).message})`);
    }
  });
  return out;
}

function str(o: Record<string, unknown>, k: string, where: string): string {
  const v = o[k];
  if (typeof v !== 'string') throw new FormatError(`${where}: expected a string field "${k}"`);
  return v;
}

function lines(text: string): string[] {
  return text.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
}

/** HellaSwag preprocessing (harness `preprocess`). */
export function hellaswagPre(s: string): string {
  return s.trim().replace(/ \[title\]/g, '. ').replace(/\[.*?\]/g, '').replace(/ {2}/g, ' ');
}

/** hellaswag_val.jsonl: {activity_label, ctx_a, ctx_b, endings[4], label}. */
export function parseHellaswag(text: string, file = 'hellaswag_val.jsonl'): Task {
  const items: ChoiceItem[] = jsonl(text, file).map((o, i) => {
    const w = `${file}:${i + 1}`;
    const endings = o.endings;
    if (!Array.isArray(endings) || endings.some((e) => typeof e !== 'string')) throw new FormatError(`${w}: expected "endings" to be an array of strings`);
    const label = Number(o.label);
    if (!Number.isInteger(label) || label < 0 || label >= endings.length) throw new FormatError(`${w}: "label" must index "endings", got ${String(o.label)}`);
    const ctxB = str(o, 'ctx_b', w);
    const ctx = `${str(o, 'ctx_a', w)} ${ctxB.charAt(0).toUpperCase()}${ctxB.slice(1)}`;
    const context = hellaswagPre(`${str(o, 'activity_label', w)}: ${ctx}`);
    return { options: (endings as string[]).map((e) => ({ context, continuation: ` ${hellaswagPre(e)}` })), label };
  });
  return { name: 'hellaswag', kind: 'choice', items, chance: 0.25 };
}

/** Winogrande dev.jsonl: {sentence with "_", option1, option2, answer "1"|"2"}; labels from `labels` (dev-labels.lst) if given. Partial scoring. */
export function parseWinogrande(text: string, labels?: string, file = 'dev.jsonl'): Task {
  const lab = labels !== undefined ? lines(labels) : undefined;
  const rows = jsonl(text, file);
  if (lab !== undefined && lab.length !== rows.length) throw new FormatError(`${file}: ${rows.length} items but ${lab.length} labels in dev-labels.lst`);
  const items: ChoiceItem[] = rows.map((o, i) => {
    const w = `${file}:${i + 1}`;
    const s = str(o, 'sentence', w);
    const k = s.indexOf('_');
    if (k < 0) throw new FormatError(`${w}: the sentence has no "_" blank`);
    const ans = lab?.[i] ?? String(o.answer);
    if (ans !== '1' && ans !== '2') throw new FormatError(`${w}: answer must be "1" or "2", got ${ans}`);
    const cont = ` ${s.slice(k + 1).trim()}`;
    return { options: [str(o, 'option1', w), str(o, 'option2', w)].map((opt) => ({ context: s.slice(0, k) + opt, continuation: cont })), label: Number(ans) - 1 };
  });
  return { name: 'winogrande', kind: 'choice', items, chance: 0.5 };
}

function xmlText(s: string): string {
  return s.replace(/<[^>]+>/g, '').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&').replace(/\s+/g, ' ').trim();
}

function tag(xml: string, name: string, where: string): string {
  const m = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(xml);
  if (!m) throw new FormatError(`${where}: missing <${name}>`);
  return m[1]!;
}

/** WSC273 from WSCollection.xml (the first 273 schemas): the pronoun is replaced by each answer; partial scoring. */
export function parseWscXml(text: string, file = 'WSCollection.xml'): Task {
  const schemas = [...text.matchAll(/<schema>([\s\S]*?)<\/schema>/g)].slice(0, 273);
  if (schemas.length === 0) throw new FormatError(`${file}: no <schema> elements`);
  const items = schemas.map((m, i) => {
    const w = `${file}: schema ${i + 1}`;
    const t = tag(m[1]!, 'text', w);
    const pre = xmlText(tag(t, 'txt1', w)), post = xmlText(tag(t, 'txt2', w));
    const answers = [...tag(m[1]!, 'answers', w).matchAll(/<answer>([\s\S]*?)<\/answer>/g)].map((a) => xmlText(a[1]!));
    const correct = xmlText(tag(m[1]!, 'correctAnswer', w)).replace(/[^A-Z]/gi, '').toUpperCase();
    const label = correct.charCodeAt(0) - 65;
    if (answers.length < 2 || !(label >= 0 && label < answers.length)) throw new FormatError(`${w}: need ≥ 2 answers and a correctAnswer letter, got ${answers.length} / '${correct}'`);
    return wscItem(pre, answers, post, label);
  });
  return { name: 'wsc273', kind: 'choice', items, chance: 0.5 };
}

function wscItem(pre: string, options: string[], post: string, label: number): ChoiceItem {
  // Lower-case a leading article of the option inside a sentence, as the harness does.
  const fix = (opt: string) => (pre.trim().length > 0 && /^(The|A|An) /.test(opt) ? opt.charAt(0).toLowerCase() + opt.slice(1) : opt);
  const cont = post.startsWith(' ') || /^[.,;:!?']/.test(post) ? post : ` ${post}`;
  return { options: options.map((opt) => ({ context: `${pre}${pre.length > 0 && !pre.endsWith(' ') ? ' ' : ''}${fix(opt)}`, continuation: cont })), label };
}

/** WSC273 as the Hugging Face winograd_wsc jsonl: {text, pronoun, pronoun_loc, options[2], label}. */
export function parseWscJsonl(text: string, file = 'wsc273.jsonl'): Task {
  const items = jsonl(text, file).map((o, i) => {
    const w = `${file}:${i + 1}`;
    const t = str(o, 'text', w), pron = str(o, 'pronoun', w);
    const loc = Number(o.pronoun_loc);
    if (!Number.isInteger(loc) || t.slice(loc, loc + pron.length).toLowerCase() !== pron.toLowerCase()) throw new FormatError(`${w}: pronoun_loc ${String(o.pronoun_loc)} does not point at '${pron}'`);
    const opts = o.options;
    if (!Array.isArray(opts) || opts.length < 2 || opts.some((x) => typeof x !== 'string')) throw new FormatError(`${w}: "options" must be an array of ≥ 2 strings`);
    const label = Number(o.label);
    if (!Number.isInteger(label) || label < 0 || label >= opts.length) throw new FormatError(`${w}: "label" must index "options"`);
    return wscItem(t.slice(0, loc).trimEnd(), opts as string[], t.slice(loc + pron.length), label);
  });
  return { name: 'wsc273', kind: 'choice', items, chance: 0.5 };
}

/** A CSV parser for RFC 4180 (quoted fields, doubled quotes, CRLF). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [], field = '', q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (q) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') q = false;
      else field += c;
    } else if (c === '"') q = true;
    else if (c === ',') row.push(field), (field = '');
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field), (field = '');
      if (row.some((f) => f.length > 0)) rows.push(row);
      row = [];
    } else field += c;
  }
  row.push(field);
  if (row.some((f) => f.length > 0)) rows.push(row);
  return rows;
}

/** StoryCloze 2016 CSV: InputStoryid, InputSentence1..4, RandomFifthSentenceQuiz1/2, AnswerRightEnding. */
export function parseStoryCloze(text: string, file = 'storycloze.csv'): Task {
  const [head, ...rows] = parseCsv(text);
  if (head === undefined) throw new FormatError(`${file}: empty CSV`);
  const col = (n: string) => {
    const i = head.indexOf(n);
    if (i < 0) throw new FormatError(`${file}: missing column ${n} (header: ${head.join(', ')})`);
    return i;
  };
  const s = [1, 2, 3, 4].map((k) => col(`InputSentence${k}`));
  const e = [col('RandomFifthSentenceQuiz1'), col('RandomFifthSentenceQuiz2')];
  const a = col('AnswerRightEnding');
  const items = rows.map((r, i) => {
    const ans = r[a]?.trim();
    if (ans !== '1' && ans !== '2') throw new FormatError(`${file}: row ${i + 2}: AnswerRightEnding must be 1 or 2, got '${ans}'`);
    const context = s.map((k) => r[k] ?? '').join(' ');
    return { options: e.map((k) => ({ context, continuation: ` ${r[k] ?? ''}` })), label: Number(ans) - 1 };
  });
  return { name: 'storycloze', kind: 'choice', items, chance: 0.5 };
}

/** PIQA valid.jsonl {goal, sol1, sol2} + valid-labels.lst (one 0/1 per line). */
export function parsePiqa(text: string, labels: string, file = 'valid.jsonl'): Task {
  const rows = jsonl(text, file);
  const lab = lines(labels);
  if (lab.length !== rows.length) throw new FormatError(`${file}: ${rows.length} items but ${lab.length} labels in valid-labels.lst`);
  const items = rows.map((o, i) => {
    const w = `${file}:${i + 1}`;
    const label = Number(lab[i]);
    if (label !== 0 && label !== 1) throw new FormatError(`valid-labels.lst:${i + 1}: expected 0 or 1, got '${lab[i]}'`);
    const context = `Question: ${str(o, 'goal', w)}\nAnswer:`;
    return { options: [str(o, 'sol1', w), str(o, 'sol2', w)].map((sol) => ({ context, continuation: ` ${sol}` })), label };
  });
  return { name: 'piqa', kind: 'choice', items, chance: 0.5 };
}

/** ARC / OpenBookQA jsonl: {question: {stem, choices: [{text, label}]}, answerKey}. */
export function parseArc(text: string, name: string, file: string): Task {
  let chance = 0;
  const items = jsonl(text, file).map((o, i) => {
    const w = `${file}:${i + 1}`;
    const q = o.question as { stem?: unknown; choices?: unknown } | undefined;
    if (typeof q?.stem !== 'string' || !Array.isArray(q.choices)) throw new FormatError(`${w}: expected "question": {stem, choices}`);
    const choices = q.choices as Array<{ text?: unknown; label?: unknown }>;
    if (choices.some((c) => typeof c.text !== 'string' || typeof c.label !== 'string')) throw new FormatError(`${w}: every choice needs string "text" and "label"`);
    const label = choices.findIndex((c) => c.label === o.answerKey);
    if (label < 0) throw new FormatError(`${w}: answerKey '${String(o.answerKey)}' is not a choice label`);
    chance += 1 / choices.length;
    const context = `Question: ${q.stem}\nAnswer:`;
    return { options: choices.map((c) => ({ context, continuation: ` ${c.text as string}` })), label };
  });
  return { name, kind: 'choice', items, chance: items.length > 0 ? chance / items.length : 0 };
}

/** BoolQ dev.jsonl {question, passage, answer: bool}: " yes" vs " no". */
export function parseBoolq(text: string, file = 'dev.jsonl'): Task {
  const items = jsonl(text, file).map((o, i) => {
    const w = `${file}:${i + 1}`;
    if (typeof o.answer !== 'boolean') throw new FormatError(`${w}: "answer" must be true or false`);
    const context = `${str(o, 'passage', w)}\nQuestion: ${str(o, 'question', w)}?\nAnswer:`;
    return { options: [' no', ' yes'].map((c) => ({ context, continuation: c })), label: o.answer ? 1 : 0 };
  });
  return { name: 'boolq', kind: 'choice', items, chance: 0.5 };
}

/** LAMBADA: plain text (one passage per line) or the OpenAI jsonl {"text"}; target = last word. */
export function parseLambada(text: string, file = 'lambada_test_plain_text.txt'): Task {
  const passages = file.endsWith('.jsonl') ? jsonl(text, file).map((o, i) => str(o, 'text', `${file}:${i + 1}`)) : lines(text);
  const items: ClozeItem[] = passages.map((p, i) => {
    const k = p.trimEnd().lastIndexOf(' ');
    if (k <= 0) throw new FormatError(`${file}:${i + 1}: a passage needs a context and a last word`);
    return { context: p.slice(0, k), target: p.trimEnd().slice(k) };
  });
  return { name: 'lambada', kind: 'cloze', items };
}

/** WikiText raw file: articles split at top-level " = Title = " headings. */
export function parseWikitext(text: string, file = 'wiki.test.raw'): Task {
  const parts = text.split(/\n(?= = [^=].* = \n)/).map((t) => t.trim()).filter((t) => t.length > 0);
  if (parts.length === 0) throw new FormatError(`${file}: no text`);
  return { name: 'wikitext', kind: 'text', texts: parts };
}
