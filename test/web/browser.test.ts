/**
 * End to end in headless Chromium (the system's, driven by playwright-core; nothing downloaded): the
 * demo page served by `bitnet web` loads the bundled model in its worker on the WASM kernels, cross-origin
 * isolated with 2 kernel threads, generates greedily through the UI, and the tokens equal the Node
 * engine's for the same model and prompt (computed here). Also: 1 thread gives the same tokens; a picked
 * model file whose tokenizer needs @huggingface/tokenizers (loaded in the worker by URL) matches Node too;
 * a corrupt file shows its FormatError in the page. Screenshot: test-artifacts/browser-demo.png.
 *
 * No Chromium (/usr/bin/chromium or $CHROMIUM_PATH): skipped with a message, except under CI, where it fails.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { chromiumSkip, launchPage } from '../helpers/chromium.js';
import { generate, HfTokenizer, loadModel, openModel, saveModelFile } from '../../src/node.js';
import { WebServer } from '../../src/server/web.js';
import { demo, generateInPage, loadVia, type Demo } from '../helpers/page.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BUNDLED = join(ROOT, 'models/sotu-tiny-b158.safetensors');
const ARTIFACTS = join(ROOT, 'test-artifacts');
const skip = chromiumSkip;

const PROMPT = 'The state of the Union is';
const MAX_TOKENS = 40;


/** Greedy tokens from the Node engine for a model file and prompt. */
async function nodeTokens(file: string, prompt: string): Promise<{ tokens: number[]; text: string }> {
  const m = await loadModel(file, { threads: 1 });
  try {
    const r = await generate(m.session(), m.tokenizer!, prompt, { maxTokens: MAX_TOKENS, temperature: 0 });
    return { tokens: r.tokens, text: r.text };
  } finally {
    await m.dispose();
  }
}



describe('browser demo in headless Chromium', { skip }, () => {
  let browser: Browser;
  let page: Page;
  const server = new WebServer();
  let url = '';
  const logs: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'bitnet-browser-'));

  before(async () => {
    ({ url } = await server.listen(0));
    ({ browser, page } = await launchPage({ width: 1100, height: 760 }, logs));
  });
  after(async () => {
    await browser?.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the bundled model, 2 threads, greedy: the page streams the Node engine\'s tokens; 1 thread too', async (t) => {
    const expected = await nodeTokens(BUNDLED, PROMPT);
    assert.equal(expected.tokens.length, MAX_TOKENS);
    const { info, error } = await loadVia(page, () => page.goto(`${url}?threads=2`));
    assert.equal(error, undefined, logs.join('\n'));
    assert.ok(info);
    assert.equal(await page.evaluate(() => crossOriginIsolated), true);
    assert.equal(info.crossOriginIsolated, true);
    assert.equal(info.backend, 'wasm');
    assert.equal(info.simd, true);
    assert.equal(info.threads, 2);
    assert.equal(info.name, 'sotu-tiny-b158.safetensors');

    const r2 = await generateInPage(page, PROMPT, MAX_TOKENS);
    assert.deepEqual(r2.tokens, expected.tokens);
    assert.equal(r2.text, expected.text);
    assert.equal(r2.finishReason, 'length');
    assert.equal(await page.textContent('#output'), PROMPT + expected.text); // streamed into the page
    assert.match((await page.textContent('#stats')) ?? '', /generated 40 tokens, [\d.]+ tok\/s decode/);
    assert.match((await page.textContent('#model-info')) ?? '', /WebAssembly SIMD.*2 threads \(cross-origin isolated\)/);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'browser-demo.png'), fullPage: true });

    await page.fill('#threads', '1');
    assert.equal((await loadVia(page, () => page.dispatchEvent('#threads', 'change'))).info?.threads, 1);
    const r1 = await generateInPage(page, PROMPT, MAX_TOKENS);
    assert.deepEqual(r1.tokens, expected.tokens);
    t.diagnostic(`decode in the page: ${r2.decodeTokPerS.toFixed(1)} tok/s on 2 threads, ${r1.decodeTokPerS.toFixed(1)} tok/s on 1`);
  });

  test('a picked model file whose tokenizer needs @huggingface/tokenizers (loaded in the worker by URL): same tokens as Node', async () => {
    // The bundled model with a lower-casing normalizer in its tokenizer.json: our encoder declines it, the library takes it.
    const opened = openModel(BUNDLED);
    const json = { ...(opened.tokenizer!.toJSON() as Record<string, unknown>), normalizer: { type: 'Lowercase' } };
    const file = join(dir, 'lowercase.safetensors');
    saveModelFile(file, opened.source, new HfTokenizer(json));
    const prompt = 'THE STATE of the UNION is';
    const expected = await nodeTokens(file, prompt);
    const { info, error } = await loadVia(page, () => page.setInputFiles('#file', file));
    assert.equal(error, undefined, logs.join('\n'));
    assert.equal(info?.name, 'lowercase.safetensors');
    assert.equal(info?.tokenizer, 'HfTokenizer');
    const r = await generateInPage(page, prompt, MAX_TOKENS);
    assert.deepEqual(r.tokens, expected.tokens);
  });

  test('Stop aborts a running generation; a prompt longer than the context shows its ArgumentError; the model stays loaded', async () => {
    await page.fill('#max-tokens', '100');
    await page.evaluate(() => {
      (window as unknown as { bitnetDemo: Demo }).bitnetDemo.result = undefined;
      document.getElementById('generate')!.click();
      document.getElementById('stop')!.click();
    });
    await page.waitForFunction(() => (window as unknown as { bitnetDemo: Demo }).bitnetDemo.result !== undefined, null, { timeout: 20_000 });
    const r = (await demo(page)).result!;
    assert.equal(r.finishReason, 'abort');
    assert.ok(r.tokens.length < 100, `${r.tokens.length} tokens`);
    await page.fill('#prompt', 'and the '.repeat(100));
    await page.click('#generate');
    await page.waitForFunction(() => (window as unknown as { bitnetDemo: Demo }).bitnetDemo.error !== undefined, null, { timeout: 20_000 });
    assert.match((await page.textContent('#error')) ?? '', /^ArgumentError: prompt of \d+ tokens does not fit the context of 128 tokens/);
    assert.equal(await page.evaluate(() => document.body.dataset.state), 'ready');
    assert.deepEqual((await generateInPage(page, PROMPT, MAX_TOKENS)).tokens.length, MAX_TOKENS);
  });

  test('a corrupt model file shows its FormatError in the page (no hang), and the bundled model loads again', async () => {
    await loadVia(page, () => page.setInputFiles('#file', { name: 'corrupt.safetensors', mimeType: 'application/octet-stream', buffer: Buffer.from('this is not a model file at all, just text') }));
    assert.equal(await page.evaluate(() => document.body.dataset.state), 'error');
    assert.match((await page.textContent('#error')) ?? '', /^FormatError: corrupt\.safetensors: neither a GGUF file \(no GGUF magic\) nor a safetensors model file: /);
    assert.equal(await page.isDisabled('#generate'), true);
    const truncated = readFileSync(BUNDLED).subarray(0, 100_000);
    await loadVia(page, () => page.setInputFiles('#file', { name: 'truncated.safetensors', mimeType: 'application/octet-stream', buffer: truncated }));
    assert.match((await page.textContent('#error')) ?? '', /^FormatError: truncated\.safetensors: /);
    const back = await loadVia(page, () => page.click('#use-bundled'));
    assert.equal(back.error, undefined);
    assert.equal(back.info?.name, 'sotu-tiny-b158.safetensors');
    assert.equal(await page.isDisabled('#generate'), false);
  });
});
