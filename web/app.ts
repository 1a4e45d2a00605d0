/**
 * The demo page: chooses a model (the bundled one, `?model=URL` on this origin — repeated for the files of a
 * Hugging Face folder — or picked: one GGUF or model file, several files, or a folder),
 * hands it to the generation worker (web/worker.ts) and streams the worker's text into the page with
 * tokens/s. The page runs no kernels itself. Its state, for tests and the curious:
 * `document.body.dataset.state` (starting | loading | ready | generating | error) and
 * `window.bitnetDemo` = { info, result, error, progress, train }. Loading shows a progress bar (tensors, or
 * arrays of a model file, done of total), then the memory line (weights, KV cache, load time); an error stays
 * visible until the next load, and any model can be chosen after one.
 *
 * The Train section trains a small model on pasted text in a second worker (web/train_worker.ts, quickTrain),
 * charts its loss, and hands the model file to the generation worker ("Generate from it") or to a download
 * link. Its state: `document.body.dataset.train` (idle | training | done | error) and `bitnetDemo.train`.
 */
import { SAMPLE_TEXT } from '../src/load/sample_text.js';
import type { FromTrainWorker, FromWorker, GenerationResult, ModelInfo, ModelRef, ToTrainWorker, ToWorker } from './protocol.js';

const el = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;
const fileInput = el<HTMLInputElement>('file');
const folderInput = el<HTMLInputElement>('folder');
const progressBar = el<HTMLProgressElement>('load-progress');
const progressText = el('load-progress-text');
const memoryInfo = el('memory');
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
type TrainDone = Omit<Extract<FromTrainWorker, { type: 'done' }>, 'type' | 'bytes'> & { bytes: number; name: string };
interface TrainView { losses: number[]; done: TrainDone | undefined; error: string | undefined }
const demo: { info: ModelInfo | undefined; result: GenerationResult | undefined; error: string | undefined; progress: { done: number; total: number } | undefined; train: TrainView } = {
  info: undefined, result: undefined, error: undefined, progress: undefined, train: { losses: [], done: undefined, error: undefined },
};
(window as unknown as { bitnetDemo: typeof demo }).bitnetDemo = demo;

const params = new URLSearchParams(location.search);
const bundledUrl = new URL('../models/sotu-tiny-b158.safetensors', location.href);
const givenUrls = params.getAll('model').map((u) => new URL(u, location.href));
const startUrls = givenUrls.length > 0 ? givenUrls : [bundledUrl];
threadsInput.value = params.get('threads') ?? String(crossOriginIsolated ? navigator.hardwareConcurrency || 1 : 1);
/** Where the worker finds @huggingface/tokenizers: this page's import map, resolved here (workers have none). */
let tokenizersUrl: string | undefined;
try {
  tokenizersUrl = import.meta.resolve('@huggingface/tokenizers');
} catch {
  tokenizersUrl = undefined;
}

let model: ModelRef = { urls: startUrls.map((u) => u.href) };
const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
const send = (msg: ToWorker) => worker.postMessage(msg);

function setState(s: State): void {
  document.body.dataset.state = s;
  const busy = s === 'loading' || s === 'generating' || s === 'starting';
  generateBtn.disabled = s !== 'ready';
  stopBtn.disabled = s !== 'generating';
  bundledBtn.disabled = fileInput.disabled = folderInput.disabled = threadsInput.disabled = busy;
  progressBar.hidden = s !== 'loading';
  if (s !== 'loading') progressText.textContent = '';
}

function showError(text: string | undefined): void {
  demo.error = text;
  errorBox.hidden = text === undefined;
  errorBox.textContent = text ?? '';
}

function load(ref: ModelRef): void {
  model = ref;
  demo.info = undefined;
  demo.progress = undefined;
  showError(undefined);
  modelInfo.textContent = memoryInfo.textContent = '';
  progressBar.removeAttribute('value'); // indeterminate until the first count
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
  const kind = i.kind === 'gguf' ? 'GGUF' : i.kind === 'hf' ? 'Hugging Face' : 'model file';
  return `${i.name} (${kind}, ${mib(i.bytes)}) · ${c.quant}, ${c.nLayers} layers × ${c.dim}, vocab ${c.vocabSize}, ctx ${c.maxSeqLen} · ` +
    `${kernels}, ${i.threads} thread${i.threads > 1 ? 's' : ''}${i.crossOriginIsolated ? ' (cross-origin isolated)' : ' (not cross-origin isolated: 1 thread)'} · loaded in ${i.loadMs.toFixed(0)} ms`;
}

