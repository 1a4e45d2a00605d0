/**
 * safetensors (Hugging Face) — parse and serialize, pure (no I/O: works on bytes,
 * so the same code runs in a browser). Node file helpers are in src/io/files.ts.
 *
 * Layout:
 *   u64 LE  N                      header length in bytes
 *   N bytes JSON header            { "<name>": { "dtype": "F32", "shape": [..], "data_offsets": [begin, end] }, …,
 *                                    "__metadata__": { "<key>": "<string value>" } }   (padded with spaces)
 *   data                           tensors, offsets relative to the end of the header, little-endian, packed
 *
 * Every field is validated on read: header length bound, JSON shape and nesting, known dtype,
 * numel × itemsize = end − begin, offsets inside the buffer, no overlaps, and the tensors cover the
 * data section exactly (no gaps, no trailing bytes), as the reference implementation requires.
 */
import { FormatError } from '../errors.js';
import { halfToFloat } from '../tensor/half.js';
import type { ByteSource } from './gguf.js';
import { checkJsonDepth } from './json.js';

export { FormatError, halfToFloat };

export type StDType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';
export const ST_ITEMSIZE: Record<StDType, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

export interface StTensor {
  dtype: StDType;
  shape: number[];
  /** Raw little-endian bytes (a view into the file buffer when parsed). */
  bytes: Uint8Array;
}

/** Header larger than this is refused (a corrupt length must not allocate gigabytes). */
export const MAX_HEADER_BYTES = 100 << 20;

export interface Parsed {
  tensors: Map<string, StTensor>;
  metadata: Record<string, string>;
}

