/**
 * Checkpoint contents, independent of where they are stored (pure: no I/O).
 * A checkpoint is a safetensors file: one tensor per model parameter (`model.<name>`),
 * the AdamW moments (`optim.m`, `optim.v`, flat, in parameter-buffer order) and metadata
 * (format, version, model config, step, optimizer step). Everything a run needs to continue
 * bit-exactly is here: the data order and the schedules are pure functions of the step.
 * Files on disk: src/train/run_dir.ts.
 */
import { ArgumentError, FormatError } from '../errors.js';
import type { TensorOut } from '../io/files.js';
import type { Parsed, StTensor } from '../io/safetensors.js';
import { validateConfig, type ModelConfig } from '../model/config.js';
import type { Transformer } from '../model/transformer.js';
import type { AdamW } from './adamw.js';

export const CHECKPOINT_FORMAT = 'bitnet-ts-checkpoint';
export const CHECKPOINT_VERSION = 1;

export interface LoadedCheckpoint {
  config: ModelConfig;
  step: number;
  optimStep: number;
  extra: Record<string, unknown>;
  tensors: Map<string, StTensor>;
}

/** Tensors and metadata to write for (model, optimizer) at `step`. */
export function checkpointContents(model: Transformer, opt: AdamW, step: number, extra: Record<string, unknown>): { tensors: Array<[string, TensorOut]>; metadata: Record<string, string> } {
  const dt = model.dtype === 'f64' ? 'F64' : 'F32';
  const tensors: Array<[string, TensorOut]> = model.table.map((info) => [`model.${info.name}`, { dtype: dt, shape: info.shape, data: model.param(info.name).p }]);
  tensors.push(['optim.m', { dtype: dt, shape: [opt.n], data: opt.m }], ['optim.v', { dtype: dt, shape: [opt.n], data: opt.v }]);
  const metadata = {
    format: CHECKPOINT_FORMAT,
    version: String(CHECKPOINT_VERSION),
    config: JSON.stringify(model.config),
    step: String(step),
    optimStep: String(opt.step),
    extra: JSON.stringify(extra),
  };
  return { tensors, metadata };
}

/** Interpret a parsed safetensors file as a checkpoint (`where` names it in errors). */
export function parseCheckpoint(parsed: Parsed, where: string): LoadedCheckpoint {
  const { tensors, metadata } = parsed;
  if (metadata.format !== CHECKPOINT_FORMAT) throw new FormatError(`${where}: not a ${CHECKPOINT_FORMAT} file (format=${metadata.format ?? 'missing'})`);
  if (Number(metadata.version) !== CHECKPOINT_VERSION) throw new FormatError(`${where}: checkpoint version ${metadata.version}, this build reads ${CHECKPOINT_VERSION}`);
  let config: ModelConfig, extra: Record<string, unknown>;
  try {
    config = validateConfig(JSON.parse(metadata.config ?? '') as ModelConfig);
    extra = JSON.parse(metadata.extra ?? '{}') as Record<string, unknown>;
  } catch (e) {
    throw new FormatError(`${where}: corrupt checkpoint metadata (${(e as Error).message})`);
  }
  if (typeof extra !== 'object' || extra === null || Array.isArray(extra)) throw new FormatError(`${where}: corrupt checkpoint metadata (extra must be a JSON object)`);
  const step = Number(metadata.step), optimStep = Number(metadata.optimStep);
  for (const [k, v] of [['step', step], ['optimStep', optimStep]] as const) {
    if (!Number.isSafeInteger(v) || v < 0) throw new FormatError(`${where}: corrupt checkpoint metadata (${k} must be a non-negative integer, got '${String(metadata[k]).slice(0, 40)}')`);
  }
  return { config, step, optimStep, extra, tensors };
}

/** Copy a checkpoint's tensors into a model (and optimizer); shapes must match exactly. */
export function restoreCheckpoint(ck: LoadedCheckpoint, model: Transformer, opt?: AdamW): void {
  const want = model.dtype === 'f64' ? 'F64' : 'F32';
  const get = (name: string, n: number): ArrayBufferView => {
    const t = ck.tensors.get(name);
    if (t === undefined) throw new FormatError(`checkpoint has no tensor '${name}'`);
    if (t.dtype !== want) throw new FormatError(`checkpoint tensor '${name}' is ${t.dtype}, model is ${want}`);
    if (t.bytes.byteLength !== n * (want === 'F64' ? 8 : 4)) throw new FormatError(`checkpoint tensor '${name}' has ${t.bytes.byteLength} bytes, model needs ${n} values`);
    const copy = t.bytes.slice();
    return want === 'F64' ? new Float64Array(copy.buffer) : new Float32Array(copy.buffer);
  };
  for (const info of model.table) model.param(info.name).p.set(get(`model.${info.name}`, info.size) as Float32Array);
  if (opt) {
    if (opt.n !== model.numParams) throw new ArgumentError('restoreCheckpoint: optimizer size does not match the model');
    opt.m.set(get('optim.m', opt.n) as Float32Array);
    opt.v.set(get('optim.v', opt.n) as Float32Array);
    opt.step = ck.optimStep;
  }
}
