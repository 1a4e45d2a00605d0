/**
 * Layers point down: every import in src/ (type-only imports included, read from the TypeScript
 * sources) goes to its own directory or to a lower layer of the order ARCHITECTURE.md declares. Two
 * directories of one layer may not import each other (model and nn are one layer: BitLinear and the
 * Transformer share config types both ways).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

/** Bottom → top. Keep in step with the diagram in ARCHITECTURE.md. */
export const LAYERS: string[][] = [
  ['errors'],
  ['platform', 'tensor'],
  ['io'],
  ['quant', 'tokenizer'],
  ['kernels', 'data'],
  ['model+nn'],
  ['train', 'eval'],
  ['weights'],
  ['infer', 'interop'],
  ['load'],
  ['science', 'interp'],
  ['server'],
  ['cli'],
  ['index', 'entry'],
  ['node'],
];

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src');

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? tsFiles(p) : f.endsWith('.ts') ? [p] : [];
  });
}

/** The layer unit of a path under src/: its top directory, or the file name for top-level files. */
function unit(p: string): string {
  const top = relative(root, p).split('/')[0]!.replace(/\.(ts|js)$/, '');
  return top === 'model' || top === 'nn' ? 'model+nn' : top;
}

const level = new Map(LAYERS.flatMap((l, i) => l.map((u) => [u, i] as const)));

/** Every import against the order, for files given as (path under src/, source text). */
function violations(files: Array<{ path: string; src: string }>): string[] {
  const bad: string[] = [];
  for (const { path, src } of files) {
    const f = join(root, path);
    const from = unit(f);
    const lf = level.get(from);
    if (lf === undefined) {
      bad.push(`${path}: directory '${from}' has no layer (add it to LAYERS and ARCHITECTURE.md)`);
      continue;
    }
    for (const m of src.matchAll(/(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]/g)) {
      const to = unit(normalize(join(dirname(f), m[1]!)));
      if (to === from) continue;
      const lt = level.get(to);
      if (lt === undefined || lt >= lf) bad.push(`${path} (${from}, layer ${lf}) imports ${m[1]} (${to}, layer ${lt ?? '?'})`);
    }
  }
  return bad;
}

test('imports in src/ follow the layer order', () => {
  const files = tsFiles(root).map((f) => ({ path: relative(root, f), src: readFileSync(f, 'utf8') }));
  assert.ok(files.length > 100, `read ${files.length} files`);
  assert.deepEqual(violations(files), []);
});

test('the check reports upward and same-layer imports, and unknown directories', () => {
  assert.deepEqual(violations([{ path: 'kernels/x.ts', src: "import type { PackedModel } from '../infer/packed_model.js';" }]).length, 1, 'kernels → infer (up)');
  assert.deepEqual(violations([{ path: 'infer/x.ts', src: "import { loadGguf } from '../interop/gguf_model.js';" }]).length, 1, 'infer → interop (same layer)');
  assert.deepEqual(violations([{ path: 'infer/x.ts', src: "import { FormatError } from '../errors.js';\nexport { bytesI7R4 } from '../kernels/ref/infer.js';" }]), [], 'down is fine');
  assert.deepEqual(violations([{ path: 'newdir/x.ts', src: '' }]).length, 1, 'a directory without a layer');
});
