/**
 * `npm run bench -- web`: the demo page in headless Chromium (Debian's, driven by playwright-core) against
 * the Node engine, same model file, prompt, thread count and machine, in one run: load time, prefill and
 * decode tokens/s (greedy), and whether the page's tokens equal Node's. Models: our model files of the
 * synthetic published shapes (bench/load.ts makes and caches them). Needs Chromium (CHROMIUM_PATH or
 * /usr/bin/chromium); says so and skips otherwise.
 */
import { existsSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { generate } from '../src/infer/generate.js';
import { loadModel } from '../src/load/open.js';
import { WebServer } from '../src/server/web.js';
import type { GenerationResult, ModelInfo } from '../web/protocol.js';
import type { Reporter } from './harness.js';
import { modelFiles } from './load.js';
import { peerGguf } from './peer_llamacpp.js';

type Demo = { info: ModelInfo | undefined; result: GenerationResult | undefined; error: string | undefined };

export async function benchWeb(rep: Reporter, opts: { quick: boolean; threads: number[] }): Promise<void> {
  const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(chromiumPath)) {
    console.error(`bench web: no Chromium at ${chromiumPath}; skipped`);
    return;
  }
  const presets = opts.quick ? ['b1.58-large'] : ['b1.58-large', '2b4t'];
  const prompt = 'The state of the Union is strong, and the people of this nation have reason for hope. '.repeat(2).slice(0, 128);
  const maxTokens = opts.quick ? 16 : 48;
  for (const preset of presets) {
    const file = modelFiles(preset).modelFile;
    for (const threads of opts.threads) {
      // Node, same file and settings
      const m = await loadModel(file, { threads });
      const node = await generate(m.session(), m.tokenizer!, prompt, { maxTokens, temperature: 0 });
      await m.dispose();
      const browser = await launchChromium(chromiumPath);
      try {
        const { loadS, results } = await pageGenerate(browser, file, { threads, prompt, maxTokens });
        const r = results[0]!;
        const nodeDecode = ((node.tokens.length - 1) * 1000) / node.decodeMs, nodePrefill = (node.promptTokens * 1000) / node.prefillMs;
        rep.add({ suite: 'web', name: `${preset} model file, page vs Node`, shape: `prompt ${r.promptTokens}, ${maxTokens} tokens`, backend: 'wasm', threads, medianMs: NaN, minMs: NaN, p90Ms: NaN,
          metrics: {
            page_load_s: loadS, page_prefill_tok_s: r.prefillTokPerS, page_decode_tok_s: r.decodeTokPerS,
            node_prefill_tok_s: nodePrefill, node_decode_tok_s: nodeDecode,
            prefill_page_vs_node: r.prefillTokPerS / nodePrefill, decode_page_vs_node: r.decodeTokPerS / nodeDecode,
            same_tokens: r.tokens.join(',') === node.tokens.join(',') ? 1 : 0,
          } });
      } finally {
        await browser.close();
      }
    }
  }
}

/** Headless Chromium as every page benchmark launches it. */
export async function launchChromium(executablePath: string): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
}

/**
 * The demo page on `model` (a GGUF or model file, served by our WebServer, which the page opens by default) at
 * `threads`: load (navigation → model ready), then `reps` greedy generations of `maxTokens` from `prompt`, each
 * timed by the page's worker (GenerationResult: prefill and decode tokens/s).
 */
export async function pageGenerate(browser: Browser, model: string, o: { threads: number; prompt: string; maxTokens: number; reps?: number }): Promise<{ loadS: number; info: ModelInfo; results: GenerationResult[] }> {
  const server = new WebServer({ model });
  const { url } = await server.listen(0);
  try {
    const page: Page = await browser.newPage();
    const t0 = performance.now();
    await page.goto(`${url}${url.includes('?') ? '&' : '?'}threads=${o.threads}`);
    await page.waitForFunction(() => {
      const d = (window as unknown as { bitnetDemo?: Demo }).bitnetDemo;
      return d !== undefined && (d.info !== undefined || d.error !== undefined) && document.body.dataset.state !== 'busy';
    }, null, { timeout: 600_000, polling: 200 });
    const loadS = (performance.now() - t0) / 1000;
    const loaded = await page.evaluate(() => (window as unknown as { bitnetDemo: Demo }).bitnetDemo);
    if (loaded.error !== undefined || loaded.info === undefined) throw new Error(`page: ${loaded.error ?? 'no model info'}`);
    await page.fill('#prompt', o.prompt);
    await page.fill('#max-tokens', String(o.maxTokens));
    await page.fill('#temperature', '0');
    const results: GenerationResult[] = [];
    for (let i = 0; i < (o.reps ?? 1); i++) {
      await page.evaluate(() => Object.assign((window as unknown as { bitnetDemo: Demo }).bitnetDemo, { result: undefined, error: undefined }));
      await page.click('#generate');
      await page.waitForFunction(() => {
        const x = (window as unknown as { bitnetDemo: Demo }).bitnetDemo;
        return document.body.dataset.state === 'ready' && (x.result !== undefined || x.error !== undefined);
      }, null, { timeout: 600_000, polling: 200 });
      const d = await page.evaluate(() => (window as unknown as { bitnetDemo: Demo }).bitnetDemo);
      if (d.error !== undefined || d.result === undefined) throw new Error(`page: ${d.error ?? 'no result'}`);
      results.push(d.result);
    }
    await page.close();
    return { loadS, info: loaded.info, results };
  } finally {
    await server.close();
  }
}

