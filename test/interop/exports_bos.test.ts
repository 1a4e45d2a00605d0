/**
 * Exports say what the engine does with BOS: `generate` feeds [BOS] + tokens (models trained here saw
 * exactly that), so the GGUF says add_bos_token = true and the exported tokenizer.json prepends BOS
 * through its post-processor (transformers' default add_special_tokens=True), while our own encoders
 * (which never add specials themselves) are unchanged.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { metaNumber } from '../../src/io/gguf.js';
import { loadGguf, writeGguf } from '../../src/interop/gguf_model.js';
import { exportHF, loadHF } from '../../src/interop/hf.js';
import { syntheticSource } from '../../src/weights/synthetic.js';
import { makeConfig } from '../../src/model/config.js';
import { HfTokenizer } from '../../src/tokenizer/hf.js';
import { trainBpe } from '../../src/tokenizer/train.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

test('GGUF and HF exports declare the BOS the engine prepends', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bos-'));
  dirs.push(dir);
  const tok = trainBpe(['the state of the union is strong', 'we the people of the united states'], { vocabSize: 300 });
  assert.ok(tok.bosId >= 0);
  const src = syntheticSource(makeConfig('tiny', { dim: 256, ffnDim: 512, nHeads: 4, nKvHeads: 2, vocabSize: 300, maxSeqLen: 32, subln: true, tieEmbeddings: true, quant: 'b158' }), 1);
  const gg = join(dir, 'm.gguf');
  writeGguf(gg, src, { tokenizer: tok });
  const g = loadGguf(gg);
  try {
    const v = g.file.metadata.get('tokenizer.ggml.add_bos_token');
    assert.equal(v?.value, true, 'add_bos_token');
    assert.equal(metaNumber(g.file.metadata, 'tokenizer.ggml.bos_token_id'), tok.bosId);
  } finally {
    g.close();
  }
  const synth = join(dir, 's.gguf');
  writeGguf(synth, src);
  const s = loadGguf(synth);
  try {
    assert.equal(s.file.metadata.get('tokenizer.ggml.add_bos_token')?.value, true, 'synthetic vocabulary: add_bos_token');
  } finally {
    s.close();
  }
  const hf = join(dir, 'hf');
  exportHF(hf, src, { tokenizer: tok });
  const json = JSON.parse(readFileSync(join(hf, 'tokenizer.json'), 'utf8')) as Record<string, unknown>;
  const tc = JSON.parse(readFileSync(join(hf, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(tc.add_bos_token, true);
  const lib = new HfTokenizer(json, tc);
  const text = 'the union';
  // the library with specials (what transformers does by default) = the engine's sequence
  const withSpecials = (lib as unknown as { tk: { encode(t: string, o: object): { ids: number[] } } }).tk.encode(text, { add_special_tokens: true }).ids;
  assert.deepEqual(withSpecials, [tok.bosId, ...tok.encode(text)]);
  // our own encoders are unchanged (they never add specials)
  assert.deepEqual(loadHF(hf).tokenizer!.encode(text), tok.encode(text));
  assert.deepEqual(lib.encode(text), tok.encode(text));
});
