/**
 * `bitnet generate [MODEL] --prompt …` and `bitnet chat [MODEL]`: the packed inference engine from
 * the command line. MODEL is anything openModel reads (model file, run directory, checkpoint, GGUF,
 * Hugging Face directory, synthetic:PRESET);
 * without one, the small model bundled with the package (models/, trained by this project's
 * trainer on the SOTU corpus) is used. Text streams to stdout; speed and memory go to stderr.
 */
import { existsSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ArgumentError } from '../../errors.js';
import type { Backend } from '../../kernels/backend.js';
import { defaultChatTemplate, generateStream, renderChat, type ChatMessage, type GenerateOptions, type GenerateResult } from '../../infer/generate.js';
import { loadModel, openModel, saveModelFile, type LoadedModel } from '../../load/open.js';
import { memoryLine } from '../../load/model_files.js';
import { progressBar } from '../progress.js';
import type { HeadType, PackedModel } from '../../infer/packed_model.js';
import { InferenceSession, KV_CACHE_TYPES } from '../../infer/session.js';
import type { Tokenizer } from '../../tokenizer/types.js';
import { SHARED_OPTIONS, checkOutputFile, choiceFlag, intFlag, numFlag, UsageError, type Command } from '../args.js';

/** The model shipped with the package. */
export const BUNDLED_MODEL = fileURLToPath(new URL('../../../../models/sotu-tiny-b158.safetensors', import.meta.url));

const MODEL_OPTIONS = {
  threads: SHARED_OPTIONS.threads,
  backend: SHARED_OPTIONS.backend,
  format: { type: 'string' },
  head: { type: 'string', default: 'auto' },
  ctx: SHARED_OPTIONS.ctx,
  kv: { type: 'string', default: 'f16' },
  'max-tokens': { type: 'string', short: 'n', default: '128' },
  temperature: { type: 'string' },
  'top-k': { type: 'string' },
  'top-p': { type: 'string' },
  'min-p': { type: 'string' },
  'repeat-penalty': { type: 'string' },
  'presence-penalty': { type: 'string' },
  seed: { type: 'string' },
  stop: { type: 'string', multiple: true },
  greedy: { type: 'boolean', default: false },
  quiet: { type: 'boolean', short: 'q', default: false },
} as const;

interface Loaded { be: Backend; model: PackedModel; session: InferenceSession; tok: Tokenizer; path: string; loadMs: number }

/** Flags that choose and load a model (shared with `bitnet serve`). */
export const LOAD_OPTIONS = { threads: MODEL_OPTIONS.threads, backend: MODEL_OPTIONS.backend, format: MODEL_OPTIONS.format, head: MODEL_OPTIONS.head, ctx: MODEL_OPTIONS.ctx, kv: MODEL_OPTIONS.kv } as const;

async function load(v: Record<string, unknown>, positionals: string[]): Promise<Loaded> {
  const L = await loadPacked(v, positionals);
  return { ...L, session: new InferenceSession(L.model, { ctx: L.ctx, kv: choiceFlag(v, 'kv', KV_CACHE_TYPES)! }) };
}

