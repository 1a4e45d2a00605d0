/**
 * Mutations of a seed (pure: bytes in, bytes out, driven by the project's seeded Rng), each described by
 * a JSON-able record so a failing case can be reproduced and understood:
 *   binary   bit flips · boundary values written over integer fields · truncation · inserted / deleted
 *            bytes (misaligned data) · non-UTF-8 bytes in a header
 *   json     a node replaced by a wrong JSON type, a boundary number, a huge id, a deeply nested value,
 *            a non-UTF-8 string; a key deleted; the whole document replaced (null, [], …)
 *   formats  safetensors: the JSON header (and the JSON strings inside its metadata: a model file's
 *            config / tokenizer, a checkpoint's config) mutated and re-serialized with a correct length;
 *            GGUF: a metadata value replaced (block counts, ids, alignment …) and the header re-serialized
 *            by the project's writer, the tensor data kept as it was (so a changed alignment misaligns it)
 */
import { bufferSource, gv, parseGguf, serializeGgufHeader, type GgufValue } from '../../src/io/gguf.js';
import { Rng } from '../../src/tensor/rng.js';
import type { Seed } from './seeds.js';

export interface Mutation {
  /** The file of the seed that was changed. */
  file: string;
  op: string;
  detail: Record<string, unknown>;
}

export interface Mutant {
  files: Map<string, Uint8Array>;
  mutation: Mutation;
}

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: false });

/** Integers at the edges of every width the formats use. */
export const BOUNDARY_INTS = [0, 1, -1, 2, 7, 255, 256, 0x7fff, 0x8000, 0xffff, 0x10000, 1e8, 2 ** 24, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, 2 ** 53, 2 ** 63, 2 ** 64 - 1, 1e308];

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[rng.int(xs.length)]!;

/**
 * Deeply nested values are too deep for JSON.stringify: they are a placeholder string while in a
 * document, expanded by `toJsonText` into '[[[…1…]]]' / '{"a":{"a":…}}'.
 */
const DEEP = '\u0000deep:';

function deepValue(rng: Rng): string {
  return `${DEEP}${pick(rng, [65, 1000, 20000])}:${rng.int(2)}\u0000`;
}

/** JSON text of a (mutated) document, deep placeholders expanded. */
export function toJsonText(doc: unknown): string {
  const text = JSON.stringify(doc) ?? '';
  return text.replace(/"\\u0000deep:(\d+):(\d)\\u0000"/g, (_, n: string, kind: string) => {
    const d = Number(n);
    return kind === '0' ? '['.repeat(d) + '1' + ']'.repeat(d) : '{"a":'.repeat(d) + 'null' + '}'.repeat(d);
  });
}

/** A value of a wrong type or at a boundary (for any JSON node). */
function wrongValue(rng: Rng): { value: unknown; kind: string } {
  switch (rng.int(12)) {
    case 0: return { value: null, kind: 'null' };
    case 1: return { value: rng.int(2) === 0, kind: 'bool' };
    case 2: return { value: pick(rng, ['', 'x', 'NaN', '1e308', '\u0000', 'ÿ'.repeat(300)]), kind: 'string' };
    case 3: return { value: [], kind: 'array' };
    case 4: return { value: {}, kind: 'object' };
    case 5: case 6: return { value: pick(rng, BOUNDARY_INTS) * (rng.int(4) === 0 ? -1 : 1), kind: 'boundary-int' };
    case 7: return { value: pick(rng, [0.5, 1.5, -0.0, 1e-320, 3.4e38, 1e300]), kind: 'float' };
    case 8: return { value: deepValue(rng), kind: 'deep' };
    case 9: return { value: 'x'.repeat(pick(rng, [1000, 100000])), kind: 'long-string' };
    case 10: return { value: Array.from({ length: pick(rng, [1000, 50000]) }, (_, i) => i), kind: 'long-array' };
    default: return { value: pick(rng, [2 ** 31 - 1, 1e8, 2 ** 31, 1e308]), kind: 'huge' };
  }
}

type Path = Array<string | number>;

/** All paths to nodes of a JSON value (bounded, breadth-first, so huge vocabularies do not dominate). */
function paths(root: unknown, limit = 4000): Path[] {
  const out: Path[] = [];
  const queue: Array<[unknown, Path]> = [[root, []]];
  while (queue.length > 0 && out.length < limit) {
    const [v, p] = queue.shift()!;
    if (p.length > 0) out.push(p);
    if (Array.isArray(v)) v.slice(0, 64).forEach((c, i) => queue.push([c, [...p, i]]));
    else if (typeof v === 'object' && v !== null) Object.entries(v).slice(0, 64).forEach(([k, c]) => queue.push([c, [...p, k]]));
  }
  return out;
}

