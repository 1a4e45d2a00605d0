/**
 * `bitnet inspect FILE`: what a GGUF file, Hugging Face directory or safetensors checkpoint holds —
 * architecture, parameter count, tensor table (name, shape, type, bits per weight), file and in-memory
 * size, and an estimate of the memory needed to decode (weights as stored + KV cache at the full context).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ArgumentError } from '../../errors.js';
import { openFileSource } from '../../io/byte_source.js';
import { metaArray, metaString, parseGguf } from '../../io/gguf.js';
import { ST_ITEMSIZE } from '../../io/safetensors.js';
import { openSafetensors } from '../../io/safetensors_stream.js';
import { configFromGguf } from '../../interop/gguf_model.js';
import { loadHF } from '../../interop/hf.js';
import { paramCount, validateConfig, type ModelConfig } from '../../model/config.js';
import { modelLayout, paddedBytes, type LayoutOptions } from '../../infer/layout.js';
import { layoutOptions } from '../../infer/packed_model.js';
import { MODEL_FILE_FORMAT, modelFileVersion, modelImageFrom } from '../../infer/model_file.js';
import type { Command } from '../args.js';

interface Row {
  name: string;
  shape: number[];
  type: string;
  /** Logical parameters (a packed HF uint8 holds 4). */
  params: number;
  bytes: number;
}

export function fmtBytes(n: number): string {
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 2)} ${u[i]}`;
}

function fmtCount(n: number): string {
  return n >= 1e9 ? `${(n / 1e9).toFixed(3)}B` : n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}K` : String(n);
}

/** KV cache bytes for a full context: 2 (K, V) × L × T × KV heads × head size × bytes per value. */
export function kvCacheBytes(c: ModelConfig, bytesPerValue: number, T = c.maxSeqLen): number {
  return 2 * c.nLayers * T * c.nKvHeads * (c.dim / c.nHeads) * bytesPerValue;
}

/** Bytes the engine holds for `config` by kind (src/infer/layout.ts), under the layout options a load would pick. */
function residentLines(config: ModelConfig, options?: LayoutOptions): string[] {
  let layout;
  try {
    layout = modelLayout(validateConfig({ ...config }), options ?? layoutOptions(config));
  } catch {
    return [];
  }
  const by: Record<string, number> = {};
  for (const a of layout.arrays) by[a.kind] = (by[a.kind] ?? 0) + paddedBytes(a);
  const o = layout.options;
  const total = Object.values(by).reduce((a, b) => a + b, 0);
  return [`resident       ${fmtBytes(total)} in the engine (${o.format}${o.format === 'i2' && o.interleave ? 'r4' : ''}, head ${o.head}): linear weights ${fmtBytes(by.linear ?? 0)} · scales ${fmtBytes(by.scale ?? 0)} · norms ${fmtBytes(by.norm ?? 0)} · embedding/head ${fmtBytes(by.table ?? 0)}`];
}

function summary(rows: Row[], fileBytes: number, config: ModelConfig | undefined, arch: string, extra: string[], image?: LayoutOptions): string[] {
  const params = image && config ? paramCount(config).total : rows.reduce((s, r) => s + r.params, 0);
  const mem = rows.reduce((s, r) => s + r.bytes, 0);
  const nameW = Math.max(4, ...rows.map((r) => r.name.length));
  const shapeW = Math.max(5, ...rows.map((r) => JSON.stringify(r.shape).length));
  const lines = [
    `architecture   ${arch}`,
    ...extra,
    `parameters     ${fmtCount(params)} (${params})${config && !image ? ` · config expects ${fmtCount(paramCount(config).total)}` : ''}`,
    `tensors        ${rows.length}`,
    `file size      ${fmtBytes(fileBytes)} on disk`,
    `as stored      ${fmtBytes(mem)} (${((8 * mem) / Math.max(params, 1)).toFixed(3)} bits/param on average)`,
    ...(config ? residentLines(config, image) : []),
  ];
  if (config) {
    lines.push(
      `config         dim ${config.dim} · layers ${config.nLayers} · heads ${config.nHeads}/${config.nKvHeads} · ffn ${config.ffnDim} (${config.ffn}) · vocab ${config.vocabSize} · ctx ${config.maxSeqLen} · θ ${config.ropeTheta} · ${config.tieEmbeddings ? 'tied' : 'untied'} · ${config.quant}${config.v1ShiftedActs === 'ffn-down' ? ' (shifted down_proj input)' : ''}`,
      `decode memory  ≈ ${fmtBytes(mem + kvCacheBytes(config, 2))} with an f16 KV cache at ctx ${config.maxSeqLen} (KV ${fmtBytes(kvCacheBytes(config, 2))}); ≈ ${fmtBytes(mem + kvCacheBytes(config, 4))} with f32 KV`,
    );
  }
  lines.push('', `${'name'.padEnd(nameW)}  ${'shape'.padEnd(shapeW)}  ${'type'.padEnd(6)}  bpw`);
  for (const r of rows) lines.push(`${r.name.padEnd(nameW)}  ${JSON.stringify(r.shape).padEnd(shapeW)}  ${r.type.padEnd(6)}  ${((8 * r.bytes) / Math.max(r.params, 1)).toFixed(4)}`);
  return lines;
}

