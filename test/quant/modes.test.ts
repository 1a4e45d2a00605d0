/** The quantization-mode table (src/quant/modes.ts): its foreign-architecture column drives import and export. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FormatError } from '../../src/errors.js';
import { hfConfigOf } from '../../src/interop/hf_source.js';
import { ggufLayout } from '../../src/interop/gguf_source.js';
import { makeConfig } from '../../src/model/config.js';
import { exportable, foreignOf, modeOfForeign, QUANT_MODES, QUANT_VARIANTS } from '../../src/quant/modes.js';
import { syntheticSource } from '../../src/weights/synthetic.js';

test('each foreign architecture imports as exactly one mode, and that mode exports back to it', () => {
  for (const [format, arch] of [['hf', 'bitnet'], ['hf', 'llama'], ['gguf', 'bitnet']] as const) {
    const rows = QUANT_MODES.filter((m) => foreignOf(m, format) === arch);
    assert.equal(rows.length, 1, `${format} ${arch}: ${rows.join(', ')}`);
    assert.equal(modeOfForeign(format, arch), rows[0]);
  }
  assert.equal(modeOfForeign('hf', 'bitnet'), 'b158');
  assert.equal(modeOfForeign('hf', 'llama'), 'fp');
  assert.throws(() => modeOfForeign('gguf', 'llama'), /no quantization mode imports from gguf 'llama'/);
  assert.equal(exportable('gguf'), 'b158 → bitnet');
  // a packed foreign format needs ternary weights
  for (const m of QUANT_MODES) if (foreignOf(m, 'hf') === 'bitnet' || foreignOf(m, 'gguf') === 'bitnet') assert.equal(QUANT_VARIANTS[m].weight, 'ternary', m);
});

test('exporters refuse modes without a foreign row, naming the ones that export', () => {
  const v2 = makeConfig('tiny', { quant: 'v2-a8', dim: 128, ffnDim: 256 });
  assert.throws(() => hfConfigOf(v2, { dtype: 'F32', linearClass: 'autobitlinear' }), (e: Error) => e instanceof FormatError && /'v2-a8' has no Hugging Face equivalent \(fp → llama, b158 → bitnet\)/.test(e.message));
  const src = syntheticSource(makeConfig('tiny', { quant: 'bitnet', subln: false }), 1);
  assert.throws(() => ggufLayout(src), (e: Error) => e instanceof FormatError && /runs b158 → bitnet models; this model is 'bitnet'/.test(e.message));
});