function getAt(root: unknown, p: Path): unknown {
  let v = root;
  for (const k of p) v = (v as Record<string | number, unknown>)[k];
  return v;
}

function setAt(root: unknown, p: Path, value: unknown, del = false): void {
  const parent = getAt(root, p.slice(0, -1)) as Record<string | number, unknown>;
  const k = p[p.length - 1]!;
  if (del) {
    if (Array.isArray(parent)) parent.splice(k as number, 1);
    else delete parent[k];
  } else parent[k] = value;
}

/** Mutate a parsed JSON document in place (or replace it); returns the new root and what was done. */
export function mutateJson(doc: unknown, rng: Rng): { doc: unknown; op: string; detail: Record<string, unknown> } {
  const all = paths(doc);
  const r = rng.int(20);
  if (r === 0 || all.length === 0) {
    const w = wrongValue(rng);
    return { doc: w.value, op: 'json-root', detail: { kind: w.kind } };
  }
  // Ids: a vocabulary or added-token id (tokenizer.json), any key ending in _id / id.
  const idPaths = all.filter((p) => (p.length >= 2 && p[p.length - 2] === 'vocab') || /(^|_)id$/.test(String(p[p.length - 1])));
  if (r <= 4 && idPaths.length > 0) {
    const p = pick(rng, idPaths);
    const value = pick(rng, [1e8, 2 ** 31 - 1, 2 ** 31, 2 ** 24, 2 ** 53, -1, 1.5, 1e308]);
    setAt(doc, p, value);
    return { doc, op: 'json-huge-id', detail: { path: p, value } };
  }
  const p = pick(rng, all);
  if (r <= 7) {
    setAt(doc, p, undefined, true);
    return { doc, op: 'json-delete', detail: { path: p } };
  }
  const w = wrongValue(rng);
  setAt(doc, p, w.value);
  return { doc, op: 'json-type', detail: { path: p, kind: w.kind, value: w.kind === 'deep' || w.kind.startsWith('long') ? `<${w.kind}>` : w.value } };
}

// ---- binary ------------------------------------------------------------------------------------

function flipBits(b: Uint8Array, rng: Rng, region: number): { out: Uint8Array; detail: Record<string, unknown> } {
  const out = b.slice();
  const n = 1 + rng.int(8);
  const at: number[] = [];
  for (let i = 0; i < n; i++) {
    const pos = rng.int(4) === 0 ? rng.int(out.length) : rng.int(Math.max(1, Math.min(region, out.length)));
    out[pos]! ^= 1 << rng.int(8);
    at.push(pos);
  }
  return { out, detail: { at } };
}

function writeBoundary(b: Uint8Array, rng: Rng, region: number): { out: Uint8Array; detail: Record<string, unknown> } {
  const out = b.slice();
  const width = pick(rng, [4, 8]);
  if (out.length < width) return { out, detail: { skipped: true } };
  const pos = rng.int(Math.max(1, Math.min(region, out.length - width + 1)));
  const v = pick(rng, BOUNDARY_INTS.filter((x) => x >= 0));
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  // Values wider than the field keep their low bits (2^64 − 1 as a double is 2^64: saturate it).
  const big = v >= 2 ** 64 ? 2n ** 64n - 1n : BigInt(v);
  if (width === 4) dv.setUint32(pos, v >= 2 ** 32 ? 0xffffffff : Number(big), true);
  else dv.setBigUint64(pos, BigInt.asUintN(64, big), true);
  return { out, detail: { at: pos, width, value: v } };
}

function spliceBytes(b: Uint8Array, rng: Rng, region: number, insert: boolean): { out: Uint8Array; detail: Record<string, unknown> } {
  const pos = rng.int(Math.max(1, Math.min(region + 64, b.length)));
  const n = pick(rng, [1, 2, 3, 4, 8, 16, 31, 32, 33, 64]);
  if (insert) {
    const fill = rng.int(2) === 0 ? 0 : 0xff;
    const out = new Uint8Array(b.length + n);
    out.set(b.subarray(0, pos));
    out.fill(fill, pos, pos + n);
    out.set(b.subarray(pos), pos + n);
    return { out, detail: { at: pos, n, fill } };
  }
  const at = Math.max(0, Math.min(pos, b.length - n));
  const out = new Uint8Array(Math.max(0, b.length - n));
  out.set(b.subarray(0, at));
  out.set(b.subarray(at + n), at);
  return { out, detail: { at, n } };
}

