/**
 * The demo page's Train section in headless Chromium (as test/web/browser.test.ts: Debian's chromium via
 * playwright-core, the page served by `bitnet web`, cross-origin isolated): training through the UI gives
 * the same model file bytes as quickTrain in Node for the same text, steps, seed and quant, on 2 and on
 * 1 kernel threads (the bytes are read back through the page's download link); "Generate from it" loads the
 * trained model into the generation worker and its greedy tokens equal Node's from the same bytes; Stop ends
 * a run early with a model; a too-short text shows its ArgumentError. Screenshot: test-artifacts/browser-train.png.
 *
 * No Chromium (/usr/bin/chromium or $CHROMIUM_PATH): skipped with a message, except under CI, where it fails.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { chromiumSkip, launchPage } from '../helpers/chromium.js';
import { generate } from '../../src/infer/generate.js';
import { createBackend } from '../../src/kernels/backend.js';
import { loadModelFromBytes } from '../../src/load/loaded_model.js';
import { quickTrain, SAMPLE_TEXT, type QuickTrainOptions } from '../../src/load/quick_train.js';
import { WebServer } from '../../src/server/web.js';
import type { GenerationResult, ModelInfo } from '../../web/protocol.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const ARTIFACTS = join(ROOT, 'test-artifacts');
const skip = chromiumSkip;

interface TrainView { losses: number[]; done: { steps: number; stopped: boolean; bytes: number; name: string; quant: string } | undefined; error: string | undefined }
type Demo = { info: ModelInfo | undefined; result: GenerationResult | undefined; error: string | undefined; train: TrainView };
const demo = (page: Page) => page.evaluate(() => (window as unknown as { bitnetDemo: Demo }).bitnetDemo);
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** quickTrain in Node on the WASM kernels with `threads` threads: the model file bytes. */
async function nodeBytes(text: string, opts: QuickTrainOptions, threads: number): Promise<Uint8Array> {
  const be = await createBackend({ backend: 'wasm', threads });
  try {
    return quickTrain(be, text, opts).bytes;
  } finally {
    await be.dispose();
  }
}

/** Fill the Train section, press Train, wait for the end (done or error); the page's train view. */
async function trainInPage(page: Page, s: { text?: string; steps: number; seed: number; quant: 'b158' | 'fp'; threads: number }): Promise<TrainView> {
  if (s.text !== undefined) await page.fill('#train-text', s.text);
  await page.fill('#train-steps', String(s.steps));
  await page.fill('#train-seed', String(s.seed));
  await page.selectOption('#train-quant', s.quant);
  await page.fill('#train-threads', String(s.threads));
  await page.click('#train');
  await page.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.train ?? ''), null, { timeout: 60_000 });
  return (await demo(page)).train;
}

/** The bytes behind the page's download link (its Blob URL, fetched in the page). */
async function downloadedBytes(page: Page): Promise<Uint8Array> {
  const b64 = await page.evaluate(async () => {
    const a = document.getElementById('train-download') as HTMLAnchorElement;
    const bytes = new Uint8Array(await (await fetch(a.href)).arrayBuffer());
    let s = '';
    for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(s);
  });
  return new Uint8Array(Buffer.from(b64, 'base64'));
}