worker.onmessage = (e: MessageEvent<FromWorker>) => {
  const m = e.data;
  switch (m.type) {
    case 'status':
      statusLine.textContent = m.text;
      break;
    case 'progress':
      demo.progress = { done: m.done, total: m.total };
      progressBar.max = Math.max(1, m.total);
      progressBar.value = m.done;
      progressText.textContent = `${m.done} of ${m.total} loaded`;
      break;
    case 'loaded':
      demo.info = m.info;
      statusLine.textContent = '';
      modelInfo.textContent = describe(m.info);
      memoryInfo.textContent = m.info.memory;
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

bundledBtn.addEventListener('click', () => load({ urls: [bundledUrl.href] }));
/** Picked files (or a folder's) go to the worker as they are; the input is cleared so the same choice can be made again after an error. */
for (const input of [fileInput, folderInput]) {
  input.addEventListener('change', () => {
    const files = [...(input.files ?? [])];
    input.value = '';
    if (files.length > 0) load({ files });
  });
}
threadsInput.addEventListener('change', () => load(model));
generateBtn.addEventListener('click', generate);
stopBtn.addEventListener('click', () => send({ type: 'stop' }));
promptInput.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && (e.ctrlKey || e.metaKey) && !generateBtn.disabled) generate();
});

// ---- Train ----
const trainText = el<HTMLTextAreaElement>('train-text');
const trainSteps = el<HTMLInputElement>('train-steps');
const trainQuant = el<HTMLSelectElement>('train-quant');
const trainSeed = el<HTMLInputElement>('train-seed');
const trainThreads = el<HTMLInputElement>('train-threads');
const trainBtn = el<HTMLButtonElement>('train');
const trainStopBtn = el<HTMLButtonElement>('train-stop');
const trainUseBtn = el<HTMLButtonElement>('train-use');
const trainDownload = el<HTMLAnchorElement>('train-download');
const trainStats = el('train-stats');
const trainError = el('train-error');
const chart = el('loss-chart') as unknown as SVGSVGElement;
trainText.value = SAMPLE_TEXT;
trainThreads.value = threadsInput.value;

let trainWorker: Worker | undefined;
let stopFlag: Int32Array | undefined;
let trained: { bytes: Uint8Array<ArrayBuffer>; name: string; url: string } | undefined;
let trainSteps0 = 0;
const valPoints: Array<[number, number]> = [];

type TrainState = 'idle' | 'training' | 'done' | 'error';
function setTrainState(s: TrainState): void {
  document.body.dataset.train = s;
  trainBtn.disabled = trainText.disabled = trainSteps.disabled = trainQuant.disabled = trainSeed.disabled = trainThreads.disabled = s === 'training';
  trainStopBtn.disabled = s !== 'training';
  trainUseBtn.disabled = trainDownload.hidden = trained === undefined || s === 'training';
}

function showTrainError(text: string | undefined): void {
  demo.train.error = text;
  trainError.hidden = text === undefined;
  trainError.textContent = text ?? '';
}

const SVG = 'http://www.w3.org/2000/svg';
/** The loss so far as a polyline (y from 0 to the largest loss), validation losses as dots. */
function drawChart(): void {
  const W = 760, H = 140, pad = 14;
  const losses = demo.train.losses;
  const top = Math.max(1e-9, ...losses, ...valPoints.map((p) => p[1]));
  const x = (step: number) => pad + ((W - 2 * pad) * step) / Math.max(1, trainSteps0);
  const y = (loss: number) => H - pad - ((H - 2 * pad) * loss) / top;
  const line = document.createElementNS(SVG, 'polyline');
  line.setAttribute('points', losses.map((l, i) => `${x(i + 1).toFixed(1)},${y(l).toFixed(1)}`).join(' '));
  const label = (text: string, lx: number, ly: number) => {
    const t = document.createElementNS(SVG, 'text');
    t.textContent = text;
    t.setAttribute('x', String(lx));
    t.setAttribute('y', String(ly));
    return t;
  };
  const dots = valPoints.map(([s, l]) => {
    const c = document.createElementNS(SVG, 'circle');
    c.setAttribute('cx', x(s).toFixed(1));
    c.setAttribute('cy', y(l).toFixed(1));
    c.setAttribute('r', '2.5');
    return c;
  });
  chart.replaceChildren(line, ...dots, label(`loss ${top.toFixed(2)}`, 2, 10), label('0', 2, H - 4), label(`step ${trainSteps0}`, W - 48, H - 4));
}

