/**
 * loadModelFromBytes (the path-free loader the browser uses): the bundled model from its bytes
 * generates exactly what loadModel(path) does; anything but a model file is a FormatError.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import { FormatError, generate, loadModelFromBytes, loadModel, openModel, saveModelFile, saveSafetensors, syntheticSource, makeConfig, byteTokenizer } from '../../src/node.js';

const BUNDLED = fileURLToPath(new URL('../../../models/sotu-tiny-b158.safetensors', import.meta.url));

describe('loadModelFromBytes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bitnet-bytes-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('the bundled model from its bytes: same greedy tokens as loadModel(path)', async () => {
    const prompt = 'The state of the Union is';
    const a = await loadModel(BUNDLED, { threads: 1 });
    const b = await loadModelFromBytes(new Uint8Array(readFileSync(BUNDLED)), { threads: 1, where: 'bundled', requireTokenizer: true });
    try {
      assert.equal(b.kind, 'model-file');
      assert.equal(b.backend.name, 'wasm');
      const ra = await generate(a.session(), a.tokenizer!, prompt, { maxTokens: 16, temperature: 0 });
      const rb = await generate(b.session(), b.tokenizer!, prompt, { maxTokens: 16, temperature: 0 });
      assert.equal(rb.tokens.length, 16);
      assert.deepEqual(rb.tokens, ra.tokens);
      assert.equal(rb.text, ra.text);
    } finally {
      await a.dispose();
      await b.dispose();
    }
  });

  test('not a model file → FormatError naming where it came from', async () => {
    await assert.rejects(loadModelFromBytes(new TextEncoder().encode('this is not a model file, only some text'), { where: 'notes.txt', backend: 'ref' }), (e: Error) => e instanceof FormatError && /notes\.txt|safetensors/.test(e.message));
    const plain = join(dir, 'plain.safetensors');
    saveSafetensors(plain, [['w', { dtype: 'F32', shape: [2], data: Float32Array.of(1, 2) }]]);
    await assert.rejects(loadModelFromBytes(new Uint8Array(readFileSync(plain)), { where: 'plain.safetensors', backend: 'ref' }), (e: Error) => e instanceof FormatError && /plain\.safetensors.*bitnet pack/.test(e.message));
  });

  test('a model file without a tokenizer: FormatError when one is required, loads otherwise', async () => {
    const file = join(dir, 'notok.safetensors');
    saveModelFile(file, syntheticSource(makeConfig('tiny', { vocabSize: byteTokenizer().vocabSize }), 1), undefined);
    const bytes = new Uint8Array(readFileSync(file));
    await assert.rejects(loadModelFromBytes(bytes, { where: 'notok', requireTokenizer: true, backend: 'ref' }), (e: Error) => e instanceof FormatError && /notok: no tokenizer/.test(e.message));
    const m = await loadModelFromBytes(bytes, { backend: 'ref' });
    assert.equal(m.tokenizer, undefined);
    assert.equal(m.model.config.vocabSize, openModel(file).source.config.vocabSize);
    await m.dispose();
  });
});
