/**
 * The demo's generation worker: a model's files → a backend (the WebAssembly SIMD kernels, with kernel
 * threads when cross-origin isolated: the thread pool blocks in Atomics.wait, which a page's main thread
 * may not, so generation lives here) → PackedModel → streamed generation, posted to the page chunk by chunk.
 *
 * The files (one GGUF, one model file, or a Hugging Face folder) are read by the same format readers as in
 * Node (src/load/model_files.ts): a worker has FileReaderSync, so a picked File or a fetched Blob is a
 * synchronous random-access byte source (src/io/blob_source.ts), read one tensor (or array slice) at a time.
 *
 * No bundler: it imports the library modules it needs straight from dist/src. Their one bare import,
 * @huggingface/tokenizers, does not resolve in a worker (import maps apply to documents only); the page
 * resolves it through its import map and passes the URL, and tokenizers our own encoder reproduces
 * (everything `bitnet pack` writes from this project's runs) need no library at all.
 */
import { BitnetError } from '../src/errors.js';
import { generateStream } from '../src/infer/generate.js';
import { blobFileSet, type FileSet } from '../src/io/blob_source.js';
import type { LoadedModel } from '../src/load/loaded_model.js';
import { loadModelFromFiles, memoryLine } from '../src/load/model_files.js';
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
/** Streamed text is posted to the page at most this often (ms). */
const CHUNK_MS = 50;
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

/**
 * The model's files as a FileSet: picked Files as they are (read in slices, never whole), fetched URLs as
 * blobs. Several URLs (a Hugging Face folder served by `bitnet web`) are named by their folder and file.
 */
async function modelFiles(ref: ModelRef): Promise<{ files: FileSet; bytes: number }> {
  if ('files' in ref) {
    const files = blobFileSet(ref.files.map((f) => ({ name: f.webkitRelativePath || f.name, blob: f })));
    return { files, bytes: files.names.reduce((s, n) => s + (files.open(n)?.size ?? 0), 0) };
  }
  const blobs: Array<{ name: string; blob: Blob }> = [];
  for (const url of ref.urls) {
    const res = await fetch(url);
    if (!res.ok) throw new Error(`${url}: HTTP ${res.status} ${res.statusText}`);
    const segs = new URL(url).pathname.split('/').filter((x) => x.length > 0).map((x) => decodeURIComponent(x));
    const name = ref.urls.length > 1 ? segs.slice(-2).join('/') : (segs[segs.length - 1] ?? url);
    post({ type: 'status', text: `fetched ${name}` });
    blobs.push({ name, blob: await res.blob() });
  }
  return { files: blobFileSet(blobs), bytes: blobs.reduce((s, b) => s + b.blob.size, 0) };
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
  post({ type: 'status', text: 'reading the model…' });
  const { files, bytes } = await modelFiles(msg.model);
  const name = files.where;
  post({ type: 'status', text: `loading ${name} (${(bytes / 2 ** 20).toFixed(1)} MiB)…` });
  let lastPost = 0;
  const model = await loadModelFromFiles(files, {
    threads: msg.threads, requireTokenizer: true, notice: (text) => post({ type: 'status', text }),
    onProgress: (done, total) => {
      // At most ~20 messages a second; the first and the last always.
      const now = performance.now();
      if (done !== 0 && done !== total && now - lastPost < 50) return;
      lastPost = now;
      post({ type: 'progress', done, total });
    },
  });
  let session: InferenceSession;
  try {
    session = model.session();
  } catch (e) {
    await model.dispose(); // the KV cache did not fit: free the weights too, so another model can load
    throw e;
  }
  loaded = { model, session };
  const loadMs = performance.now() - t0;
  const be = model.backend, c = model.model.config;
  const info: ModelInfo = {
    name,
    kind: model.kind,
    bytes,
    weightBytes: model.model.weightBytes,
    kvBytes: session.bytes.kv,
    memory: memoryLine(model.model, session, loadMs),
    backend: be.name,
    threads: be.threads,
    simd: be.features?.simd ?? false,
    relaxed: be.features?.relaxed ?? false,
    crossOriginIsolated: scope.crossOriginIsolated === true,
    tokenizer: model.tokenizer!.constructor.name,
    config: { quant: c.quant, dim: c.dim, nLayers: c.nLayers, vocabSize: c.vocabSize, maxSeqLen: c.maxSeqLen },
    loadMs,
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
    // Pieces are coalesced and posted at most every CHUNK_MS: a message (and a DOM update in the page) per
    // token would take the page's main thread away from the kernel threads on a machine with few cores.
    let text = '', lastPost = -Infinity, token = -1;
    const flush = () => {
      if (text === '') return;
      post({ type: 'chunk', text, token, generated: session.pos - firstPos + 1, elapsedMs: performance.now() - t1 });
      text = '';
      lastPost = performance.now();
    };
    for (;;) {
      const step = await it.next();
      if (step.done) {
        flush();
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
      text += step.value.text;
      token = step.value.token;
      if (performance.now() - lastPost >= CHUNK_MS) flush();
    }
  } finally {
    if (running === ctl) running = undefined;
  }
}
