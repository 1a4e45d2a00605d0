/**
 * Citations resolve: every `docs/….md` that a file in src/, wasm/assembly/, bench/, scripts/ or test/ (and the
 * top-level README.md, ARCHITECTURE.md, data/README.md) cites exists in the repository, and every § section
 * cited after it on the same line (`docs/spec.md §3.7`, lists `§6.1, §6.4`, ranges `§6.2–6.4` = both ends)
 * is the number of a heading in that file (`## 3. …`, `### 3.7 …`). The team notes the code used to cite
 * (named SPEC, PLATFORM and DATA, with or without `.md`) are not part of the repository and may not be cited.
 * A path inside a URL (`…/ggml/blob/master/docs/gguf.md`) is someone else's file and is not checked.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SCANNED_DIRS = ['src', 'wasm/assembly', 'bench', 'scripts', 'test'];
const SCANNED_FILES = ['README.md', 'ARCHITECTURE.md', 'data/README.md'];
const EXTENSIONS = /\.(ts|mts|mjs|js|cjs|html|md)$/;

/** A docs path not preceded by a path or word character (so URLs and other repositories' docs/ are skipped). */
const DOC_PATH = /(?<![\w./-])docs\/([\w./-]*\w)\.md\b/g;
const SECTION = /§\s*(\d+(?:\.\d+)*)(?:\s*[–-]\s*(\d+(?:\.\d+)*))?/g;
/** The notes' names: SPEC, PLATFORM or DATA followed by `.md`, or by a space and `§`, `Eq.` or `Part`. */
const OLD_NAME = /\b(?:SPEC|PLATFORM|DATA)(?:\.md\b|\s+(?:§|Eq\.|Part\b))/;

export interface Citation { file: string; line: number; doc: string; sections: string[] }

/** Section numbers of a markdown file's headings: `## 3. Title` → '3', `### 3.7 Title` → '3.7', `## §2 …` → '2'. */
export function headingNumbers(markdown: string): Set<string> {
  const out = new Set<string>();
  for (const m of markdown.matchAll(/^#{1,6}\s+(?:§\s*)?(\d+(?:\.\d+)*)\.?\s/gm)) out.add(m[1]!);
  return out;
}

/** Every docs/ citation in one file's text, with the § sections cited after it on its line. */
export function citationsIn(file: string, text: string): Citation[] {
  const out: Citation[] = [];
  text.split('\n').forEach((lineText, i) => {
    const paths = [...lineText.matchAll(DOC_PATH)];
    paths.forEach((m, j) => {
      const end = j + 1 < paths.length ? paths[j + 1]!.index : lineText.length;
      const tail = lineText.slice(m.index + m[0].length, end);
      const sections = [...tail.matchAll(SECTION)].flatMap((s) => (s[2] === undefined ? [s[1]!] : [s[1]!, s[2]]));
      out.push({ file, line: i + 1, doc: `docs/${m[1]!}.md`, sections });
    });
  });
  return out;
}

/** Problems with the citations of `files`; `readDoc` returns a cited file's text, or undefined if it does not exist. */
export function citationProblems(files: Array<{ path: string; text: string }>, readDoc: (doc: string) => string | undefined): string[] {
  const problems: string[] = [];
  const headings = new Map<string, Set<string> | undefined>();
  for (const { path, text } of files) {
    text.split('\n').forEach((l, i) => {
      if (OLD_NAME.test(l)) problems.push(`${path}:${i + 1}: cites the team notes (SPEC/PLATFORM/DATA), not a file in docs/: ${l.trim()}`);
    });
    for (const c of citationsIn(path, text)) {
      if (!headings.has(c.doc)) {
        const md = readDoc(c.doc);
        headings.set(c.doc, md === undefined ? undefined : headingNumbers(md));
      }
      const h = headings.get(c.doc);
      if (h === undefined) {
        problems.push(`${c.file}:${c.line}: ${c.doc} does not exist`);
        continue;
      }
      for (const s of c.sections) if (!h.has(s)) problems.push(`${c.file}:${c.line}: ${c.doc} has no heading §${s}`);
    }
  }
  return problems;
}

function scanned(): Array<{ path: string; text: string }> {
  const walk = (dir: string): string[] => readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? walk(p) : EXTENSIONS.test(f) ? [p] : [];
  });
  const paths = [...SCANNED_DIRS.flatMap((d) => walk(join(root, d))), ...SCANNED_FILES.map((f) => join(root, f)).filter(existsSync)];
  return paths.map((p) => ({ path: relative(root, p), text: readFileSync(p, 'utf8') }));
}

function readRepoDoc(doc: string): string | undefined {
  const p = join(root, doc);
  return existsSync(p) ? readFileSync(p, 'utf8') : undefined;
}

test('every cited docs/ file exists and has the cited § headings; nothing cites the team notes', () => {
  const files = scanned();
  assert.ok(files.length > 200, `scanned ${files.length} files`);
  const n = files.reduce((a, f) => a + citationsIn(f.path, f.text).length, 0);
  assert.ok(n >= 80, `found ${n} docs/ citations (the code cites the spec about 80 times)`);
  assert.deepEqual(citationProblems(files, readRepoDoc), []);
});

test('the check reports missing files, missing sections (range ends included) and the old note names', () => {
  // Fabricated paths and old names are built by concatenation, so this file itself cites nothing.
  const [A, B] = ['docs' + '/a.md', 'docs' + '/b.md'];
  const doc = '# T\n## 1. One\n### 1.1 Sub\n### 1.2 Sub\n## 2 Two\n';
  const read = (d: string) => (d === A ? doc : undefined);
  const check = (text: string) => citationProblems([{ path: 'x.ts', text }], read);
  assert.deepEqual(check(`// ${A} §1, §1.1–1.2; ${A} §2 Eq.4`), [], 'present sections, list and range');
  assert.deepEqual(check('// https://github.com/ggml-org/ggml/blob/master/docs' + '/gguf.md §9'), [], 'a URL is not ours');
  assert.equal(check(`// see ${B}`).length, 1, 'missing file');
  assert.equal(check(`// ${A} §3`).length, 1, 'missing section');
  assert.equal(check(`// ${A} §1.1–1.3`).length, 1, 'missing range end');
  assert.equal(check(`// ${A} §1.1 and ${B} §1.1`).length, 1, 'sections belong to the nearest path before them');
  for (const old of ['SPEC' + '.md §1.1', 'SPEC' + ' §3.7', 'PLATFORM' + ' §4.2', 'PLATFORM' + '.md', 'SPEC' + ' Eq.11', 'DATA' + ' Part B', 'DATA' + '.md A.4']) {
    assert.deepEqual(check(`// (${old})`).map((p) => p.includes('team notes')), [true], old);
  }
  assert.deepEqual(check('const DEFAULT_SPECIAL_TOKENS = 1; // a SPECIAL case'), [], 'identifiers are not citations');
  assert.deepEqual([...headingNumbers(doc)].sort(), ['1', '1.1', '1.2', '2']);
});