describe('the demo page trains a model (headless Chromium)', { skip }, () => {
  let browser: Browser;
  let page: Page;
  const server = new WebServer();
  let url = '';
  const logs: string[] = [];

  before(async () => {
    ({ url } = await server.listen(0));
    ({ browser, page } = await launchPage({ width: 1100, height: 1100 }, logs));
    await page.goto(`${url}?threads=2`);
    await page.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.state ?? ''), null, { timeout: 20_000 });
  });
  after(async () => {
    await browser?.close();
    await server.close();
  });

  test('Train (20 steps, b158, 2 threads, then fp on 1): the downloaded model file is byte-identical to Node\'s; "Generate from it" gives Node\'s greedy tokens', async (t) => {
    assert.equal(await page.evaluate(() => crossOriginIsolated), true);
    assert.equal(await page.inputValue('#train-text'), SAMPLE_TEXT);
    const settings = { steps: 20, seed: 3, quant: 'b158' as const };
    const expected = await nodeBytes(SAMPLE_TEXT, settings, 2);
    const t0 = performance.now();
    const view = await trainInPage(page, { ...settings, threads: 2 });
    const ms = performance.now() - t0;
    assert.equal(view.error, undefined, logs.join('\n'));
    assert.equal(view.losses.length, 20);
    assert.deepEqual({ steps: view.done?.steps, stopped: view.done?.stopped, bytes: view.done?.bytes }, { steps: 20, stopped: false, bytes: expected.length });
    const got = await downloadedBytes(page);
    assert.equal(got.length, expected.length);
    assert.equal(sha(got), sha(expected), 'the page\'s model file differs from Node\'s');
    assert.match((await page.textContent('#train-stats')) ?? '', /^done after 20 steps in [\d.]+ s · val loss [\d.]+/);
    assert.equal(await page.getAttribute('#train-download', 'download'), 'trained-b158-seed3-20steps.safetensors');
    assert.ok(((await page.getAttribute('#loss-chart polyline', 'points')) ?? '').split(' ').length === 20);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'browser-train.png'), fullPage: true });

    // Generate from it: the generation worker loads these bytes; greedy tokens = Node's from the same bytes.
    const prompt = 'Four score and';
    const m = await loadModelFromBytes(expected, { threads: 1 });
    const want = await generate(m.session(), m.tokenizer!, prompt, { maxTokens: 40, temperature: 0 }).finally(() => m.dispose());
    await page.evaluate(() => Object.assign((window as unknown as { bitnetDemo: Demo }).bitnetDemo, { info: undefined, error: undefined, result: undefined }));
    await page.click('#train-use');
    await page.waitForFunction(() => {
      const d = (window as unknown as { bitnetDemo: Demo }).bitnetDemo;
      return ['ready', 'error'].includes(document.body.dataset.state ?? '') && (d.info !== undefined || d.error !== undefined);
    }, null, { timeout: 20_000 });
    const d = await demo(page);
    assert.equal(d.error, undefined, logs.join('\n'));
    assert.equal(d.info?.name, 'trained-b158-seed3-20steps.safetensors');
    assert.equal(d.info?.config.maxSeqLen, 64);
    await page.fill('#prompt', prompt);
    await page.fill('#max-tokens', '40');
    await page.fill('#temperature', '0');
    await page.click('#generate');
    await page.waitForFunction(() => (window as unknown as { bitnetDemo: Demo }).bitnetDemo.result !== undefined || document.body.dataset.state === 'error', null, { timeout: 20_000 });
    const r = (await demo(page)).result;
    assert.ok(r, logs.join('\n'));
    assert.equal(r.tokens.length, 40);
    assert.deepEqual(r.tokens, want.tokens);
    assert.equal(r.text, want.text);

    // fp twin on 1 thread: Node's bytes again.
    const fpSettings = { steps: 12, seed: 5, quant: 'fp' as const };
    const fpView = await trainInPage(page, { ...fpSettings, threads: 1 });
    assert.equal(fpView.error, undefined);
    assert.equal(fpView.done?.quant, 'fp');
    assert.equal(sha(await downloadedBytes(page)), sha(await nodeBytes(SAMPLE_TEXT, fpSettings, 1)));
    t.diagnostic(`20 training steps in the page (2 threads), click to done: ${ms.toFixed(0)} ms`);
  });

  test('Stop ends a run after the current step with a model; a too-short text shows its ArgumentError', async () => {
    await page.fill('#train-steps', '5000');
    await page.click('#train');
    await page.waitForFunction(() => (window as unknown as { bitnetDemo: Demo }).bitnetDemo.train.losses.length >= 3, null, { timeout: 20_000 });
    await page.click('#train-stop');
    await page.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.train ?? ''), null, { timeout: 20_000 });
    const v = (await demo(page)).train;
    assert.equal(v.error, undefined);
    assert.equal(v.done?.stopped, true);
    assert.ok(v.done.steps >= 3 && v.done.steps < 5000, `${v.done.steps} steps`);
    assert.equal(v.done.steps, v.losses.length);
    const m = await loadModelFromBytes(await downloadedBytes(page), { threads: 1 });
    await m.dispose();
    assert.match((await page.textContent('#train-stats')) ?? '', /^stopped after \d+ steps/);

    const bad = await trainInPage(page, { text: 'too short', steps: 5, seed: 1, quant: 'b158', threads: 1 });
    assert.equal(await page.evaluate(() => document.body.dataset.train), 'error');
    assert.match(bad.error ?? '', /^ArgumentError: quickTrain: the text is 9 tokens/);
    assert.equal(await page.isHidden('#train-error'), false);
    assert.equal(await page.isDisabled('#train'), false);
  });
});
