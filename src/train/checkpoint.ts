/**
 * Checkpoints are safetensors files: one tensor per model parameter (`model.<name>`),
 * the AdamW moments (`optim.m`, `optim.v`, flat, in parameter-buffer order) and
 * metadata (format, version, model config, training options, step). Written atomically;
 * the newest `keep` are kept. Everything a run needs to continue bit-exactly is here:
 * the data order and the schedules are pure functions of the step.
 */
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ArgumentError } from '../errors.js';
import { loadSafetensors, saveSafetensors, type TensorOut } from '../io/files.js';
import { FormatError, type StTensor } from '../io/safetensors.js';
import type { ModelConfig } from '../model/config.js';
import type { Transformer } from '../model/transformer.js';
import type { AdamW } from './adamw.js';

export const CHECKPOINT_FORMAT = 'bitnet-ts-checkpoint';
export const CHECKPOINT_VERSION = 1;

export function checkpointName(step: number): string {
  return `ckpt-${String(step).padStart(8, '0')}.safetensors`;
}

/** Checkpoint files in a run directory, oldest first. */
export function listCheckpoints(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((n) => /^ckpt-\d{8}\.safetensors$/.test(n)).sort().map((n) => join(dir, n));
}

export function saveCheckpoint(dir: string, model: Transformer, opt: AdamW, step: number, extra: Record<string, unknown>, keep: number): string {
  const dt = model.dtype === 'f64' ? 'F64' : 'F32';
  const tensors: Array<[string, TensorOut]> = model.table.map((info) => [`model.${info.name}`, { dtype: dt, shape: info.shape, data: model.param(info.name).p }]);
  tensors.push(['optim.m', { dtype: dt, shape: [opt.n], data: opt.m }], ['optim.v', { dtype: dt, shape: [opt.n], data: opt.v }]);
  const path = join(dir, checkpointName(step));
  saveSafetensors(path, tensors, {
    format: CHECKPOINT_FORMAT,
    version: String(CHECKPOINT_VERSION),
    config: JSON.stringify(model.config),
    step: String(step),
    optimStep: String(opt.step),
    extra: JSON.stringify(extra),
  });
  const all = listCheckpoints(dir);
  for (const old of all.slice(0, Math.max(0, all.length - keep))) rmSync(old, { force: true });
  return path;
}

export interface LoadedCheckpoint {
  config: ModelConfig;
  step: number;
  optimStep: number;
  extra: Record<string, unknown>;
  tensors: Map<string, StTensor>;
}

export function readCheckpoint(path: string): LoadedCheckpoint {
  const { tensors, metadata } = loadSafetensors(path);
  if (metadata.format !== CHECKPOINT_FORMAT) throw new FormatError(`${path}: not a ${CHECKPOINT_FORMAT} file (format=${metadata.format ?? 'missing'})`);
  if (Number(metadata.version) !== CHECKPOINT_VERSION) throw new FormatError(`${path}: checkpoint version ${metadata.version}, this build reads ${CHECKPOINT_VERSION}`);
  try {
    return {
      config: JSON.parse(metadata.config ?? '') as ModelConfig,
      step: Number(metadata.step),
      optimStep: Number(metadata.optimStep),
      extra: JSON.parse(metadata.extra ?? '{}') as Record<string, unknown>,
      tensors,
    };
  } catch (e) {
    throw new FormatError(`${path}: corrupt checkpoint metadata (${(e as Error).message})`);
  }
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