/** MODEL (or the bundled one) opened, packed on the chosen backend; `ctx` from --ctx (default maxSeqLen). */
export async function loadPacked(v: Record<string, unknown>, positionals: string[]): Promise<Omit<Loaded, 'session'> & { ctx: number }> {
  if (positionals.length > 1) throw new UsageError(`expected at most one MODEL, got ${positionals.length}: ${positionals.join(' ')}`);
  const path = positionals[0] ?? BUNDLED_MODEL;
  if (positionals[0] === undefined && !existsSync(path)) throw new ArgumentError(`the bundled model ${path} is missing from this installation; pass a MODEL path`);
  const threads = intFlag(v, 'threads');
  const backend = choiceFlag(v, 'backend', ['auto', 'ref', 'wasm'] as const)!;
  const format = choiceFlag(v, 'format', ['i2', 'i1.6'] as const);
  const head = choiceFlag(v, 'head', ['auto', 'f32', 'q7', 'q4g'] as const)! as HeadType | 'auto';
  const ctxFlag = intFlag(v, 'ctx');
  const t0 = performance.now();
  const bar = progressBar('load', 'tensors');
  let m: LoadedModel;
  try {
    m = await loadModel(path, { backend, head, requireTokenizer: true, onProgress: (d, t) => bar.onProgress(d, t), ...(format !== undefined ? { format } : {}), ...(threads !== undefined ? { threads } : {}) });
  } finally {
    bar.stop();
  }
  const max = m.model.config.maxSeqLen;
  if (ctxFlag !== undefined && ctxFlag > max) {
    await m.dispose();
    throw new UsageError(`--ctx ${ctxFlag} exceeds the model's maxSeqLen ${max}`);
  }
  return { be: m.backend, model: m.model, ctx: ctxFlag ?? max, tok: m.tokenizer!, path, loadMs: performance.now() - t0 };
}

/** The line printed once a model is loaded: what, how big, how long it took. */
export function loadedLine(L: { path: string; model: PackedModel; loadMs: number }): string {
  const c = L.model.config;
  return `${L.path}: ${c.nLayers} layers, dim ${c.dim}, ${c.quant}, weights ${(L.model.weightBytes / 2 ** 20).toFixed(1)} MiB · loaded in ${(L.loadMs / 1000).toFixed(2)} s\n`;
}

function genOptions(v: Record<string, unknown>): GenerateOptions {
  const o: GenerateOptions = { maxTokens: intFlag(v, 'max-tokens', 0)! };
  const set = <K extends keyof GenerateOptions>(k: K, x: GenerateOptions[K] | undefined) => {
    if (x !== undefined) o[k] = x;
  };
  set('temperature', v.greedy ? 0 : numFlag(v, 'temperature', 0));
  set('topK', intFlag(v, 'top-k', 0));
  set('topP', numFlag(v, 'top-p', 0));
  set('minP', numFlag(v, 'min-p', 0));
  set('repetitionPenalty', numFlag(v, 'repeat-penalty', 0));
  set('presencePenalty', numFlag(v, 'presence-penalty'));
  set('seed', intFlag(v, 'seed', 0));
  set('stop', v.stop as string[] | undefined);
  return o;
}

function stats(L: Loaded, r: GenerateResult): string {
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
  const dec = r.tokens.length > 1 ? ((r.tokens.length - 1) * 1000) / r.decodeMs : NaN;
  return [
    `prompt ${r.promptTokens} tokens, ${((r.promptTokens * 1000) / r.prefillMs).toFixed(1)} tok/s prefill · generated ${r.tokens.length} tokens, ${dec.toFixed(1)} tok/s decode (${L.be.name}, ${L.be.threads} thread${L.be.threads > 1 ? 's' : ''}) · finish: ${r.finishReason}`,
    memoryLine(L.model, L.session, L.loadMs, `process RSS ${mib(process.memoryUsage().rss)}`),
  ].join('\n');
}

async function streamOut(it: AsyncGenerator<{ text: string }, GenerateResult>): Promise<GenerateResult> {
  for (;;) {
    const r = await it.next();
    if (r.done) return r.value;
    if (r.value.text) process.stdout.write(r.value.text);
  }
}

export const generateCommand: Command = {
  summary: 'generate text from a prompt with the packed engine (default MODEL: the bundled SOTU model)',
  usage: 'bitnet generate [MODEL] --prompt TEXT',
  maxPositionals: 1,
  options: { prompt: { type: 'string', short: 'p', default: '' }, ...MODEL_OPTIONS },
  async run(v, positionals) {
    const L = await load(v, positionals);
    try {
      const prompt = String(v.prompt ?? '');
      if (!v.quiet) process.stderr.write(loadedLine(L));
      process.stdout.write(prompt);
      const r = await streamOut(generateStream(L.session, L.tok, prompt, genOptions(v)));
      process.stdout.write('\n');
      if (!v.quiet) process.stderr.write(stats(L, r) + '\n');
    } finally {
      await L.be.dispose();
    }
  },
};