/** The report lines for a path (GGUF file, HF directory, or safetensors file). */
export function inspectLines(path: string): string[] {
  if (!existsSync(path)) throw new ArgumentError(`${path} does not exist`);
  if (statSync(path).isDirectory()) {
    const m = loadHF(path);
    const files = readdirSync(path).filter((f) => f.endsWith('.safetensors')).sort();
    const rows: Row[] = [];
    let size = 0;
    for (const f of files) {
      size += statSync(join(path, f)).size;
      const r = openSafetensors(join(path, f));
      r.close();
      for (const e of r.entries.values()) {
        const numel = e.shape.reduce((a, b) => a * b, 1);
        const packed = e.dtype === 'U8' && /_proj\.weight$/.test(e.name);
        rows.push({ name: e.name, shape: packed ? [e.shape[0]! * 4, ...e.shape.slice(1)] : e.shape, type: packed ? 'I2(HF)' : e.dtype, params: packed ? numel * 4 : numel, bytes: numel * ST_ITEMSIZE[e.dtype] });
      }
    }
    const lc = m.layout.config.quant === 'b158' ? `, linear_class ${m.layout.linearClass}` : '';
    return summary(rows, size, m.layout.config, `${m.layout.modelType} (Hugging Face${lc})`, m.tokenizer ? [`tokenizer      ${m.tokenizer.vocabSize} ids (tokenizer.json)${m.chatTemplate ? ' · chat template' : ''}`] : []);
  }
  const src = openFileSource(path);
  try {
    const head = src.size >= 4 ? new DataView(src.read(0, 4).slice().buffer).getUint32(0, true) : 0;
    if (head === 0x46554747) {
      const f = parseGguf(src);
      const rows: Row[] = f.tensors.map((t) => ({ name: t.name, shape: t.shape, type: t.type.name, params: t.numel, bytes: t.nbytes }));
      let config: ModelConfig | undefined;
      let note = '';
      try {
        config = configFromGguf(f);
      } catch (e) {
        note = ` (not loadable here: ${(e as Error).message})`;
      }
      const tokens = metaArray(f.metadata, 'tokenizer.ggml.tokens');
      const extra = [
        `gguf           v${f.version} · ${f.metadata.size} metadata keys · alignment ${f.alignment} · data at byte ${f.dataOffset}`,
        ...(tokens ? [`tokenizer      ${metaString(f.metadata, 'tokenizer.ggml.model') ?? '?'} (${metaString(f.metadata, 'tokenizer.ggml.pre') ?? 'no pre'}), ${tokens.items.length} tokens${f.metadata.has('tokenizer.chat_template') ? ' · chat template' : ''}`] : []),
      ];
      return summary(rows, src.size, config, `${metaString(f.metadata, 'general.architecture') ?? '?'}${note}`, extra);
    }
  } finally {
    src.close();
  }
  const r = openSafetensors(path);
  r.close();
  const rows: Row[] = [...r.entries.values()].map((e) => {
    const numel = e.shape.reduce((a, b) => a * b, 1);
    return { name: e.name, shape: e.shape, type: e.dtype, params: numel, bytes: numel * ST_ITEMSIZE[e.dtype] };
  });
  if (r.metadata.format === MODEL_FILE_FORMAT && modelFileVersion(r.metadata, path) === 2) {
    // the engine's memory image: rows are the engine's arrays; parameters come from the config
    const img = modelImageFrom(r.entries, r.metadata, path);
    const o = img.layout.options;
    const tok = img.tokenizerJson !== undefined ? ' · with tokenizer' : ' · no tokenizer';
    const weights = new Map<string, number>();
    for (const L of img.layout.layers) for (const l of [L.qkv, L.o, L.gateUp, L.down]) weights.set(`${l.id}.w`, l.N * l.K);
    const c = img.config;
    const logical = (name: string, length: number) => weights.get(name) ?? (/\.(q7|q4g|f32)$/.test(name) ? c.vocabSize * c.dim : length);
    const imageRows = img.layout.arrays.map((a) => ({ name: a.name, shape: [a.length], type: `${a.dtype}/${a.kind}`, params: logical(a.name, a.length), bytes: paddedBytes(a) }));
    return summary(imageRows, statSync(path).size, img.config, `${MODEL_FILE_FORMAT} v2 (the engine's memory image)`, [`layout         ${o.format}${o.format === 'i2' && o.interleave ? ' interleaved by 4 (i2r4)' : ''} · head ${o.head}${tok}`], o);
  }
  let config: ModelConfig | undefined;
  try {
    if (r.metadata.config) config = JSON.parse(r.metadata.config) as ModelConfig;
  } catch {
    config = undefined;
  }
  return summary(rows, statSync(path).size, config, r.metadata.format ?? 'safetensors', []);
}

export const inspectCommand: Command = {
  summary: 'show a model file: architecture, parameters, tensor table, file/in-memory size, decode memory (FILE)',
  usage: 'bitnet inspect FILE',
  maxPositionals: 1,
  options: {},
  async run(_v, pos) {
    if (pos.length !== 1) throw new ArgumentError('inspect expects one FILE (GGUF file, Hugging Face directory or safetensors file)');
    console.log(inspectLines(pos[0]!).join('\n'));
  },
};
