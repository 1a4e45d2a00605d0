/**
 * The demo page: chooses a model (the bundled one, `?model=URL` on this origin, or a picked file),
 * hands it to the generation worker (web/worker.ts) and streams the worker's text into the page with
 * tokens/s. The page runs no kernels itself. Its state, for tests and the curious:
 * `document.body.dataset.state` (starting | loading | ready | generating | error) and
 * `window.bitnetDemo` = { info, result, error }.
 */
import type { FromWorker, GenerationResult, ModelInfo, ModelRef, ToWorker } from './protocol.js';

const el = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;
const fileInput = el<HTMLInputElement>('file');
const bundledBtn = el<HTMLButtonElement>('use-bundled');
const threadsInput = el<HTMLInputElement>('threads');
const promptInput = el<HTMLTextAreaElement>('prompt');
const maxTokensInput = el<HTMLInputElement>('max-tokens');
const temperatureInput = el<HTMLInputElement>('temperature');
const seedInput = el<HTMLInputElement>('seed');
const generateBtn = el<HTMLButtonElement>('generate');
const stopBtn = el<HTMLButtonElement>('stop');
const errorBox = el('error');
const statusLine = el('status');
const modelInfo = el('model-info');
const output = el('output');
const stats = el('stats');

type State = 'starting' | 'loading' | 'ready' | 'generating' | 'error';
const demo: { info: ModelInfo | undefined; result: GenerationResult | undefined; error: string | undefined } = { info: undefined, result: undefined, error: undefined };
(window as unknown as { bitnetDemo: typeof demo }).bitnetDemo = demo;

const params = new URLSearchParams(location.search);
const bundledUrl = new URL(params.get('model') ?? '../models/sotu-tiny-b158.safetensors', location.href);
threadsInput.value = params.get('threads') ?? String(crossOriginIsolated ? navigator.hardwareConcurrency || 1 : 1);
/** Where the worker finds @huggingface/tokenizers: this page's import map, resolved here (workers have none). */
let tokenizersUrl: string | undefined;
try {
  tokenizersUrl = import.meta.resolve('@huggingface/tokenizers');
} catch {
  tokenizersUrl = undefined;
}

let model: ModelRef = { url: bundledUrl.href };
const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
const send = (msg: ToWorker) => worker.postMessage(msg);

function setState(s: State): void {
  document.body.dataset.state = s;
  const busy = s === 'loading' || s === 'generating' || s === 'starting';
  generateBtn.disabled = s !== 'ready';
  stopBtn.disabled = s !== 'generating';
  bundledBtn.disabled = fileInput.disabled = threadsInput.disabled = busy;
}

function showError(text: string | undefined): void {
  demo.error = text;
  errorBox.hidden = text === undefined;
  errorBox.textContent = text ?? '';
}

function load(ref: ModelRef): void {
  model = ref;
  demo.info = undefined;
  showError(undefined);
  modelInfo.textContent = '';
  const threads = Math.max(1, Math.floor(Number(threadsInput.value) || 1));
  setState('loading');
  send({ type: 'load', model: ref, threads, ...(tokenizersUrl !== undefined ? { tokenizersUrl } : {}) });
}

function generate(): void {
  showError(undefined);
  demo.result = undefined;
  output.replaceChildren(Object.assign(document.createElement('span'), { className: 'prompt', textContent: promptInput.value }));
  stats.textContent = '';
  setState('generating');
  send({
    type: 'generate', prompt: promptInput.value,
    maxTokens: Math.max(1, Math.floor(Number(maxTokensInput.value) || 1)),
    temperature: Math.max(0, Number(temperatureInput.value) || 0),
    seed: Math.max(0, Math.floor(Number(seedInput.value) || 0)),
  });
}

const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;

function describe(i: ModelInfo): string {
  const c = i.config;
  const kernels = i.backend === 'wasm' ? `WebAssembly SIMD${i.relaxed ? ' (relaxed)' : ''}` : 'reference kernels (no WebAssembly SIMD here)';
  return `${i.name} (${mib(i.bytes)}) · ${c.quant}, ${c.nLayers} layers × ${c.dim}, vocab ${c.vocabSize}, ctx ${c.maxSeqLen} · ` +
    `${kernels}, ${i.threads} thread${i.threads > 1 ? 's' : ''}${i.crossOriginIsolated ? ' (cross-origin isolated)' : ' (not cross-origin isolated: 1 thread)'} · loaded in ${i.loadMs.toFixed(0)} ms`;
}

worker.onmessage = (e: MessageEvent<FromWorker>) => {
  const m = e.data;
  switch (m.type) {
    case 'status':
      statusLine.textContent = m.text;
      break;
    case 'loaded':
      demo.info = m.info;
      statusLine.textContent = '';
      modelInfo.textContent = describe(m.info);
      setState('ready');
      break;
    case 'chunk': {
      output.append(m.text);
      const rate = m.generated > 1 && m.elapsedMs > 0 ? `, ${(((m.generated - 1) * 1000) / m.elapsedMs).toFixed(1)} tok/s` : '';
      stats.textContent = `${m.generated} token${m.generated > 1 ? 's' : ''}${rate}`;
      break;
    }
    case 'done': {
      const r = m.result;
      demo.result = r;
      const dec = Number.isFinite(r.decodeTokPerS) ? `${r.decodeTokPerS.toFixed(1)} tok/s decode` : 'no decode step';
      stats.textContent = `prompt ${r.promptTokens} tokens, ${r.prefillTokPerS.toFixed(1)} tok/s prefill · generated ${r.tokens.length} tokens, ${dec} · finish: ${r.finishReason}`;
      setState('ready');
      break;
    }
    case 'error':
      statusLine.textContent = '';
      showError(`${m.name}: ${m.message}`);
      setState(m.during === 'load' ? 'error' : 'ready');
      break;
  }
};
worker.onerror = (e: ErrorEvent) => {
  e.preventDefault();
  showError(`the generation worker failed: ${e.message || 'its script did not load (see the console)'}`);
  setState('error');
};

bundledBtn.addEventListener('click', () => load({ url: bundledUrl.href }));
fileInput.addEventListener('change', () => {
  const f = fileInput.files?.[0];
  if (f !== undefined) load({ file: f });
});
threadsInput.addEventListener('change', () => load(model));
generateBtn.addEventListener('click', generate);
stopBtn.addEventListener('click', () => send({ type: 'stop' }));
promptInput.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && (e.ctrlKey || e.metaKey) && !generateBtn.disabled) generate();
});

if (bundledUrl.origin !== location.origin) {
  showError(`?model= must be on this origin (${location.origin}), got ${bundledUrl.href}`);
  setState('error');
} else load(model);
