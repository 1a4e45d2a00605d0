import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

/** Static imports of a compiled module (type-only imports are erased by tsc; dynamic import() is allowed). */
function staticImports(file: string): string[] {
  const src = readFileSync(file, 'utf8');
  return [...src.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]/gm)].map((m) => (m[1] ?? m[2])!);
}

function nodeImports(entry: string): { offenders: string[]; modules: number } {
  const root = fileURLToPath(new URL(entry, import.meta.url));
  const seen = new Set<string>();
  const offenders: string[] = [];
  const visit = (file: string, via: string[]) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const spec of staticImports(file)) {
      if (spec.startsWith('node:')) offenders.push(`${[...via, file].map((f) => f.split('/dist/')[1]).join(' → ')} imports ${spec}`);
      else if (spec.startsWith('.')) visit(resolve(dirname(file), spec), [...via, file]);
    }
  };
  visit(root, []);
  return { offenders, modules: seen.size };
}

test('the universal entry (bitnet-ts) statically imports no node: module, so it bundles for browsers', () => {
  const { offenders, modules } = nodeImports('../src/index.js');
  assert.ok(modules > 20, `walked ${modules} modules`);
  assert.deepEqual(offenders, []);
  // The detector itself works: the Node entry does reach node: modules.
  assert.ok(nodeImports('../src/node.js').offenders.length > 0);
});
