/**
 * The demo's generation worker: model file bytes → a backend (the WebAssembly SIMD kernels, with kernel
 * threads when cross-origin isolated: the thread pool blocks in Atomics.wait, which a page's main thread
 * may not, so generation lives here) → PackedModel → streamed generation, posted to the page chunk by chunk.
 *
 * No bundler: it imports the library modules it needs straight from dist/src. Their one bare import,
 * @huggingface/tokenizers, does not resolve in a worker (import maps apply to documents only); the page
 * resolves it through its import map and passes the URL, and tokenizers our own encoder reproduces
 * (everything `bitnet pack` writes from this project's runs) need no library at all.
 */
import { BitnetError } from '../src/errors.js';
import { generateStream } from '../src/infer/generate.js';
import { loadModelFromBlob, type LoadedModel } from '../src/load/loaded_model.js';
import type { InferenceSession } from '../src/infer/session.js';
import { setHfTokenizersLibrary } from '../src/tokenizer/hf.js';
import type { FromWorker, GenerationResult, ModelInfo, ModelRef, ToWorker } from './protocol.js';

interface WorkerScope {
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
  postMessage(msg: FromWorker): void;
  crossOriginIsolated?: boolean;
}
const scope = globalThis as unknown as WorkerScope;
const post = (msg: FromWorker) => scope.postMessage(msg);

let loaded: { model: LoadedModel; session: InferenceSession } | undefined;
let running: AbortController | undefined;
let tokenizersTried = false;
/** Loads and generations run one after another; 'stop' acts at once. */
let queue: Promise<void> = Promise.resolve();

scope.onmessage = (e) => {
  const msg = e.data;
  if (msg.type === 'stop') return void running?.abort();
  if (msg.type === 'load') running?.abort();
  queue = queue
    .then(() => (msg.type === 'load' ? load(msg) : generate(msg)))
    .catch((err: unknown) => {
      const name = err instanceof BitnetError || err instanceof Error ? err.name : 'Error';
      post({ type: 'error', during: msg.type === 'load' ? 'load' : 'generate', name, message: err instanceof Error ? err.message : String(err) });
    });
};

/** The model as a Blob: a picked File as it is (read in slices, never whole), a URL's response as a blob. */
async function readModel(ref: ModelRef): Promise<{ name: string; blob: Blob }> {
  if ('file' in ref) return { name: ref.file.name, blob: ref.file };
  const res = await fetch(ref.url);
  if (!res.ok) throw new Error(`${ref.url}: HTTP ${res.status} ${res.statusText}`);
  const name = decodeURIComponent(new URL(ref.url).pathname.split('/').pop() ?? ref.url);
  return { name, blob: await res.blob() };
}

async function load(msg: Extract<ToWorker, { type: 'load' }>): Promise<void> {
  if (!tokenizersTried && msg.tokenizersUrl !== undefined) {
    tokenizersTried = true;
    try {
      setHfTokenizersLibrary((await import(msg.tokenizersUrl)) as Parameters<typeof setHfTokenizersLibrary>[0]);
    } catch {
      // Only tokenizer.json files our encoder does not reproduce need it; they will say so.
    }
  }
  const t0 = performance.now();
  if (loaded !== undefined) {
    const old = loaded;
    loaded = undefined;
    await old.model.dispose();
  }
  post({ type: 'status', text: 'reading the model file…' });
  const { name, blob } = await readModel(msg.model);
  post({ type: 'status', text: `loading ${name} (${(blob.size / 2 ** 20).toFixed(1)} MiB)…` });
  const model = await loadModelFromBlob(blob, {
    where: name, threads: msg.threads, requireTokenizer: true, notice: (text) => post({ type: 'status', text }),
    onProgress: (done, total) => post({ type: 'status', text: `loading ${name}: ${done}/${total} arrays` }),
  });
  loaded = { model, session: model.session() };
  const be = model.backend, c = model.model.config;
  const info: ModelInfo = {
    name,
    bytes: blob.size,
    backend: be.name,
    threads: be.threads,
    simd: be.features?.simd ?? false,
    relaxed: be.features?.relaxed ?? false,
    crossOriginIsolated: scope.crossOriginIsolated === true,
    tokenizer: model.tokenizer!.constructor.name,
    config: { quant: c.quant, dim: c.dim, nLayers: c.nLayers, vocabSize: c.vocabSize, maxSeqLen: c.maxSeqLen },
    loadMs: performance.now() - t0,
  };
  post({ type: 'loaded', info });
}

async function generate(msg: Extract<ToWorker, { type: 'generate' }>): Promise<void> {
  if (loaded === undefined) throw new Error('no model loaded');
  const { model, session } = loaded;
  const ctl = new AbortController();
  running = ctl;
  try {
    const it = generateStream(session, model.tokenizer!, msg.prompt, {
      maxTokens: msg.maxTokens, temperature: msg.temperature, signal: ctl.signal, ...(msg.seed !== undefined ? { seed: msg.seed } : {}),
    });
    let firstPos = -1;
    let t1 = 0;
    for (;;) {
      const step = await it.next();
      if (step.done) {
        const r = step.value;
        const result: GenerationResult = {
          text: r.text, tokens: r.tokens, promptTokens: r.promptTokens, finishReason: r.finishReason, prefillMs: r.prefillMs, decodeMs: r.decodeMs,
          prefillTokPerS: (r.promptTokens * 1000) / r.prefillMs,
          decodeTokPerS: r.tokens.length > 1 ? ((r.tokens.length - 1) * 1000) / r.decodeMs : NaN,
        };
        post({ type: 'done', result });
        return;
      }
      // The session's position says how many tokens exist: one more after each decode.
      if (firstPos < 0) {
        firstPos = session.pos;
        t1 = performance.now();
      }
      post({ type: 'chunk', text: step.value.text, token: step.value.token, generated: session.pos - firstPos + 1, elapsedMs: performance.now() - t1 });
    }
  } finally {
    if (running === ctl) running = undefined;
  }
}