function nonUtf8(b: Uint8Array, rng: Rng, region: number): { out: Uint8Array; detail: Record<string, unknown> } {
  const out = b.slice();
  const pos = rng.int(Math.max(1, Math.min(region, out.length)));
  const bytes = pick(rng, [[0xff], [0xc3, 0x28], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80]]);
  out.set(bytes.slice(0, out.length - pos), pos);
  return { out, detail: { at: pos, bytes } };
}

/** A generic binary mutation of `b`; `region` = the length of its header (where structure lives). */
export function mutateBinary(b: Uint8Array, rng: Rng, region: number): { out: Uint8Array; op: string; detail: Record<string, unknown> } {
  switch (rng.int(7)) {
    case 0: case 1: return { op: 'bitflip', ...flipBits(b, rng, region) };
    case 2: return { op: 'boundary-int', ...writeBoundary(b, rng, region) };
    case 3: {
      const at = rng.int(3) === 0 ? rng.int(Math.max(1, Math.min(region, b.length))) : rng.int(Math.max(1, b.length));
      return { op: 'truncate', out: b.slice(0, at), detail: { at } };
    }
    case 4: return { op: 'insert-bytes', ...spliceBytes(b, rng, region, true) };
    case 5: return { op: 'delete-bytes', ...spliceBytes(b, rng, region, false) };
    default: return { op: 'non-utf8', ...nonUtf8(b, rng, region) };
  }
}

// ---- safetensors -------------------------------------------------------------------------------

function stHeaderLen(b: Uint8Array): number | undefined {
  if (b.length < 8) return undefined;
  const n = Number(new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true));
  return 8 + n <= b.length ? n : undefined;
}

/** Mutate the JSON header of a safetensors file (or a JSON string inside its __metadata__) and re-frame it. */
function mutateSafetensorsHeader(b: Uint8Array, rng: Rng): { out: Uint8Array; op: string; detail: Record<string, unknown> } | undefined {
  const n = stHeaderLen(b);
  if (n === undefined) return undefined;
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(dec.decode(b.subarray(8, 8 + n))) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const md = header.__metadata__ as Record<string, string> | undefined;
  const jsonKeys = md ? Object.keys(md).filter((k) => { try { const v = JSON.parse(md[k]!); return typeof v === 'object' && v !== null; } catch { return false; } }) : [];
  let op: string, detail: Record<string, unknown>;
  if (md && jsonKeys.length > 0 && rng.int(2) === 0) {
    const key = pick(rng, jsonKeys);
    const m = mutateJson(JSON.parse(md[key]!), rng);
    md[key] = toJsonText(m.doc);
    op = `metadata.${key}:${m.op}`;
    detail = m.detail;
  } else if (md && rng.int(4) === 0) {
    const key = pick(rng, Object.keys(md));
    const w = pick(rng, ['', 'x', '-1', '1e308', '2', 'NaN', '9007199254740993', '{}', 'null']);
    md[key] = w;
    op = `metadata.${key}:string`;
    detail = { value: w };
  } else {
    const m = mutateJson(header, rng);
    header = m.doc as Record<string, unknown>;
    op = `header:${m.op}`;
    detail = m.detail;
  }
  const text = enc.encode(toJsonText(header));
  const out = new Uint8Array(8 + text.length + (b.length - 8 - n));
  new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
  out.set(text, 8);
  out.set(b.subarray(8 + n), 8 + text.length);
  return { out, op, detail };
}

// ---- GGUF --------------------------------------------------------------------------------------

function numValue(rng: Rng): { v: GgufValue; shown: unknown } {
  const t = pick(rng, ['u32', 'u32', 'i32', 'u64', 'u64', 'f32', 'f64', 'bool', 'string'] as const);
  const x = pick(rng, BOUNDARY_INTS);
  switch (t) {
    case 'u32': return { v: gv.u32(x >= 0 && x <= 0xffffffff ? x : 0xffffffff), shown: `u32 ${x >= 0 && x <= 0xffffffff ? x : 0xffffffff}` };
    case 'i32': { const y = x <= 0x7fffffff ? (x >= -0x80000000 ? x : -1) : -1; return { v: gv.i32(y), shown: `i32 ${y}` }; }
    case 'u64': { const y = x >= 0 ? (x >= 2 ** 64 ? 2n ** 64n - 1n : BigInt(Math.min(x, 2 ** 63))) : 0n; return { v: { type: 'u64', value: y }, shown: `u64 ${y}` }; }
    case 'f32': return { v: gv.f32(pick(rng, [NaN, Infinity, -1, 0, 1e38, x])), shown: 'f32' };
    case 'f64': return { v: gv.f64(pick(rng, [NaN, -Infinity, 0, 1e308, x])), shown: 'f64' };
    case 'bool': return { v: gv.bool(true), shown: 'bool' };
    default: return { v: gv.str('x'), shown: 'string' };
  }
}

