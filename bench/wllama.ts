/**
 * `npm run bench -- wllama [--quick]`: the same-Chromium peer for the page. wllama (npm `@wllama/wllama`,
 * llama.cpp compiled to WebAssembly: what browser users reach for) and our demo page, in the same headless
 * Chromium (Debian's, via playwright-core), on the same TQ2_0 GGUF (the synthetic published shapes of
 * bench/peer_llamacpp.ts: b1.58-large, and 2B4T unless --quick), the same ~128-byte prompt (129 tokens with
 * BOS: the synthetic vocabulary is byte-level with no merges, so both engines tokenize it identically), the
 * same greedy token count and thread count (1, 2). Reported per engine: load (navigation → model ready: module
 * + wasm start, the GGUF fetched from a local server, the engine's load), prefill tokens/s (prompt tokens per
 * second of prompt processing) and decode tokens/s (generated tokens after the first per second of decode),
 * each from the engine's own timers (wllama: llama-server's `timings`; ours: the page worker's
 * GenerationResult), medians over the repetitions on one loaded model; and ours / wllama.
 *
 * wllama is not a dependency of this package and nothing is downloaded at run time: it is imported from
 * $WLLAMA_DIR (default /work/peers/wllama/node_modules/@wllama/wllama), installed ahead of time with
 *   mkdir -p /work/peers/wllama && cd /work/peers/wllama && npm init -y && npm install @wllama/wllama
 * and the benchmark says "skipped" when it is not there. Its files and the GGUF are served by a small
 * node:http server below with COOP/COEP (multi-threaded wllama needs cross-origin isolation, like our page);
 * every request leaving that origin is aborted and counted (`offsite_requests`, expected 0). wllama runs
 * with n_gpu_layers 0 (CPU WebAssembly; the Chromium here runs with --disable-gpu anyway), its prompt cache
 * off (each repetition re-processes the prompt; `cache_n` checked to be 0) and ignore_eos, so it generates
 * exactly the token count. llama.cpp's WebAssembly build has no SIMD kernels for TQ2_0, so it runs the
 * generic (scalar C, whatever the compiler vectorizes) dot products.
 */
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { ISOLATION_HEADERS, resolveUnder } from '../src/server/web.js';
import type { Reporter } from './harness.js';
import { peerGguf } from './peer_llamacpp.js';
import { launchChromium, pageGenerate } from './web.js';

const INSTALL = 'mkdir -p /work/peers/wllama && cd /work/peers/wllama && npm init -y && npm install @wllama/wllama, or set WLLAMA_DIR to an installed @wllama/wllama';

export function wllamaDir(): string {
  return process.env.WLLAMA_DIR ?? '/work/peers/wllama/node_modules/@wllama/wllama';
}

/** Why wllama cannot run, or undefined when it can. */
export function wllamaUnavailable(): string | undefined {
  const dir = wllamaDir();
  if (existsSync(join(dir, 'esm', 'index.js')) && existsSync(join(dir, 'esm', 'wasm', 'wllama.wasm'))) return undefined;
  return `wllama not installed at ${dir} (${INSTALL})`;
}

/** llama-server's per-request timings, as wllama returns them. */
interface Timings { cache_n: number; prompt_n: number; prompt_ms: number; predicted_n: number; predicted_ms: number }
interface WllamaRun { timings: Timings; text: string }
/** The part of wllama's API used here (its types are not installed with this package). */
interface Wllama {
  loadModel(blobs: Blob[], params: Record<string, unknown>): Promise<void>;
  isMultithread(): boolean;
  getNumThreads(): number;
  createCompletion(params: Record<string, unknown>): Promise<{ timings?: Timings; choices: Array<{ text: string }> }>;
}
interface WllamaModule { Wllama: { new (paths: { default: string }, config: Record<string, unknown>): Wllama; getLibllamaVersion(): string } }

const MIME: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.wasm': 'application/wasm', '.html': 'text/html; charset=utf-8' };
const PAGE = '<!doctype html><meta charset="utf-8"><title>wllama peer</title><p>wllama peer</p>';

/** A static server: `/` (an empty page), `/wllama/…` (the package's files), `/model.gguf`; COOP/COEP on every response. */
async function servePeer(dir: string, gguf: string): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const send = (status: number, type: string, body: string | Buffer) => {
      res.writeHead(status, { ...ISOLATION_HEADERS, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    };
    if (req.method !== 'GET') return send(405, 'text/plain', 'GET only');
    if (path === '/' || path === '/index.html') return send(200, MIME['.html']!, PAGE);
    const file = path === '/model.gguf' ? gguf : path.startsWith('/wllama/') ? resolveUnder(dir, path.slice('/wllama/'.length)) : undefined;
    if (file === undefined || !existsSync(file) || !statSync(file).isFile()) return send(404, 'text/plain', 'not found');
    const ext = file.slice(file.lastIndexOf('.'));
    res.writeHead(200, { ...ISOLATION_HEADERS, 'Content-Type': MIME[ext] ?? 'application/octet-stream', 'Content-Length': statSync(file).size });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server };
}

