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

/**
 * package.json "exports": each subpath resolves by the package's own name (Node's self-reference, as a
 * user's `import … from 'bitnet-ts/gguf'` would) and exports the names it promises; the internals stay
 * off the main entry; every entry but `./node` is universal.
 */
const ENTRIES: Record<string, { file: string; names: string[]; universal: boolean }> = {
  '.': {
    file: '../src/index.js', universal: true,
    names: ['makeConfig', 'PRESETS', 'validateConfig', 'Transformer', 'BitLinear', 'AdamW', 'train', 'scheduleAt', 'PackedModel', 'InferenceSession',
      'generate', 'generateStream', 'loadModelFromBytes', 'modelFileBytes', 'byteTokenizer', 'HfTokenizer', 'FORMAT_TRAITS', 'QUANT_VARIANTS', 'QUANT_MODES',
      'perplexity', 'createBackend', 'ArgumentError'],
  },
  './node': { file: '../src/node.js', universal: false, names: ['makeConfig', 'openModel', 'saveModelFile', 'loadGguf', 'writeGguf', 'exportHF', 'BitnetServer', 'runDirStore'] },
  './gguf': { file: '../src/entry/gguf.js', universal: true, names: ['parseGguf', 'serializeGgufHeader', 'ggufChunks', 'gv', 'metaNumber', 'metaString', 'metaArray', 'GGML_TYPES', 'encodeGgml', 'decodeGgml'] },
  './science': { file: '../src/entry/science.js', universal: true, names: ['matmulEnergyPerToken', 'weightBytes', 'trainedFormat', 'quantizeModel', 'PTQ_METHODS', 'gptqQuantize', 'quipQuantize', 'smoothModel', 'fitScalingLaw'] },
  './interp': { file: '../src/entry/interp.js', universal: true, names: ['symEig', 'interactionMatrix', 'hosvd', 'BilinearClassifier', 'fitClassifier', 'trainToy', 'ffnBilinearWeights'] },
  './internals': {
    file: '../src/entry/internals.js', universal: true,
    names: ['WasmContext', 'refKernels', 'roundHalfEven', 'QuantInput', 'QuantWeight', 'ACT_CODES', 'packedFormat', 'packI2', 'unpackI2', 'packI2R4', 'tq2ToI2R4',
      'modelLayout', 'quantizeRowsI7', 'parseSafetensors', 'serializeHeader', 'packHfTernary', 'modelFileContentsV1'],
  },
};

test('every package.json subpath resolves by the package name and exports its names; the universal ones import no node: module', async () => {
  const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as { name: string; exports: Record<string, { default: string }> };
  assert.deepEqual(Object.keys(pkg.exports).sort(), Object.keys(ENTRIES).sort(), 'this test lists every subpath');
  for (const [sub, e] of Object.entries(ENTRIES)) {
    assert.equal(pkg.exports[sub]!.default, `./dist/${e.file.slice(3)}`, `${sub} points at ${e.file}`);
    const m = (await import(sub === '.' ? pkg.name : `${pkg.name}/${sub.slice(2)}`)) as Record<string, unknown>;
    for (const n of e.names) assert.notEqual(m[n], undefined, `${sub} exports ${n}`);
    if (e.universal) assert.deepEqual(nodeImports(e.file).offenders, [], `${sub} is universal`);
  }
  const main = (await import(pkg.name)) as Record<string, unknown>;
  for (const n of ['gv', 'metaNumber', 'ggufChunks', 'serializeGgufHeader', 'QuantInput', 'packI2', 'WasmContext', 'serializeHeader', 'quantizeModel', 'symEig']) {
    assert.equal(main[n], undefined, `'${n}' is not on the main entry`);
  }
});