/** Replace one metadata value (or add general.alignment) and re-serialize the header; data kept as is. */
function mutateGgufStructured(b: Uint8Array, rng: Rng): { out: Uint8Array; op: string; detail: Record<string, unknown> } | undefined {
  let f;
  try {
    f = parseGguf(bufferSource(b));
  } catch {
    return undefined;
  }
  const md = new Map(f.metadata);
  const specs = f.tensors.map((t) => ({ name: t.name, dims: t.dims, type: t.type }));
  let alignment: number | undefined;
  let op: string;
  const detail: Record<string, unknown> = {};
  const r = rng.int(10);
  if (r <= 2) {
    alignment = pick(rng, [0, 1, 4, 7, 8, 16, 24, 64, 128, 4096, 2 ** 20, 2 ** 31, 0xffffffff]);
    md.set('general.alignment', gv.u32(32)); // the writer lays out with 32; the value is patched below
    op = 'gguf-alignment';
    detail.alignment = alignment;
  } else if (r <= 4) {
    const key = pick(rng, ['tokenizer.ggml.tokens', 'tokenizer.ggml.merges', 'tokenizer.ggml.token_type']);
    const a = md.get(key);
    if (a?.type !== 'array') return undefined;
    const items = a.value.items;
    const how = rng.int(3);
    const nItems = how === 0 ? items.slice(0, rng.int(items.length + 1)) : how === 1 ? [] : [...items, ...items];
    md.set(key, gv.arr(a.value.elem, nItems));
    op = 'gguf-array-length';
    Object.assign(detail, { key, length: nItems.length });
  } else {
    const keys = [...md.keys()].filter((k) => { const v = md.get(k)!; return v.type !== 'array' && v.type !== 'string'; });
    const key = rng.int(5) === 0 ? pick(rng, [...md.keys()]) : pick(rng, keys);
    const { v, shown } = numValue(rng);
    md.set(key, v);
    op = 'gguf-value';
    Object.assign(detail, { key, value: shown });
  }
  let header: Uint8Array;
  try {
    header = serializeGgufHeader(md, specs).header;
  } catch {
    return undefined;
  }
  if (alignment !== undefined) {
    // Patch the u32 value of general.alignment in place (its type and size are unchanged).
    const key = enc.encode('general.alignment');
    for (let i = 0; i + key.length + 8 <= header.length; i++) {
      if (header[i] === key[0] && key.every((k, j) => header[i + j] === k)) {
        new DataView(header.buffer, header.byteOffset).setUint32(i + key.length + 4, alignment >>> 0, true);
        break;
      }
    }
  }
  const data = b.subarray(f.dataOffset);
  const out = new Uint8Array(header.length + data.length);
  out.set(header);
  out.set(data, header.length);
  return { out, op, detail };
}

function ggufHeaderEnd(b: Uint8Array): number {
  try {
    return parseGguf(bufferSource(b)).dataOffset;
  } catch {
    return Math.min(b.length, 4096);
  }
}

// ---- one case ----------------------------------------------------------------------------------

/** One mutant of `seed`: one of its files changed by one mutation chosen by `rng`. */
export function mutate(seed: Seed, rng: Rng): Mutant {
  const names = [...seed.files.keys()];
  // Weights and headers: the big binary file twice as often as each JSON file.
  const weighted = names.flatMap((n) => (/\.(safetensors|gguf)$/.test(n) ? [n, n, n] : [n]));
  const file = pick(rng, weighted);
  const b = seed.files.get(file)!;
  let res: { out: Uint8Array; op: string; detail: Record<string, unknown> } | undefined;
  if (file.endsWith('.json')) {
    if (rng.int(5) === 0) res = mutateBinary(b, rng, b.length);
    else {
      const m = mutateJson(JSON.parse(dec.decode(b)), rng);
      res = { out: enc.encode(toJsonText(m.doc)), op: m.op, detail: m.detail };
    }
  } else if (file.endsWith('.safetensors')) {
    if (rng.int(2) === 0) res = mutateSafetensorsHeader(b, rng);
    res ??= mutateBinary(b, rng, 8 + (stHeaderLen(b) ?? 0));
  } else if (file.endsWith('.gguf')) {
    if (rng.int(2) === 0) res = mutateGgufStructured(b, rng);
    res ??= mutateBinary(b, rng, ggufHeaderEnd(b));
  } else {
    res = mutateBinary(b, rng, b.length);
  }
  const files = new Map(seed.files);
  files.set(file, res.out);
  return { files, mutation: { file, op: res.op, detail: res.detail } };
}