/** wllama in a fresh page: load the GGUF at `threads`, then `reps` greedy completions of `maxTokens`. */
async function wllamaGenerate(browser: Browser, dir: string, gguf: string, o: { threads: number; prompt: string; maxTokens: number; reps: number }) {
  const { url, server } = await servePeer(dir, gguf);
  const origin = new URL(url).origin;
  let offsite = 0;
  const log: string[] = [];
  const page: Page = await browser.newPage();
  try {
    await page.route('**/*', (route) => {
      if (new URL(route.request().url()).origin === origin) return route.continue();
      offsite++;
      return route.abort();
    });
    page.on('console', (m) => { log.push(m.text()); });
    page.on('pageerror', (e) => { log.push(`pageerror: ${e.message}`); });
    const t0 = performance.now();
    await page.goto(url);
    const loaded = await page.evaluate(async ({ threads }) => {
      const entry: string = '/wllama/esm/index.js';
      const { Wllama } = (await import(entry)) as WllamaModule;
      const blob = await (await fetch('/model.gguf')).blob();
      const w = new Wllama({ default: '/wllama/esm/wasm/wllama.wasm' }, { suppressNativeLog: true, allowOffline: true });
      await w.loadModel([blob], { n_threads: threads, n_ctx: 512, n_gpu_layers: 0 });
      (window as unknown as { wl: unknown }).wl = w;
      return { crossOriginIsolated, multithread: w.isMultithread(), threads: w.getNumThreads(), version: Wllama.getLibllamaVersion() };
    }, { threads: o.threads }).catch((e: Error) => { throw new Error(`wllama load: ${e.message}\n${log.slice(-20).join('\n')}`); });
    const loadS = (performance.now() - t0) / 1000;
    const runs: WllamaRun[] = [];
    for (let i = 0; i < o.reps; i++) {
      runs.push(await page.evaluate(async ({ prompt, maxTokens }) => {
        const w = (window as unknown as { wl: Wllama }).wl;
        const r = await w.createCompletion({ prompt, max_tokens: maxTokens, temperature: 0, ignore_eos: true, cache_prompt: false });
        if (r.timings === undefined) throw new Error('wllama returned no timings');
        return { timings: r.timings, text: r.choices[0]?.text ?? '' };
      }, { prompt: o.prompt, maxTokens: o.maxTokens }).catch((e: Error) => { throw new Error(`wllama completion: ${e.message}\n${log.slice(-20).join('\n')}`); }));
    }
    return { loadS, loaded, runs, offsite };
  } finally {
    await page.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export async function benchWllama(rep: Reporter, opts: { quick: boolean; threads: number[]; reps: number }): Promise<void> {
  const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(chromiumPath)) {
    console.error(`bench wllama: no Chromium at ${chromiumPath}; skipped`);
    return;
  }
  const why = wllamaUnavailable();
  if (why !== undefined) {
    console.error(`bench wllama: skipped: ${why}`);
    return;
  }
  const dir = wllamaDir();
  const version = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
  const presets = opts.quick ? ['b1.58-large'] : ['b1.58-large', '2b4t'];
  const prompt = 'The state of the Union is strong, and the people of this nation have reason for hope. '.repeat(2).slice(0, 128);
  for (const preset of presets) {
    // wllama's TQ2_0 is scalar: 2B4T decode is capped at 8 tokens.
    const maxTokens = preset === '2b4t' ? 8 : opts.quick ? 16 : 32;
    const gguf = peerGguf(preset);
    for (const threads of opts.threads) {
      const browser = await launchChromium(chromiumPath);
      try {
        const wl = await wllamaGenerate(browser, dir, gguf, { threads, prompt, maxTokens, reps: opts.reps });
        const ours = await pageGenerate(browser, gguf, { threads, prompt, maxTokens, reps: opts.reps });
        const t = wl.runs.map((r) => r.timings);
        if (t.some((x) => x.cache_n !== 0)) throw new Error(`wllama reused its prompt cache (cache_n ${t.map((x) => x.cache_n).join(',')})`);
        const wlPrefill = median(t.map((x) => (x.prompt_n * 1000) / x.prompt_ms));
        const wlDecode = median(t.map((x) => ((x.predicted_n - 1) * 1000) / x.predicted_ms));
        const ourPrefill = median(ours.results.map((r) => r.prefillTokPerS));
        const ourDecode = median(ours.results.map((r) => r.decodeTokPerS));
        console.error(`bench wllama: ${preset} ×${threads}: wllama ${version} (llama.cpp ${wl.loaded.version}, pthreads ${wl.loaded.multithread ? 'on' : 'off'}, ${wl.loaded.threads} thread(s), cross-origin isolated ${wl.loaded.crossOriginIsolated}), our page ${ours.info.memory}; generated text ${JSON.stringify(ours.results[0]!.text.slice(0, 60))} (ours) / ${JSON.stringify(wl.runs[0]!.text.slice(0, 60))} (wllama)`);
        rep.add({ suite: 'wllama', name: `${preset} TQ2_0 GGUF, our page vs wllama ${version}`, shape: `prompt ${ours.results[0]!.promptTokens} (wllama ${t[0]!.prompt_n}), ${maxTokens} tokens, ${opts.reps} reps`, backend: 'wasm', threads, medianMs: NaN, minMs: NaN, p90Ms: NaN,
          metrics: {
            ours_load_s: ours.loadS, wllama_load_s: wl.loadS,
            ours_prefill_tok_s: ourPrefill, wllama_prefill_tok_s: wlPrefill, prefill_ours_vs_wllama: ourPrefill / wlPrefill,
            ours_decode_tok_s: ourDecode, wllama_decode_tok_s: wlDecode, decode_ours_vs_wllama: ourDecode / wlDecode,
            wllama_threads: wl.loaded.threads, wllama_generated: t[0]!.predicted_n, ours_generated: ours.results[0]!.tokens.length,
            same_text: ours.results[0]!.text === wl.runs[0]!.text ? 1 : 0, offsite_requests: wl.offsite,
          } });
      } finally {
        await browser.close();
      }
    }
  }
}
