/**
 * Zero-shot task loaders (Node): read the original files from a data directory laid out as
 * `<dir>/<set>/<original file name>` (docs/data.md §2.3). Nothing is downloaded: a missing file is a
 * DataError naming the exact path expected and where the file comes from.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../errors.js';
import * as F from './formats.js';
import type { Task } from './tasks.js';

interface Source { files: string[]; from: string }

/** Each set: the candidate files (the first that exists is used; alternatives are separated by |) and where to get them. */
export const ZERO_SHOT_SETS: Record<string, Source> = {
  hellaswag: { files: ['hellaswag/hellaswag_val.jsonl'], from: 'the HellaSwag validation file (github.com/rowanz/hellaswag, data/hellaswag_val.jsonl)' },
  winogrande: { files: ['winogrande/dev.jsonl'], from: 'Winogrande 1.1 (winogrande_1.1.zip: dev.jsonl, dev-labels.lst)' },
  wsc273: { files: ['wsc273/WSCollection.xml', 'wsc273/wsc273.jsonl'], from: 'the Winograd Schema Collection (WSCollection.xml, cs.nyu.edu/~davise) or the winograd_wsc wsc273 split as jsonl' },
  storycloze: { files: ['storycloze/cloze_test_val__spring2016 - cloze_test_ALL_val.csv'], from: 'StoryCloze 2016 validation CSV (request from the ROCStories authors)' },
  piqa: { files: ['piqa/valid.jsonl'], from: 'PIQA (yonatanbisk.com/piqa: valid.jsonl and valid-labels.lst)' },
  'arc-easy': { files: ['arc-easy/ARC-Easy-Test.jsonl'], from: 'ARC (allenai.org/data/arc: ARC-V1-Feb2018/ARC-Easy/ARC-Easy-Test.jsonl)' },
  'arc-challenge': { files: ['arc-challenge/ARC-Challenge-Test.jsonl'], from: 'ARC (allenai.org/data/arc: ARC-V1-Feb2018/ARC-Challenge/ARC-Challenge-Test.jsonl)' },
  openbookqa: { files: ['openbookqa/test.jsonl'], from: 'OpenBookQA (OpenBookQA-V1-Sep2018/Data/Main/test.jsonl)' },
  boolq: { files: ['boolq/dev.jsonl'], from: 'BoolQ (github.com/google-research-datasets/boolean-questions: dev.jsonl)' },
  lambada: { files: ['lambada/lambada_test_plain_text.txt', 'lambada/lambada_test.jsonl'], from: 'LAMBADA test (lambada_test_plain_text.txt, or the OpenAI detokenised lambada_test.jsonl)' },
  wikitext: { files: ['wikitext/wiki.test.raw'], from: 'WikiText-2 raw (wikitext-2-raw-v1: wiki.test.raw)' },
};

function need(dir: string, rel: string, what: string): string {
  const p = join(dir, rel);
  if (!existsSync(p)) throw new DataError(`file not found: ${p} — download ${what} and place the file there (nothing is downloaded automatically)`);
  return readFileSync(p, 'utf8');
}

/** Load one zero-shot set by name from `dir`. */
export function loadZeroShot(name: string, dir: string): Task {
  const src = ZERO_SHOT_SETS[name];
  if (src === undefined) throw new DataError(`unknown zero-shot set '${name}' (known: ${Object.keys(ZERO_SHOT_SETS).join(', ')})`);
  const found = src.files.find((f) => existsSync(join(dir, f)));
  if (found === undefined) {
    throw new DataError(`file not found: ${src.files.map((f) => join(dir, f)).join(' or ')} — download ${src.from} and place it there (nothing is downloaded automatically)`);
  }
  const text = readFileSync(join(dir, found), 'utf8');
  switch (name) {
    case 'hellaswag': return F.parseHellaswag(text, found);
    case 'winogrande': {
      const lab = join(dir, 'winogrande/dev-labels.lst');
      return F.parseWinogrande(text, existsSync(lab) ? readFileSync(lab, 'utf8') : undefined, found);
    }
    case 'wsc273': return found.endsWith('.xml') ? F.parseWscXml(text, found) : F.parseWscJsonl(text, found);
    case 'storycloze': return F.parseStoryCloze(text, found);
    case 'piqa': return F.parsePiqa(text, need(dir, 'piqa/valid-labels.lst', src.from), found);
    case 'arc-easy': case 'arc-challenge': case 'openbookqa': return F.parseArc(text, name, found);
    case 'boolq': return F.parseBoolq(text, found);
    case 'lambada': return F.parseLambada(text, found);
    case 'wikitext': return F.parseWikitext(text, found);
    default: throw new DataError(`no parser for '${name}'`);
  }
}