function onTrainMessage(e: MessageEvent<FromTrainWorker>): void {
  const m = e.data;
  switch (m.type) {
    case 'started':
      trainStats.textContent = `training on ${m.backend === 'wasm' ? `WebAssembly SIMD${m.relaxed ? ' (relaxed)' : ''}` : 'the reference kernels'}, ${m.threads} thread${m.threads > 1 ? 's' : ''}…`;
      break;
    case 'step': {
      demo.train.losses.push(m.loss);
      if (m.valLoss !== undefined) valPoints.push([m.step, m.valLoss]);
      drawChart();
      const eta = (m.elapsedSec / m.step) * (m.steps - m.step);
      trainStats.textContent = `step ${m.step}/${m.steps} · loss ${m.loss.toFixed(3)}${m.valLoss !== undefined ? ` · val ${m.valLoss.toFixed(3)}` : ''} · ` +
        `${m.tokensPerSec.toFixed(0)} tokens/s · ${m.elapsedSec.toFixed(1)} s, ETA ${eta.toFixed(1)} s`;
      break;
    }
    case 'done': {
      const name = `trained-${m.quant}-seed${trainSeed.value}-${m.steps}steps.safetensors`;
      if (trained !== undefined) URL.revokeObjectURL(trained.url);
      trained = { bytes: m.bytes, name, url: URL.createObjectURL(new Blob([m.bytes], { type: 'application/octet-stream' })) };
      trainDownload.href = trained.url;
      trainDownload.download = name;
      const { type: _t, bytes: _b, ...rest } = m;
      demo.train.done = { ...rest, bytes: m.bytes.length, name };
      trainStats.textContent = `${m.stopped ? 'stopped' : 'done'} after ${m.steps} steps in ${m.elapsedSec.toFixed(1)} s · val loss ${m.valLoss.toFixed(3)} ` +
        `(${m.valBpb.toFixed(3)} bits/byte) · ${m.trainTokens} training / ${m.valTokens} validation tokens · model file ${(m.bytes.length / 1024).toFixed(0)} KiB`;
      setTrainState('done');
      break;
    }
    case 'error':
      trainStats.textContent = '';
      showTrainError(`${m.name}: ${m.message}`);
      setTrainState('error');
      break;
  }
}

function newTrainWorker(): Worker {
  const w = new Worker(new URL('./train_worker.js', import.meta.url), { type: 'module' });
  w.onmessage = onTrainMessage;
  w.onerror = (e: ErrorEvent) => {
    e.preventDefault();
    showTrainError(`the training worker failed: ${e.message || 'its script did not load (see the console)'}`);
    setTrainState('error');
  };
  return w;
}

function startTraining(): void {
  showTrainError(undefined);
  demo.train = { losses: [], done: undefined, error: undefined };
  valPoints.length = 0;
  trainSteps0 = Math.max(1, Math.floor(Number(trainSteps.value) || 1));
  drawChart();
  trainStats.textContent = 'starting…';
  trainWorker ??= newTrainWorker();
  const stop = crossOriginIsolated ? new SharedArrayBuffer(4) : undefined;
  stopFlag = stop !== undefined ? new Int32Array(stop) : undefined;
  setTrainState('training');
  const msg: ToTrainWorker = {
    type: 'train', text: trainText.value, steps: trainSteps0, quant: trainQuant.value === 'fp' ? 'fp' : 'b158',
    seed: Math.max(0, Math.floor(Number(trainSeed.value) || 0)), threads: Math.max(1, Math.floor(Number(trainThreads.value) || 1)),
    ...(stop !== undefined ? { stop } : {}),
  };
  trainWorker.postMessage(msg);
}

function stopTraining(): void {
  if (stopFlag !== undefined) {
    Atomics.store(stopFlag, 0, 1); // read by the loop after the current step; the model of that step comes back
    trainStats.textContent += ' · stopping…';
    return;
  }
  // Not cross-origin isolated: no shared flag, and the busy worker reads no message — end it (no model).
  trainWorker?.terminate();
  trainWorker = undefined;
  trainStats.textContent = 'stopped (this page is not cross-origin isolated, so the run was ended without a model)';
  setTrainState('idle');
}

trainBtn.addEventListener('click', startTraining);
trainStopBtn.addEventListener('click', stopTraining);
trainUseBtn.addEventListener('click', () => {
  if (trained !== undefined) load({ files: [new File([trained.bytes], trained.name)] });
});
setTrainState('idle');

const foreign = startUrls.find((u) => u.origin !== location.origin);
if (foreign !== undefined) {
  showError(`?model= must be on this origin (${location.origin}), got ${foreign.href}`);
  setState('error');
} else load(model);