/**
 * `npm run bench -- webgguf [--gguf FILE] [--threads T]`: a GGUF chosen in the page → its first generated token,
 * against Node loading the same file (`loadModel` → first token, as bench/load.ts times whole processes) in the
 * same run. The page is open (bundled model loaded) before the clock starts; the clock covers the file pick,
 * reading it through FileReaderSync, repacking every tensor in the worker, and a 1-token greedy generation.
 * Default FILE: the synthetic 2B4T-shape TQ2_0 GGUF bench/load.ts caches.
 */
export async function benchWebGguf(rep: Reporter, opts: { gguf?: string; threads: number }): Promise<void> {
  const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(chromiumPath)) {
    console.error(`bench webgguf: no Chromium at ${chromiumPath}; skipped`);
    return;
  }
  const gguf = opts.gguf ?? peerGguf('2b4t');
  const { threads } = opts;
  const prompt = 'The';
  const t0 = performance.now();
  const m = await loadModel(gguf, { threads });
  const nodeLoadS = (performance.now() - t0) / 1000;
  const node = await generate(m.session(), m.tokenizer!, prompt, { maxTokens: 1, temperature: 0 });
  const nodeFirstS = (performance.now() - t0) / 1000;
  const weightsMiB = m.model.weightBytes / 2 ** 20;
  await m.dispose();
  const server = new WebServer();
  const { url } = await server.listen(0);
  const browser = await launchChromium(chromiumPath);
  try {
    const page: Page = await browser.newPage();
    const settled = () => page.waitForFunction(() => {
      const d = (window as unknown as { bitnetDemo?: Demo }).bitnetDemo;
      return d !== undefined && ['ready', 'error'].includes(document.body.dataset.state ?? '') && (d.info !== undefined || d.error !== undefined);
    }, null, { timeout: 600_000, polling: 100 });
    await page.goto(`${url}?threads=${threads}`);
    await settled();
    await page.fill('#prompt', prompt);
    await page.fill('#max-tokens', '1');
    await page.fill('#temperature', '0');
    await page.evaluate(() => Object.assign((window as unknown as { bitnetDemo: Demo }).bitnetDemo, { info: undefined, error: undefined, result: undefined }));
    const p0 = performance.now();
    await page.setInputFiles('#file', gguf);
    await settled();
    const pageLoadS = (performance.now() - p0) / 1000;
    let d = await page.evaluate(() => (window as unknown as { bitnetDemo: Demo }).bitnetDemo);
    if (d.error !== undefined) throw new Error(`page: ${d.error}`);
    await page.click('#generate');
    await page.waitForFunction(() => {
      const x = (window as unknown as { bitnetDemo: Demo }).bitnetDemo;
      return document.body.dataset.state === 'ready' && (x.result !== undefined || x.error !== undefined);
    }, null, { timeout: 600_000, polling: 50 });
    const pageFirstS = (performance.now() - p0) / 1000;
    d = await page.evaluate(() => (window as unknown as { bitnetDemo: Demo }).bitnetDemo);
    if (d.error !== undefined || d.result === undefined) throw new Error(`page: ${d.error ?? 'no result'}`);
    console.error(`bench webgguf: page ${d.info?.memory}`);
    rep.add({ suite: 'webgguf', name: `GGUF chosen → first token, page vs Node (${gguf.split('/').pop()})`, shape: `prompt '${prompt}', 1 token`, backend: 'wasm', threads, medianMs: pageFirstS * 1000, minMs: NaN, p90Ms: NaN,
      metrics: {
        page_load_s: pageLoadS, page_first_token_s: pageFirstS, node_load_s: nodeLoadS, node_first_token_s: nodeFirstS,
        page_vs_node: pageFirstS / nodeFirstS, weights_MiB: weightsMiB, same_token: d.result.tokens.join(',') === node.tokens.join(',') ? 1 : 0,
      } });
  } finally {
    await browser.close();
    await server.close();
  }
}
