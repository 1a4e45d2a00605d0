/**
 * The page opens every format the Node engine opens, in headless Chromium (the system's, through
 * playwright-core): GGUF TQ2_0 and TQ1_0, a Hugging Face folder (the folder picker, and its files picked
 * one by one) and our model file, all written here by the project's own writers from one model
 * (test/helpers/formats.ts). Each is read in the worker through FileReaderSync (src/io/blob_source.ts) and
 * generates the greedy tokens Node generates for the same prompt; the page shows its kind, progress and
 * the memory line. Truncated and corrupt files show their typed error, the page then loads a good model;
 * a model too large for the 4 GiB wasm32 memory fails before anything is read, with OutOfMemoryError;
 * `bitnet web DIR` serves a Hugging Face folder the page opens by URL.
 *
 * No Chromium (/usr/bin/chromium or $CHROMIUM_PATH): skipped with a message, except under CI, where it fails.
 */
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { chromiumSkip, launchPage } from '../helpers/chromium.js';
import { writeFormats, type FormatFiles } from '../helpers/formats.js';
import { generate, loadModel } from '../../src/node.js';
import { serializeGgufHeader } from '../../src/io/gguf.js';
import { ggufLayout } from '../../src/interop/gguf_source.js';
import { makeConfig } from '../../src/model/config.js';
import { syntheticSource } from '../../src/weights/synthetic.js';
import { WebServer } from '../../src/server/web.js';
import { demo, generateInPage, loadVia } from '../helpers/page.js';

const PROMPT = 'The state of the Union is';
const MAX_TOKENS = 24;




/** A GGUF whose header describes a model far beyond 4 GiB; its data section is a hole (a sparse file). */
function hugeGguf(path: string): void {
  const c = makeConfig('tiny', { dim: 8192, nLayers: 80, nHeads: 64, nKvHeads: 8, ffnDim: 28672, vocabSize: 128256, maxSeqLen: 4096 });
  const { metadata, specs } = ggufLayout(syntheticSource(c, 1), { type: 'tq2_0' });
  const { header, offsets, sizes } = serializeGgufHeader(metadata, specs);
  const fd = openSync(path, 'w');
  writeSync(fd, header);
  closeSync(fd);
  truncateSync(path, header.length + offsets[offsets.length - 1]! + sizes[sizes.length - 1]!);
}