/** Parse the header only, given the first bytes of a file (≥ 8 + N). Returns entries and the data start. */
export function parseHeader(head: Uint8Array, fileSize: number): { entries: Array<{ name: string; dtype: StDType; shape: number[]; begin: number; end: number }>; metadata: Record<string, string>; dataStart: number } {
  if (head.length < 8) throw new FormatError(`safetensors: file too short (${head.length} bytes) for the 8-byte header length`);
  const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const n = Number(dv.getBigUint64(0, true));
  if (n > MAX_HEADER_BYTES) throw new FormatError(`safetensors: header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit (corrupt file?)`);
  if (8 + n > fileSize) throw new FormatError(`safetensors: header length ${n} runs past the end of the file (${fileSize} bytes)`);
  if (head.length < 8 + n) throw new FormatError('safetensors: header bytes not provided');
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(head.subarray(8, 8 + n)));
  } catch (e) {
    throw new FormatError(`safetensors: header (file bytes 8..${8 + n}) is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new FormatError('safetensors: header must be a JSON object');
  checkJsonDepth(json, 'safetensors: header', 8);
  const dataStart = 8 + n;
  const dataLen = fileSize - dataStart;
  let metadata: Record<string, string> = {};
  const entries: Array<{ name: string; dtype: StDType; shape: number[]; begin: number; end: number }> = [];
  for (const [name, v] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof v !== 'object' || v === null || Object.values(v).some((x) => typeof x !== 'string')) throw new FormatError('safetensors: __metadata__ must map strings to strings');
      metadata = v as Record<string, string>;
      continue;
    }
    const e = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e !== 'object' || e === null) throw new FormatError(`safetensors: entry '${name}' is not an object`);
    if (typeof e.dtype !== 'string' || !Object.hasOwn(ST_ITEMSIZE, e.dtype)) throw new FormatError(`safetensors: tensor '${name}' has unknown dtype ${JSON.stringify(e.dtype)?.slice(0, 100)}`);
    if (!Array.isArray(e.shape) || e.shape.some((d) => !Number.isSafeInteger(d) || d < 0)) throw new FormatError(`safetensors: tensor '${name}' has an invalid shape ${JSON.stringify(e.shape)?.slice(0, 200)}`);
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((o) => Number.isSafeInteger(o) && o >= 0) || off[0] > off[1]) {
      throw new FormatError(`safetensors: tensor '${name}' has invalid data_offsets ${JSON.stringify(off)?.slice(0, 200)}`);
    }
    const [begin, end] = off as [number, number];
    const dtype = e.dtype as StDType;
    const numel = (e.shape as number[]).reduce((a, b) => a * b, 1);
    if (numel * ST_ITEMSIZE[dtype] !== end - begin) throw new FormatError(`safetensors: tensor '${name}' ${dtype}${JSON.stringify(e.shape)} needs ${numel * ST_ITEMSIZE[dtype]} bytes, offsets span ${end - begin}`);
    if (end > dataLen) throw new FormatError(`safetensors: tensor '${name}' ends at data byte ${end} (file byte ${dataStart + end}), past the data section (${dataLen} bytes): truncated file?`);
    entries.push({ name, dtype, shape: e.shape as number[], begin, end });
  }
  const sorted = [...entries].sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.begin < sorted[i - 1]!.end) throw new FormatError(`safetensors: tensors '${sorted[i - 1]!.name}' and '${sorted[i]!.name}' overlap (at file byte ${dataStart + sorted[i]!.begin})`);
  }
  // As the reference implementation requires: the tensors cover the data section exactly, without gaps,
  // so bytes inserted into (or cut from) the data are refused instead of every later tensor being read shifted.
  let at = 0;
  for (const e of sorted) {
    if (e.begin !== at) throw new FormatError(`safetensors: tensor '${e.name}' starts at data byte ${e.begin}, expected ${at} (the tensors must cover the data section without gaps)`);
    at = e.end;
  }
  if (at !== dataLen) throw new FormatError(`safetensors: the tensors cover ${at} bytes of the ${dataLen}-byte data section (file byte ${dataStart + at}): bytes inserted or a wrong header length?`);
  return { entries, metadata, dataStart };
}

/** Parse a whole file held in memory. Tensor bytes are views into `buf`. */
export function parseSafetensors(buf: Uint8Array): Parsed {
  const { entries, metadata, dataStart } = parseHeader(buf, buf.length);
  const tensors = new Map<string, StTensor>();
  for (const e of entries) tensors.set(e.name, { dtype: e.dtype, shape: e.shape, bytes: buf.subarray(dataStart + e.begin, dataStart + e.end) });
  return { tensors, metadata };
}

/** Header bytes (length prefix + padded JSON) for tensors in the given order, packed. */
export function serializeHeader(tensors: Array<[string, { dtype: StDType; shape: number[]; byteLength: number }]>, metadata: Record<string, string> = {}, align = 8): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let off = 0;
  for (const [name, t] of tensors) {
    const numel = t.shape.reduce((a, b) => a * b, 1);
    if (numel * ST_ITEMSIZE[t.dtype] !== t.byteLength) throw new FormatError(`safetensors: tensor '${name}' ${t.dtype}[${t.shape}] needs ${numel * ST_ITEMSIZE[t.dtype]} bytes, got ${t.byteLength}`);
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [off, off + t.byteLength] };
    off += t.byteLength;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const pad = (align - ((8 + json.length) % align)) % align; // the data section starts `align`-aligned (8 by default)
  if (pad) json = new TextEncoder().encode(JSON.stringify(header) + ' '.repeat(pad));
  const out = new Uint8Array(8 + json.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  return out;
}

/** Little-endian bytes of a typed array (a view: this library only runs on little-endian engines). */
export function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Decode a tensor into a Float32Array (F32, F64, F16, BF16 accepted). */
export function toFloat32(t: StTensor, name = 'tensor'): Float32Array {
  const b = t.bytes;
  const n = b.byteLength / ST_ITEMSIZE[t.dtype];
  const aligned = (k: number) => (b.byteOffset % k === 0 ? b : b.slice());
  switch (t.dtype) {
    case 'F32': {
      const s = aligned(4);
      return new Float32Array(s.buffer, s.byteOffset, n).slice();
    }
    case 'F64':
      return Float32Array.from(new Float64Array(aligned(8).buffer, aligned(8).byteOffset, n));
    case 'BF16': {
      const s = aligned(2);
      const u = new Uint16Array(s.buffer, s.byteOffset, n);
      const out = new Uint32Array(n);
      for (let i = 0; i < n; i++) out[i] = u[i]! << 16;
      return new Float32Array(out.buffer);
    }
    case 'F16': {
      const s = aligned(2);
      const u = new Uint16Array(s.buffer, s.byteOffset, n);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = halfToFloat(u[i]!);
      return out;
    }
    default:
      throw new FormatError(`${name}: expected a float tensor, got ${t.dtype}`);
  }
}


// ---- one tensor at a time from a ByteSource (a file in Node, a Blob in a page's worker) ------------

export interface StEntry {
  name: string;
  dtype: StDType;
  shape: number[];
  /** Absolute byte range in the file. */
  start: number;
  end: number;
}

export interface SafetensorsReader {
  readonly where: string;
  readonly entries: Map<string, StEntry>;
  readonly metadata: Record<string, string>;
  /** Read one tensor's bytes from disk (a fresh copy, aligned for typed-array views). */
  read(name: string): StTensor;
  close(): void;
}

/** Parse the header of a safetensors source; tensor bytes are read on demand. */
export function safetensorsReader(src: ByteSource & { close?(): void }): SafetensorsReader {
  if (src.size < 8) throw new FormatError(`safetensors ${src.where}: file too short (${src.size} bytes) for the 8-byte header length (at byte 0)`);
  const n = Number(new DataView(src.read(0, 8).slice().buffer).getBigUint64(0, true));
  if (n > MAX_HEADER_BYTES) throw new FormatError(`safetensors ${src.where}: header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit (at byte 0)`);
  if (8 + n > src.size) throw new FormatError(`safetensors ${src.where}: header length ${n} runs past the end of the ${src.size}-byte file (at byte 0)`);
  let parsed: ReturnType<typeof parseHeader>;
  try {
    parsed = parseHeader(src.read(0, 8 + n), src.size);
  } catch (e) {
    if (e instanceof FormatError) throw new FormatError(`${src.where}: ${e.message}`);
    throw e;
  }
  const entries = new Map<string, StEntry>();
  for (const e of parsed.entries) entries.set(e.name, { name: e.name, dtype: e.dtype, shape: e.shape, start: parsed.dataStart + e.begin, end: parsed.dataStart + e.end });
  return {
    where: src.where,
    entries,
    metadata: parsed.metadata,
    read(name) {
      const e = entries.get(name);
      if (e === undefined) throw new FormatError(`safetensors ${src.where}: no tensor '${name}'`);
      const bytes = src.read(e.start, e.end - e.start);
      return { dtype: e.dtype, shape: e.shape, bytes: bytes.byteOffset % 8 === 0 ? bytes : bytes.slice() };
    },
    close() {
      src.close?.();
    },
  };
}