export const chatCommand: Command = {
  summary: 'interactive chat (reads lines from stdin; /reset clears the history, /exit quits)',
  usage: 'bitnet chat [MODEL] [--system TEXT] [--template bitnet|plain]',
  maxPositionals: 1,
  options: { system: { type: 'string' }, template: { type: 'string' }, ...MODEL_OPTIONS },
  async run(v, positionals) {
    const L = await load(v, positionals);
    const template = choiceFlag(v, 'template', ['bitnet', 'plain'] as const) ?? defaultChatTemplate(L.tok);
    const rl = createInterface({ input: process.stdin, terminal: false });
    const system: ChatMessage[] = v.system ? [{ role: 'system', content: String(v.system) }] : [];
    let history: ChatMessage[] = [];
    const opts = genOptions(v);
    try {
      if (!v.quiet) process.stderr.write(loadedLine(L) + `chat (template ${template}); /reset, /exit\n`);
      const prompt = () => {
        if (process.stdin.isTTY) process.stdout.write('> ');
      };
      prompt();
      // The async iterator buffers lines that arrive while an answer is being generated (piped input).
      for await (const line of rl) {
        const msg = line.trim();
        if (msg === '/exit' || msg === '/quit') break;
        if (msg === '/reset') {
          history = [];
          prompt();
          continue;
        }
        if (msg === '') {
          prompt();
          continue;
        }
        history.push({ role: 'user', content: msg });
        let chat = renderChat([...system, ...history], template, L.tok);
        // Drop the oldest turns while the prompt does not leave room for an answer.
        while (history.length > 1 && L.tok.encode(chat.prompt).length + 16 >= L.session.ctx) {
          history.shift();
          chat = renderChat([...system, ...history], template, L.tok);
        }
        const r = await streamOut(generateStream(L.session, L.tok, chat.prompt, { ...opts, addBos: chat.addBos, stop: [...(opts.stop ?? []), ...chat.stop], stopIds: chat.stopIds }));
        process.stdout.write('\n');
        history.push({ role: 'assistant', content: r.text.trim() });
        if (!v.quiet) process.stderr.write(stats(L, r) + '\n');
        prompt();
      }
    } finally {
      rl.close();
      await L.be.dispose();
    }
  },
};

export const packCommand: Command = {
  summary: "write a bitnet-ts model file (the engine's memory image + config + tokenizer) from any model input",
  usage: 'bitnet pack IN OUT [--head auto|f32|q7|q4g] [--format i2|i1.6]',
  maxPositionals: 2,
  options: { head: { type: 'string', default: 'auto' }, format: { type: 'string', default: 'i2' } },
  async run(v, positionals) {
    if (positionals.length !== 2) throw new UsageError('expected IN (model file, run directory, checkpoint, GGUF, Hugging Face directory or synthetic:PRESET) and OUT');
    const [inp, out] = positionals as [string, string];
    checkOutputFile(out, 'OUT');
    const head = choiceFlag(v, 'head', ['auto', 'f32', 'q7', 'q4g'] as const)! as HeadType | 'auto';
    const format = choiceFlag(v, 'format', ['i2', 'i1.6'] as const)!;
    const t0 = performance.now();
    const opened = openModel(inp);
    const bar = progressBar('pack', 'tensors');
    try {
      saveModelFile(out, opened.source, opened.tokenizer, { head, format, onProgress: (d, t) => bar.onProgress(d, t) });
    } finally {
      bar.stop();
      opened.close();
    }
    console.log(`wrote ${out} (${(statSync(out).size / 2 ** 20).toFixed(2)} MiB, ${opened.source.config.quant}${opened.tokenizer ? ', with tokenizer' : ', no tokenizer found'}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  },
};
