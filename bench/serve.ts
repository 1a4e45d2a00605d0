/**
 * Serving benchmark (`npm run bench -- serve [--duration S] [--clients N] [--soak]`):
 * `bitnet serve` in its own process (so its RSS is its own) on a synthetic model of the 'small'
 * preset shape (byte tokenizer, random ternary weights; speed does not depend on weight values),
 * N concurrent streaming clients on loopback for a bounded duration. Each client loops: one
 * /v1/chat/completions stream (max_tokens tokens), measuring the time to the first content chunk; one
 * request in four disconnects after 1–8 content chunks, and at the end every slot must be free.
 *
 * Reports: throughput (completion tokens/s, all clients), requests/s, p50/p99 time-to-first-token,
 * the server's RSS after warm-up and after the run, and the growth against stated bounds
 * (RSS_BOUND_MIB, RSS_2ND_HALF_BOUND_MIB: slots and arena are allocated at startup, so the steady
 * state must plateau).
 * Default 30 s; --soak runs 10 minutes (the issue's soak) and prints whether RSS stayed bounded.
 *
 * Batching scale (`npm run bench -- serve --preset b1.58-large --streams 1,4,8 [--duration S] [--threads T]`):
 * `bitnet serve` on the synthetic TQ2_0 GGUF of a preset (bench/results, the decode bench's peer file;
 * synthetic vocabulary), slots = the largest stream count. For each count N, N clients loop greedy
 * streaming /v1/completions requests (distinct 16-token id prompts, so no prefix-cache hits;
 * max_tokens 128) for the duration: aggregate completion tokens/s, its ratio to N = 1, p50/p99 time to
 * first token and its ratio to N = 1's p99 (a lone request), the same p99 over every client's requests
 * after its first (the clients start together: a burst), and the server's batch occupancy.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { saveModelFile } from '../src/load/open.js';
import { syntheticSource } from '../src/weights/synthetic.js';
import { makeConfig } from '../src/model/config.js';
import { byteTokenizer } from '../src/tokenizer/bpe.js';
import type { Reporter } from './harness.js';
import { peerGguf } from './peer_llamacpp.js';
import { Rng } from '../src/tensor/rng.js';
import { nativeBin } from './peer_native.js';
import { writeGguf } from '../src/interop/gguf_model.js';

/**
 * Stated bounds: total RSS growth after warm-up (the V8 young generation and JIT code settle in the
 * first tens of seconds: ~30 MiB measured), and growth over the second half of the run (a leak
 * keeps growing there; a plateau does not).
 */
export const RSS_BOUND_MIB = 64;
export const RSS_2ND_HALF_BOUND_MIB = 8;

export interface ServeBenchOptions {
  durationS: number;
  clients: number;
  slots: number;
  threads: number;
  maxTokens: number;
}

interface Client { ttfts: number[]; tokens: number; requests: number; errors: number; disconnects?: number }

const q = (xs: number[], f: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor(f * (s.length - 1) + 0.5))]!;
};