describe('the page opens every format, streamed, in headless Chromium', { skip: chromiumSkip }, () => {
  let browser: Browser;
  let page: Page;
  const server = new WebServer();
  let url = '';
  const logs: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'bitnet-formats-'));
  let f: FormatFiles;
  let expected: number[];

  before(async () => {
    f = writeFormats(dir);
    const m = await loadModel(f.tq2, { threads: 1 });
    try {
      expected = (await generate(m.session(), m.tokenizer!, PROMPT, { maxTokens: MAX_TOKENS, temperature: 0 })).tokens;
    } finally {
      await m.dispose();
    }
    assert.ok(new Set(expected).size > 3, `the model's tokens vary: ${expected.join(' ')}`);
    ({ url } = await server.listen(0));
    ({ browser, page } = await launchPage({ width: 1100, height: 800 }, logs));
    await loadVia(page, () => page.goto(`${url}?threads=2`)); // the bundled model first
  });
  after(async () => {
    await browser?.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('GGUF TQ2_0 and TQ1_0, the model file, an HF folder (folder picker and loose files): Node\'s greedy tokens, kind, progress, memory line', async () => {
    const cases: Array<[string, string, () => Promise<unknown>]> = [
      ['gguf', 'tiny-tq2_0.gguf', () => page.setInputFiles('#file', f.tq2)],
      ['gguf', 'tiny-tq1_0.gguf', () => page.setInputFiles('#file', f.tq1)],
      ['model-file', 'tiny.safetensors', () => page.setInputFiles('#file', f.modelFile)],
      ['hf', 'tiny-hf', () => page.setInputFiles('#folder', f.hf)],
      ['hf', 'the chosen files', () => page.setInputFiles('#file', ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json'].map((n) => join(f.hf, n)))],
    ];
    for (const [kind, name, action] of cases) {
      const d = await loadVia(page, action);
      assert.equal(d.error, undefined, `${name}: ${d.error}\n${logs.join('\n')}`);
      assert.equal(d.info?.kind, kind, name);
      assert.equal(d.info?.name, name);
      assert.equal(d.info?.backend, 'wasm');
      assert.ok(d.progress !== undefined && d.progress.total > 0 && d.progress.done === d.progress.total, `${name}: progress ${JSON.stringify(d.progress)}`);
      assert.match((await page.textContent('#memory')) ?? '', /^memory: weights [\d.]+ MiB \(i2, head f32\), KV cache [\d.]+ MiB \(f16, ctx 64\) · load [\d.]+ s$/, name);
      assert.equal(d.info?.memory, await page.textContent('#memory'));
      assert.ok(d.info!.weightBytes > 0 && d.info!.kvBytes > 0);
      assert.equal(await page.isHidden('#load-progress'), true);
      const r = await generateInPage(page, PROMPT, MAX_TOKENS);
      assert.deepEqual(r.tokens, expected, name);
    }
  });

  test('truncated and corrupt files show their typed error; the page then loads a good model', async () => {
    const gguf = readFileSync(f.tq2);
    const bad: Array<[string, Buffer, RegExp]> = [
      ['cut.gguf', gguf.subarray(0, Math.floor(gguf.length * 0.6)), /^FormatError: gguf cut\.gguf: tensor '.*' .* runs past the end of the file: truncated\?/],
      ['header-only.gguf', gguf.subarray(0, 4000), /^FormatError: .*header-only\.gguf/],
      ['noise.gguf', Buffer.concat([gguf.subarray(0, 8), Buffer.alloc(5000, 0xa5)]), /^FormatError: .*noise\.gguf/],
      ['cut.safetensors', readFileSync(f.modelFile).subarray(0, 50_000), /^FormatError: cut\.safetensors: /],
      ['notes.txt', Buffer.from('this is not a model file at all, just text'), /^FormatError: notes\.txt: neither a GGUF file \(no GGUF magic\) nor a safetensors model file/],
    ];
    for (const [name, buffer, want] of bad) {
      const d = await loadVia(page, () => page.setInputFiles('#file', { name, mimeType: 'application/octet-stream', buffer }));
      assert.equal(await page.evaluate(() => document.body.dataset.state), 'error', name);
      assert.match((await page.textContent('#error')) ?? '', want, name);
      assert.equal(await page.isHidden('#error'), false);
      assert.equal(await page.isDisabled('#generate'), true);
      assert.equal(await page.isDisabled('#file'), false, 'another model can be chosen');
      assert.equal(d.info, undefined);
    }
    // An HF folder with its shard cut short, then the same folder whole.
    const cutDir = join(dir, 'cut-hf');
    const { mkdirSync, copyFileSync } = await import('node:fs');
    mkdirSync(cutDir);
    for (const n of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(f.hf, n), join(cutDir, n));
    const st = readFileSync(join(f.hf, 'model.safetensors'));
    writeFileSync(join(cutDir, 'model.safetensors'), st.subarray(0, st.length - 4096));
    await loadVia(page, () => page.setInputFiles('#folder', cutDir));
    assert.match((await page.textContent('#error')) ?? '', /^FormatError: .*model\.safetensors/);
    const ok = await loadVia(page, () => page.setInputFiles('#folder', f.hf));
    assert.equal(ok.error, undefined);
    assert.equal(await page.isHidden('#error'), true);
    assert.deepEqual((await generateInPage(page, PROMPT, MAX_TOKENS)).tokens, expected);
  });

  test('a model too large for the 4 GiB wasm32 memory fails before it is read, with OutOfMemoryError; the page recovers', async () => {
    const huge = join(dir, 'huge.gguf');
    hugeGguf(huge);
    const t0 = performance.now();
    await loadVia(page, () => page.setInputFiles('#file', huge));
    assert.match((await page.textContent('#error')) ?? '', /^OutOfMemoryError: huge\.gguf: the packed model needs about \d+ MiB, which does not fit/);
    assert.ok(performance.now() - t0 < 30_000, 'refused without reading the tensors');
    const ok = await loadVia(page, () => page.setInputFiles('#file', f.tq1));
    assert.equal(ok.error, undefined);
    assert.deepEqual((await generateInPage(page, PROMPT, MAX_TOKENS)).tokens, expected);
  });

  test('`bitnet web DIR` serves a Hugging Face folder\'s model files; the page opens it by URL', async () => {
    writeFileSync(join(f.hf, 'notes.txt'), 'not a model file');
    const s = new WebServer({ model: f.hf });
    try {
      const { url: u, origin } = await s.listen(0);
      assert.equal((await fetch(`${origin}/models/tiny-hf/notes.txt`)).status, 404);
      assert.equal((await fetch(`${origin}/models/tiny-hf/config.json`)).status, 200);
      const d = await loadVia(page, () => page.goto(u));
      assert.equal(d.error, undefined, logs.join('\n'));
      assert.equal(d.info?.kind, 'hf');
      assert.equal(d.info?.name, 'tiny-hf');
      assert.deepEqual((await generateInPage(page, PROMPT, MAX_TOKENS)).tokens, expected);
    } finally {
      await s.close();
    }
  });
});