async function startServer(file: string, o: { slots: number; queue: number; threads: number; ctx: number }): Promise<{ child: ChildProcess; url: string }> {
  const main = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
  const child = spawn(process.execPath, [main, 'serve', file, '--port', '0', '--slots', String(o.slots), '--queue', String(o.queue), '--threads', String(o.threads), '--ctx', String(o.ctx), '--grace', '1000', '--model-id', 'bench', '-q'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /listening on (\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.on('exit', (c) => reject(new Error(`bitnet serve exited ${c}`)));
  });
  return { child, url };
}

/** `disconnectAfter`: close the connection after that many content chunks (a client that goes away mid-answer). */
async function oneStream(url: string, prompt: string | number[], maxTokens: number, c: Client, ignoreEos = false, disconnectAfter = Infinity): Promise<void> {
  const t0 = performance.now();
  const ctl = new AbortController();
  let chunks = 0;
  // Text: a chat request (sampled); token ids: a greedy completion (the batching bench).
  const body = typeof prompt === 'string'
    ? { model: 'bench', messages: [{ role: 'user', content: prompt }], max_tokens: maxTokens, temperature: 0.8, stream: true, stream_options: { include_usage: true } }
    : { model: 'bench', prompt, max_tokens: maxTokens, temperature: 0, stream: true, stream_options: { include_usage: true }, ...(ignoreEos ? { ignore_eos: true } : {}) };
  const r = await fetch(`${url}/v1/${typeof prompt === 'string' ? 'chat/completions' : 'completions'}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body), signal: ctl.signal });
  if (r.status !== 200) {
    if (c.errors++ === 0) console.error(`serve bench: HTTP ${r.status}: ${(await r.text()).slice(0, 300)}`);
    else await r.text();
    return;
  }
  const reader = r.body!.getReader();
  const dec = new TextDecoder();
  let buf = '', first = true;
  for (;;) {
    const x = await reader.read();
    if (x.done) break;
    buf += dec.decode(x.value, { stream: true });
    let i: number;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const ev = buf.slice(6, i);
      buf = buf.slice(i + 2);
      if (ev === '[DONE]') continue;
      const j = JSON.parse(ev) as { choices?: Array<{ delta?: { content?: string }; text?: string }>; usage?: { completion_tokens: number }; error?: unknown };
      if (j.error !== undefined || j.choices === undefined) {
        if (c.errors++ === 0) console.error(`serve bench: error event ${ev.slice(0, 300)}`);
        continue;
      }
      const piece = j.choices[0]?.delta?.content ?? j.choices[0]?.text;
      if (first && (piece || j.usage)) {
        first = false;
        c.ttfts.push(performance.now() - t0);
      }
      if (j.usage) c.tokens += j.usage.completion_tokens;
      if (piece && ++chunks >= disconnectAfter) {
        ctl.abort();
        await reader.cancel().catch(() => {});
        c.disconnects = (c.disconnects ?? 0) + 1;
        return;
      }
    }
  }
  c.requests++;
}

async function mem(url: string): Promise<{ rss: number; heap: number }> {
  const m = (await (await fetch(`${url}/metrics`)).json()) as { rss_bytes: number; heap_used_bytes: number };
  return { rss: m.rss_bytes, heap: m.heap_used_bytes };
}

export async function benchServe(rep: Reporter, o: ServeBenchOptions): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bitnet-bench-serve-'));
  const file = join(dir, 'bench.safetensors');
  const tok = byteTokenizer(['<|begin_of_text|>', '<|end_of_text|>', '<|eot_id|>']);
  const config = makeConfig('small', { vocabSize: tok.vocabSize, maxSeqLen: 512 });
  saveModelFile(file, syntheticSource(config, 1), tok);
  const { child, url } = await startServer(file, { slots: o.slots, queue: o.clients * 2, threads: o.threads, ctx: 512 });
  try {
    const prompts = ['Hello there, how are you?', 'Tell me about the State of the Union.', 'Write a short line.', 'What is one bit?'];
    // Warm-up: JIT, arena, sockets; then the baseline RSS.
    const warm: Client = { ttfts: [], tokens: 0, requests: 0, errors: 0 };
    await Promise.all(Array.from({ length: o.slots }, (_, i) => oneStream(url, prompts[i % prompts.length]!, 16, warm)));
    const m0 = await mem(url);
    const clients: Client[] = Array.from({ length: o.clients }, () => ({ ttfts: [], tokens: 0, requests: 0, errors: 0 }));
    const t0 = performance.now(), end = t0 + o.durationS * 1000;
    // Memory timeline (every 5 s) to tell a plateau from a leak: growth over the second half of the run.
    const samples: Array<{ t: number; rss: number; heap: number }> = [{ t: 0, ...m0 }];
    const sampler = setInterval(() => {
      void mem(url).then((m) => {
        const t = (performance.now() - t0) / 1000;
        samples.push({ t, ...m });
        if (Math.round(t) % 60 === 0) console.error(`serve bench: ${t.toFixed(0)} s, server RSS ${(m.rss / 2 ** 20).toFixed(1)} MiB, heap ${(m.heap / 2 ** 20).toFixed(1)} MiB`);
      }, () => {});
    }, 5000);
    // One request in four disconnects after 1–8 content chunks (seeded per client).
    await Promise.all(clients.map(async (c, k) => {
      const rng = new Rng(100 + k);
      for (let n = 0; performance.now() < end; n++) {
        const cut = rng.uniform() < 0.25 ? 1 + rng.int(8) : Infinity;
        await oneStream(url, prompts[(k + n) % prompts.length]!, o.maxTokens, c, false, cut).catch((e: unknown) => {
          if ((e as Error).name !== 'AbortError' && c.errors++ === 0) console.error(`serve bench: ${String(e)}`);
        });
      }
    }));
    // Every slot must be free once the clients are gone (a disconnect leaves the batch at the next step).
    let health = { slots_busy: -1, queue_depth: -1 };
    for (let i = 0; i < 50; i++) {
      health = (await (await fetch(`${url}/health`)).json()) as typeof health;
      if (health.slots_busy === 0 && health.queue_depth === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const cancelled = ((await (await fetch(`${url}/metrics`)).json()) as { cancelled_total: number }).cancelled_total;
    clearInterval(sampler);
    const wall = (performance.now() - t0) / 1000;
    const m1 = await mem(url);
    samples.push({ t: wall, ...m1 });
    const mid = samples.find((x) => x.t >= wall / 2) ?? samples[0]!;
    const rss0 = m0.rss, rss1 = m1.rss;
    const ttfts = clients.flatMap((c) => c.ttfts);
    const tokens = clients.reduce((a, c) => a + c.tokens, 0);
    const requests = clients.reduce((a, c) => a + c.requests, 0);
    const errors = clients.reduce((a, c) => a + c.errors, 0);
    const growth = (rss1 - rss0) / 2 ** 20;
    rep.add({
      suite: 'serve', name: `small synthetic, ${o.slots} slots, ${o.clients} clients`, shape: `${o.durationS} s, max_tokens ${o.maxTokens}`, backend: 'wasm', threads: o.threads,
      medianMs: q(ttfts, 0.5), minMs: q(ttfts, 0), p90Ms: q(ttfts, 0.9),
      metrics: {
        tok_s: tokens / wall, req_s: requests / wall, requests, errors,
        disconnects: clients.reduce((a, c) => a + (c.disconnects ?? 0), 0), cancelled_total: cancelled, slots_busy_at_end: health.slots_busy, queue_at_end: health.queue_depth,
        ttft_p50_ms: q(ttfts, 0.5), ttft_p99_ms: q(ttfts, 0.99),
        rss_before_MiB: rss0 / 2 ** 20, rss_after_MiB: rss1 / 2 ** 20, rss_max_MiB: Math.max(...samples.map((x) => x.rss)) / 2 ** 20, rss_growth_MiB: growth,
        rss_growth_2nd_half_MiB: (rss1 - mid.rss) / 2 ** 20, heap_before_MiB: m0.heap / 2 ** 20, heap_after_MiB: m1.heap / 2 ** 20, rss_bound_MiB: RSS_BOUND_MIB, rss_ok: growth <= RSS_BOUND_MIB && (rss1 - mid.rss) / 2 ** 20 <= RSS_2ND_HALF_BOUND_MIB ? 1 : 0,
      },
    });
    if (growth > RSS_BOUND_MIB || (rss1 - mid.rss) / 2 ** 20 > RSS_2ND_HALF_BOUND_MIB) console.error(`serve bench: RSS grew ${growth.toFixed(1)} MiB (bound ${RSS_BOUND_MIB}), ${((rss1 - mid.rss) / 2 ** 20).toFixed(1)} MiB in the second half (bound ${RSS_2ND_HALF_BOUND_MIB})`);
  } finally {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface ServeScaleOptions {
  preset: string;
  /** Concurrent greedy streams per measurement (the server gets max(streams) slots). */
  streams: number[];
  threads: number;
  durationS: number;
  maxTokens: number;
  promptTokens: number;
}

/** Aggregate decode throughput and time to first token at each stream count (see the file comment). */
export async function benchServeScale(rep: Reporter, o: ServeScaleOptions): Promise<void> {
  const config = makeConfig(o.preset);
  const V = config.vocabSize;
  // TQ2_0 needs rows in 256-blocks; smaller shapes (tiny, small: quick checks) go through an F16 GGUF.
  let file: string;
  if (config.dim % 256 === 0 && config.ffnDim % 256 === 0) file = peerGguf(o.preset);
  else {
    file = join(tmpdir(), `bitnet-bench-serve-${o.preset}-f16.gguf`);
    if (!existsSync(file)) writeGguf(file, syntheticSource(config, 1), { type: 'f16' });
  }
  const slots = Math.max(...o.streams);
  const { child, url } = await startServer(file, { slots, queue: slots, threads: o.threads, ctx: o.promptTokens + o.maxTokens + 8 });
  let seq = 0;
  // Distinct prompts (first id differs), so a slot's cache never serves another request's prefix.
  const prompt = () => {
    const k = seq++;
    return Array.from({ length: o.promptTokens }, (_, i) => (k * 7919 + i * 104729 + 13) % (V - 2) + 1);
  };
  const batchStats = async () => (await (await fetch(`${url}/metrics`)).json()) as { batch_steps_total: number; batch_occupancy: number };
  try {
    await scaleLoop(rep, o, url, prompt, slots, 'ours', batchStats);
  } finally {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  }
  await nativeServerScale(rep, o, file, prompt, slots, o.promptTokens + o.maxTokens + 8);
}

/** 1, 4, 8 … concurrent greedy streams against a server at `url` for o.durationS each: aggregate tok/s and TTFT. */
async function scaleLoop(rep: Reporter, o: ServeScaleOptions, url: string, prompt: () => number[], slots: number, who: 'ours' | 'llama-server',
                         batchStats?: () => Promise<{ batch_steps_total: number; batch_occupancy: number }>): Promise<void> {
  const warm: Client = { ttfts: [], tokens: 0, requests: 0, errors: 0 };
  await Promise.all(Array.from({ length: slots }, () => oneStream(url, prompt(), 8, warm, who === 'llama-server')));
  let base: { tokS: number; ttftP99: number; steadyP99: number } | undefined;
  for (const n of o.streams) {
    const before = await batchStats?.();
    const clients: Client[] = Array.from({ length: n }, () => ({ ttfts: [], tokens: 0, requests: 0, errors: 0 }));
    const t0 = performance.now(), end = t0 + o.durationS * 1000;
    await Promise.all(clients.map(async (c) => {
      while (performance.now() < end) await oneStream(url, prompt(), o.maxTokens, c, who === 'llama-server');
    }));
    const wall = (performance.now() - t0) / 1000;
    const after = await batchStats?.();
    const steps = before && after ? after.batch_steps_total - before.batch_steps_total : 0;
    const occupancy = before && after && steps > 0 ? (after.batch_occupancy * after.batch_steps_total - before.batch_occupancy * before.batch_steps_total) / steps : NaN;
    const ttfts = clients.flatMap((c) => c.ttfts);
    // After each client's first request: the clients all start at once (a burst of N prompts, whose last
    // first token needs N prompts' prefill work); later requests arrive as earlier answers end.
    const steady = clients.flatMap((c) => c.ttfts.slice(1));
    const tokS = clients.reduce((a, c) => a + c.tokens, 0) / wall;
    const p99 = q(ttfts, 0.99), sp99 = q(steady, 0.99);
    base ??= { tokS, ttftP99: p99, steadyP99: sp99 };
    rep.add({
      suite: 'serve', name: `${o.preset} synthetic, ${who === 'ours' ? 'bitnet serve' : 'llama-server (native)'}, ${n} greedy stream${n > 1 ? 's' : ''} (${slots} slots)`, shape: `${o.durationS} s, prompt ${o.promptTokens}, max_tokens ${o.maxTokens}`, backend: who === 'ours' ? 'wasm' : 'native', threads: o.threads,
      medianMs: q(ttfts, 0.5), minMs: q(ttfts, 0), p90Ms: q(ttfts, 0.9),
      metrics: {
        tok_s: tokS, tok_s_vs_1: tokS / base.tokS, requests: clients.reduce((a, c) => a + c.requests, 0), errors: clients.reduce((a, c) => a + c.errors, 0),
        ttft_p50_ms: q(ttfts, 0.5), ttft_p99_ms: p99, ttft_p99_vs_1: p99 / base.ttftP99,
        ttft_p99_after_first_ms: sp99, ttft_p99_after_first_vs_1: sp99 / base.steadyP99, ...(Number.isNaN(occupancy) ? {} : { batch_occupancy: occupancy }),
      },
    });
  }
}

/** The same scale test against native llama.cpp's llama-server (continuous batching, `slots` parallel sequences) on the same GGUF. */
async function nativeServerScale(rep: Reporter, o: ServeScaleOptions, file: string, prompt: () => number[], slots: number, ctx: number): Promise<void> {
  const bin = nativeBin();
  if (bin === undefined || !existsSync(join(bin, 'llama-server'))) {
    console.error('bench serve: native llama-server not found (LLAMA_NATIVE_BIN); no peer rows');
    return;
  }
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn(join(bin, 'llama-server'), ['-m', file, '--host', '127.0.0.1', '--port', String(port), '-np', String(slots), '-c', String(slots * ctx), '-t', String(o.threads), '--no-warmup'], { stdio: ['ignore', 'ignore', 'ignore'] });
  const url = `http://127.0.0.1:${port}`;
  try {
    for (let i = 0; ; i++) {
      if (child.exitCode !== null) throw new Error(`llama-server exited ${child.exitCode}`);
      try {
        if ((await fetch(`${url}/health`)).status === 200) break;
      } catch { /* not up yet */ }
      if (i > 600) throw new Error('llama-server did not come up in 60 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    await scaleLoop(rep, o, url, prompt, slots, 'llama-server');
  } finally {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  }
}
