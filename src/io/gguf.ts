/**
 * GGUF v3 (docs/spec.md §6.4; https://github.com/ggml-org/ggml/blob/master/docs/gguf.md) — parse and serialize,
 * pure (no I/O): the reader works on a `ByteSource` (random access to a file or a buffer), so a multi-GB file
 * is never read whole; the Node file source is in src/io/byte_source.ts.
 *
 *   u32 magic "GGUF" (47 47 55 46)  u32 version (2 or 3; little-endian only)
 *   u64 tensor_count  u64 metadata_kv_count
 *   kv[]:   string key (u64 len + UTF-8), u32 value_type, value
 *   tensor_info[]: string name, u32 n_dims (≤ 4), u64 ne[n_dims] (innermost first = reversed PyTorch shape),
 *                  u32 ggml_type, u64 offset (relative to the data section, a multiple of the alignment)
 *   zero padding to `general.alignment` (default 32), then the tensor data, each tensor padded likewise.
 *
 * Value types: 0 u8, 1 i8, 2 u16, 3 i16, 4 u32, 5 i32, 6 f32, 7 bool, 8 string, 9 array (u32 type, u64 count,
 * items; may nest), 10 u64, 11 i64, 12 f64.
 *
 * The reader validates before it allocates (the file may come from anyone): every count, length and offset
 * is checked against the bytes that remain in the file and against fixed caps, strings must be UTF-8,
 * arrays nest at most MAX_DEPTH deep, names/keys are unique, tensor ranges lie inside the data section,
 * are aligned and do not overlap. Any violation is a FormatError naming the problem and its byte offset.
 */
import { FormatError } from '../errors.js';
import { ggmlTensorBytes, ggmlType, type GgmlType } from './gguf_quant.js';

export const GGUF_MAGIC = 0x46554747;
export const GGUF_VERSION = 3;
export const GGUF_DEFAULT_ALIGNMENT = 32;
/** Caps for untrusted files (far above any real model's needs). */
export const MAX_STRING_BYTES = 64 << 20;
export const MAX_KEY_BYTES = 65535;
export const MAX_ARRAY_ITEMS = 1 << 26;
export const MAX_DEPTH = 4;
export const MAX_TENSORS = 1 << 20;
export const MAX_KV = 1 << 20;
/** ggml GGML_MAX_NAME (64) includes the terminating NUL. */
export const MAX_TENSOR_NAME = 63;
export const MAX_DIMS = 4;
/** general.alignment: a power of two, a multiple of 8 (GGUF spec), at most this. */
export const MAX_ALIGNMENT = 1 << 16;

/** Random access to the bytes of a file or buffer. */
export interface ByteSource {
  readonly size: number;
  /** Bytes [offset, offset + length); the caller guarantees the range is inside `size`. */
  read(offset: number, length: number): Uint8Array;
  readonly where: string;
}

export function bufferSource(buf: Uint8Array, where = 'buffer'): ByteSource {
  return { size: buf.length, where, read: (o, n) => buf.subarray(o, o + n) };
}

export const GGUF_VALUE_TYPES = ['u8', 'i8', 'u16', 'i16', 'u32', 'i32', 'f32', 'bool', 'string', 'array', 'u64', 'i64', 'f64'] as const;
export type GgufValueType = (typeof GGUF_VALUE_TYPES)[number];
type NumType = 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'f32' | 'f64';
const SIZE: Record<Exclude<GgufValueType, 'string' | 'array'>, number> = { u8: 1, i8: 1, u16: 2, i16: 2, u32: 4, i32: 4, f32: 4, bool: 1, u64: 8, i64: 8, f64: 8 };

export type GgufItem = number | bigint | boolean | string | GgufArray;
export interface GgufArray {
  elem: GgufValueType;
  items: GgufItem[];
}
export type GgufValue =
  | { type: NumType; value: number }
  | { type: 'u64' | 'i64'; value: bigint }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'array'; value: GgufArray };

/** Constructors for metadata values. */
export const gv = {
  u8: (v: number): GgufValue => ({ type: 'u8', value: v }),
  u32: (v: number): GgufValue => ({ type: 'u32', value: v }),
  i32: (v: number): GgufValue => ({ type: 'i32', value: v }),
  u64: (v: number | bigint): GgufValue => ({ type: 'u64', value: BigInt(v) }),
  f32: (v: number): GgufValue => ({ type: 'f32', value: v }),
  f64: (v: number): GgufValue => ({ type: 'f64', value: v }),
  bool: (v: boolean): GgufValue => ({ type: 'bool', value: v }),
  str: (v: string): GgufValue => ({ type: 'string', value: v }),
  arr: (elem: GgufValueType, items: GgufItem[]): GgufValue => ({ type: 'array', value: { elem, items } }),
};

export interface GgufTensorInfo {
  name: string;
  /** ggml order: ne[0] is the innermost (contiguous) dimension. */
  dims: number[];
  /** PyTorch order (dims reversed). */
  shape: number[];
  type: GgmlType;
  numel: number;
  /** Offset relative to the data section. */
  offset: number;
  /** Absolute byte offset in the file. */
  fileOffset: number;
  nbytes: number;
}

export interface GgufFile {
  version: number;
  metadata: Map<string, GgufValue>;
  tensors: GgufTensorInfo[];
  alignment: number;
  /** Absolute offset of the data section. */
  dataOffset: number;
  size: number;
  where: string;
}

// ---- reader ------------------------------------------------------------------------------------

const WINDOW = 1 << 20;
const utf8 = new TextDecoder('utf-8', { fatal: true });

class Cursor {
  pos = 0;
  private buf: Uint8Array = new Uint8Array(0);
  private bufStart = 0;
  private dv = new DataView(this.buf.buffer);
  constructor(private readonly src: ByteSource) {}

  fail(msg: string, at = this.pos): never {
    throw new FormatError(`gguf ${this.src.where}: ${msg} (at byte ${at})`);
  }
  get remaining(): number {
    return this.src.size - this.pos;
  }
  /** Make [pos, pos+n) addressable; returns its index in `buf`. */
  private need(n: number, what: string): number {
    if (n > this.remaining) this.fail(`truncated: ${what} needs ${n} bytes, ${this.remaining} left in the ${this.src.size}-byte file`);
    if (this.pos < this.bufStart || this.pos + n > this.bufStart + this.buf.length) {
      this.buf = this.src.read(this.pos, Math.min(this.remaining, Math.max(n, WINDOW)));
      this.bufStart = this.pos;
      this.dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    }
    const i = this.pos - this.bufStart;
    this.pos += n;
    return i;
  }
  // need() may move the window (and replace this.dv), so it runs before this.dv is read.
  u8(what: string): number { const i = this.need(1, what); return this.dv.getUint8(i); }
  u32(what: string): number { const i = this.need(4, what); return this.dv.getUint32(i, true); }
  u64(what: string): bigint { const i = this.need(8, what); return this.dv.getBigUint64(i, true); }
  /** u64 that must fit a JS number and be ≤ max. */
  count(what: string, max: number): number {
    const at = this.pos;
    const v = this.u64(what);
    if (v > BigInt(max)) this.fail(`${what} ${v} exceeds the limit ${max}`, at);
    return Number(v);
  }
  bytes(n: number, what: string): Uint8Array {
    const i = this.need(n, what);
    return this.buf.subarray(i, i + n);
  }
  string(what: string, max: number): string {
    const at = this.pos;
    const n = this.count(`${what} length`, max);
    if (n > this.remaining) this.fail(`truncated: ${what} of ${n} bytes, ${this.remaining} left`, at);
    try {
      return utf8.decode(this.bytes(n, what));
    } catch {
      return this.fail(`${what} is not valid UTF-8`, at + 8);
    }
  }
  scalar(t: Exclude<GgufValueType, 'string' | 'array'>, what: string): number | bigint | boolean {
    const at = this.pos;
    const i = this.need(SIZE[t], what);
    const dv = this.dv;
    switch (t) {
      case 'u8': return dv.getUint8(i);
      case 'i8': return dv.getInt8(i);
      case 'u16': return dv.getUint16(i, true);
      case 'i16': return dv.getInt16(i, true);
      case 'u32': return dv.getUint32(i, true);
      case 'i32': return dv.getInt32(i, true);
      case 'f32': return dv.getFloat32(i, true);
      case 'f64': return dv.getFloat64(i, true);
      case 'u64': return dv.getBigUint64(i, true);
      case 'i64': return dv.getBigInt64(i, true);
      case 'bool': {
        const b = dv.getUint8(i);
        if (b > 1) this.fail(`${what}: bool must be 0 or 1, got ${b}`, at);
        return b === 1;
      }
    }
  }
  valueType(what: string): GgufValueType {
    const at = this.pos;
    const id = this.u32(what);
    const t = GGUF_VALUE_TYPES[id];
    if (t === undefined) this.fail(`${what}: unknown value type ${id}`, at);
    return t;
  }
  item(t: GgufValueType, what: string, depth: number): GgufItem {
    if (t === 'string') return this.string(what, MAX_STRING_BYTES);
    if (t === 'array') return this.array(what, depth + 1);
    return this.scalar(t, what);
  }
  array(what: string, depth: number): GgufArray {
    const at = this.pos;
    if (depth > MAX_DEPTH) this.fail(`${what}: arrays nested deeper than ${MAX_DEPTH}`, at);
    const elem = this.valueType(`${what} element type`);
    const n = this.count(`${what} item count`, MAX_ARRAY_ITEMS);
    const minItem = elem === 'string' ? 8 : elem === 'array' ? 12 : SIZE[elem];
    if (n * minItem > this.remaining) this.fail(`${what}: ${n} items of ≥ ${minItem} bytes do not fit in the ${this.remaining} bytes left`, at);
    const items = new Array<GgufItem>(n);
    for (let k = 0; k < n; k++) items[k] = this.item(elem, `${what}[${k}]`, depth);
    return { elem, items };
  }
  value(t: GgufValueType, what: string): GgufValue {
    if (t === 'array') return { type: 'array', value: this.array(what, 1) };
    if (t === 'string') return { type: 'string', value: this.string(what, MAX_STRING_BYTES) };
    return { type: t, value: this.scalar(t, what) } as GgufValue;
  }
}

/** Parse the header (metadata and tensor infos) of a GGUF file. Tensor data is not read. */
export function parseGguf(src: ByteSource): GgufFile {
  const c: Cursor = new Cursor(src);
  const magic = c.u32('magic');
  if (magic !== GGUF_MAGIC) c.fail(`not a GGUF file (magic 0x${magic.toString(16).padStart(8, '0')}, want 0x46554747 "GGUF")`, 0);
  const version = c.u32('version');
  if (version !== 2 && version !== 3) {
    c.fail(version > 0xffff ? `big-endian GGUF (version bytes ${version.toString(16)}) is not supported` : `GGUF version ${version} is not supported (2 or 3)`, 4);
  }
  const nTensors = c.count('tensor_count', MAX_TENSORS);
  const nKv = c.count('metadata_kv_count', MAX_KV);
  // Each kv takes ≥ 8 (key len) + 4 (type) + 1 bytes, each tensor info ≥ 8 + 4 + 8 + 4 + 8.
  if (nKv * 13 + nTensors * 32 > c.remaining) c.fail(`${nKv} metadata entries and ${nTensors} tensor infos cannot fit in a ${src.size}-byte file`, 8);
  const metadata = new Map<string, GgufValue>();
  for (let k = 0; k < nKv; k++) {
    const at = c.pos;
    const key = c.string(`metadata key #${k}`, MAX_KEY_BYTES);
    if (metadata.has(key)) c.fail(`duplicate metadata key '${key}'`, at);
    const t = c.valueType(`type of '${key}'`);
    metadata.set(key, c.value(t, `'${key}'`));
  }
  let alignment = GGUF_DEFAULT_ALIGNMENT;
  const al = metadata.get('general.alignment');
  if (al !== undefined) {
    const v = al.value;
    if (al.type !== 'u32' || typeof v !== 'number' || v < 8 || v > MAX_ALIGNMENT || (v & (v - 1)) !== 0) {
      c.fail(`general.alignment must be a u32 power of two in 8..${MAX_ALIGNMENT}, got ${al.type} ${String(al.value)}`);
    }
    alignment = v;
  }
  const tensors: GgufTensorInfo[] = [];
  const names = new Set<string>();
  for (let k = 0; k < nTensors; k++) {
    const at = c.pos;
    const name = c.string(`tensor #${k} name`, 4096);
    if (new TextEncoder().encode(name).length > MAX_TENSOR_NAME) c.fail(`tensor name '${name.slice(0, 80)}' is longer than ${MAX_TENSOR_NAME} bytes`, at);
    if (names.has(name)) c.fail(`duplicate tensor name '${name}'`, at);
    names.add(name);
    const nd = c.u32(`'${name}' n_dims`);
    if (nd < 1 || nd > MAX_DIMS) c.fail(`tensor '${name}': n_dims ${nd} not in 1..${MAX_DIMS}`, c.pos - 4);
    const dims: number[] = [];
    let numel = 1;
    for (let d = 0; d < nd; d++) {
      const v = c.count(`'${name}' ne[${d}]`, Number.MAX_SAFE_INTEGER);
      dims.push(v);
      numel *= v;
      if (numel > Number.MAX_SAFE_INTEGER) c.fail(`tensor '${name}': element count overflows`, c.pos - 8);
    }
    const typeAt = c.pos;
    const tid = c.u32(`'${name}' type`);
    const type = ggmlType(tid);
    if (type === undefined) c.fail(`tensor '${name}': unknown ggml type ${tid}`, typeAt);
    const nbytes = ggmlTensorBytes(type, numel, dims[0]!);
    if (nbytes === undefined) c.fail(`tensor '${name}': ne[0]=${dims[0]} is not a multiple of the ${type.name} block size ${type.block}`, typeAt);
    const offAt = c.pos;
    const offset = c.count(`'${name}' offset`, Number.MAX_SAFE_INTEGER);
    if (offset % alignment !== 0) c.fail(`tensor '${name}': offset ${offset} is not a multiple of the alignment ${alignment}`, offAt);
    tensors.push({ name, dims, shape: [...dims].reverse(), type, numel, offset, fileOffset: 0, nbytes });
  }
  const headerEnd = c.pos;
  const dataOffset = alignUp(headerEnd, alignment);
  if (nTensors > 0 && dataOffset > src.size) c.fail(`data section starts at ${dataOffset}, past the end of the ${src.size}-byte file`);
  const dataLen = src.size - dataOffset;
  let end = 0;
  for (const t of tensors) {
    if (t.offset + t.nbytes > dataLen) c.fail(`tensor '${t.name}' (${t.type.name} ${JSON.stringify(t.dims)}, ${t.nbytes} bytes at data offset ${t.offset}) runs past the end of the file: truncated?`, dataOffset + t.offset);
    t.fileOffset = dataOffset + t.offset;
    end = Math.max(end, t.offset + t.nbytes);
  }
  const sorted = [...tensors].sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.offset < sorted[i - 1]!.offset + sorted[i - 1]!.nbytes) c.fail(`tensors '${sorted[i - 1]!.name}' and '${sorted[i]!.name}' overlap`, sorted[i]!.fileOffset);
  }
  if (nTensors > 0) {
    // The data section must start where the declared alignment puts it. A file written with another
    // alignment (or without the padding) would otherwise load with every tensor shifted: the padding
    // before the data must be zeros (the spec's 0x00 padding), and at most one alignment's padding
    // may follow the last tensor (more means the data starts later than the alignment says).
    const pad = src.read(headerEnd, dataOffset - headerEnd);
    const nz = pad.findIndex((b) => b !== 0);
    if (nz >= 0) c.fail(`the padding before the data section (bytes ${headerEnd}..${dataOffset}, general.alignment ${alignment}) is not zero: the data is not at the declared alignment`, headerEnd + nz);
    if (dataLen - end >= alignment) c.fail(`${dataLen - end} bytes follow the last tensor (at most ${alignment - 1} of padding expected): the data section does not start at the offset general.alignment ${alignment} gives, or the tensor table is wrong`, dataOffset + end);
  }
  return { version, metadata, tensors, alignment, dataOffset, size: src.size, where: src.where };
}

/** Raw bytes of one tensor. */
export function ggufTensorBytes(src: ByteSource, t: GgufTensorInfo): Uint8Array {
  return src.read(t.fileOffset, t.nbytes);
}

export function alignUp(o: number, a: number): number {
  return o + ((a - (o % a)) % a);
}

// ---- metadata accessors ------------------------------------------------------------------------

/** A numeric metadata value (any integer or float type; u64/i64 must be a safe integer), or undefined. */
export function metaNumber(m: Map<string, GgufValue>, key: string): number | undefined {
  const v = m.get(key);
  if (v === undefined) return undefined;
  if (v.type === 'u64' || v.type === 'i64') {
    if (v.value > BigInt(Number.MAX_SAFE_INTEGER) || v.value < -BigInt(Number.MAX_SAFE_INTEGER)) throw new FormatError(`gguf: '${key}' = ${v.value} is too large`);
    return Number(v.value);
  }
  if (typeof v.value === 'number') return v.value;
  throw new FormatError(`gguf: '${key}' must be a number, got ${v.type}`);
}

export function metaString(m: Map<string, GgufValue>, key: string): string | undefined {
  const v = m.get(key);
  if (v === undefined) return undefined;
  if (v.type !== 'string') throw new FormatError(`gguf: '${key}' must be a string, got ${v.type}`);
  return v.value;
}

export function metaArray(m: Map<string, GgufValue>, key: string, elem?: GgufValueType): GgufArray | undefined {
  const v = m.get(key);
  if (v === undefined) return undefined;
  if (v.type !== 'array') throw new FormatError(`gguf: '${key}' must be an array, got ${v.type}`);
  if (elem !== undefined && v.value.elem !== elem) throw new FormatError(`gguf: '${key}' must be an array of ${elem}, got ${v.value.elem}`);
  return v.value;
}

// ---- writer ------------------------------------------------------------------------------------

class ByteWriter {
  private buf = new Uint8Array(1 << 16);
  private dv = new DataView(this.buf.buffer);
  len = 0;
  private room(n: number): number {
    if (this.len + n > this.buf.length) {
      const nb = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
      nb.set(this.buf.subarray(0, this.len));
      this.buf = nb;
      this.dv = new DataView(nb.buffer);
    }
    const at = this.len;
    this.len += n;
    return at;
  }
  // room() may grow (replace) buf and dv, so it runs before they are read.
  u32(v: number): void { const at = this.room(4); this.dv.setUint32(at, v, true); }
  u64(v: number | bigint): void { const at = this.room(8); this.dv.setBigUint64(at, BigInt(v), true); }
  bytes(b: Uint8Array): void { const at = this.room(b.length); this.buf.set(b, at); }
  string(s: string): void {
    const b = new TextEncoder().encode(s);
    this.u64(b.length);
    this.bytes(b);
  }
  scalar(t: Exclude<GgufValueType, 'string' | 'array'>, v: number | bigint | boolean, what: string): void {
    const i = this.room(SIZE[t]);
    const dv = this.dv;
    const num = (): number => {
      if (typeof v !== 'number') throw new FormatError(`gguf writer: ${what} must be a number for type ${t}`);
      return v;
    };
    const int = (lo: number, hi: number): number => {
      const n = num();
      if (!Number.isInteger(n) || n < lo || n > hi) throw new FormatError(`gguf writer: ${what} = ${n} is not a valid ${t}`);
      return n;
    };
    switch (t) {
      case 'u8': dv.setUint8(i, int(0, 255)); break;
      case 'i8': dv.setInt8(i, int(-128, 127)); break;
      case 'u16': dv.setUint16(i, int(0, 65535), true); break;
      case 'i16': dv.setInt16(i, int(-32768, 32767), true); break;
      case 'u32': dv.setUint32(i, int(0, 0xffffffff), true); break;
      case 'i32': dv.setInt32(i, int(-0x80000000, 0x7fffffff), true); break;
      case 'f32': dv.setFloat32(i, num(), true); break;
      case 'f64': dv.setFloat64(i, num(), true); break;
      case 'u64': dv.setBigUint64(i, BigInt(v as bigint | number), true); break;
      case 'i64': dv.setBigInt64(i, BigInt(v as bigint | number), true); break;
      case 'bool':
        if (typeof v !== 'boolean') throw new FormatError(`gguf writer: ${what} must be a boolean`);
        dv.setUint8(i, v ? 1 : 0);
        break;
    }
  }
  item(t: GgufValueType, v: GgufItem, what: string): void {
    if (t === 'string') {
      if (typeof v !== 'string') throw new FormatError(`gguf writer: ${what} must be a string`);
      this.string(v);
    } else if (t === 'array') {
      if (typeof v !== 'object') throw new FormatError(`gguf writer: ${what} must be an array`);
      this.array(v, what);
    } else this.scalar(t, v as number | bigint | boolean, what);
  }
  array(a: GgufArray, what: string): void {
    this.u32(GGUF_VALUE_TYPES.indexOf(a.elem));
    this.u64(a.items.length);
    a.items.forEach((x, k) => this.item(a.elem, x, `${what}[${k}]`));
  }
  take(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

export interface GgufTensorSpec {
  name: string;
  /** ggml order (innermost first). */
  dims: number[];
  type: GgmlType;
}

/**
 * Header bytes (through the padding before the data section) and each tensor's data offset and size.
 * The alignment comes from `general.alignment` if present (default 32). Tensors are laid out in order.
 */
export function serializeGgufHeader(metadata: Map<string, GgufValue>, tensors: GgufTensorSpec[]): { header: Uint8Array; offsets: number[]; sizes: number[]; alignment: number } {
  const al = metadata.get('general.alignment');
  let alignment = GGUF_DEFAULT_ALIGNMENT;
  if (al !== undefined) {
    if (al.type !== 'u32' || al.value === 0 || (al.value & (al.value - 1)) !== 0 || al.value % 8 !== 0) throw new FormatError('gguf writer: general.alignment must be a u32 power of two ≥ 8');
    alignment = al.value;
  }
  const w = new ByteWriter();
  w.u32(GGUF_MAGIC);
  w.u32(GGUF_VERSION);
  w.u64(tensors.length);
  w.u64(metadata.size);
  for (const [key, v] of metadata) {
    if (key.length === 0 || new TextEncoder().encode(key).length > MAX_KEY_BYTES) throw new FormatError(`gguf writer: bad key '${key}'`);
    w.string(key);
    w.u32(GGUF_VALUE_TYPES.indexOf(v.type));
    if (v.type === 'array') w.array(v.value, key);
    else w.item(v.type, v.value, key);
  }
  const offsets: number[] = [];
  const sizes: number[] = [];
  const seen = new Set<string>();
  let off = 0;
  for (const t of tensors) {
    if (new TextEncoder().encode(t.name).length > MAX_TENSOR_NAME) throw new FormatError(`gguf writer: tensor name '${t.name}' is longer than ${MAX_TENSOR_NAME} bytes`);
    if (seen.has(t.name)) throw new FormatError(`gguf writer: duplicate tensor '${t.name}'`);
    seen.add(t.name);
    if (t.dims.length < 1 || t.dims.length > MAX_DIMS) throw new FormatError(`gguf writer: tensor '${t.name}' has ${t.dims.length} dims (1..4)`);
    const numel = t.dims.reduce((a, b) => a * b, 1);
    const nbytes = ggmlTensorBytes(t.type, numel, t.dims[0]!);
    if (nbytes === undefined) throw new FormatError(`gguf writer: tensor '${t.name}' ne[0]=${t.dims[0]} is not a multiple of the ${t.type.name} block size ${t.type.block}`);
    w.string(t.name);
    w.u32(t.dims.length);
    for (const d of t.dims) w.u64(d);
    w.u32(t.type.id);
    w.u64(off);
    offsets.push(off);
    sizes.push(nbytes);
    off = alignUp(off + nbytes, alignment);
  }
  const pad = alignUp(w.len, alignment) - w.len;
  w.bytes(new Uint8Array(pad));
  return { header: w.take(), offsets, sizes, alignment };
}

/**
 * The whole file as a chunk sequence: header, then each tensor's bytes (from `data(i)`, produced lazily,
 * one tensor at a time) followed by its padding. Pass it to atomicWriteFile.
 */
export function* ggufChunks(metadata: Map<string, GgufValue>, tensors: GgufTensorSpec[], data: (i: number) => Uint8Array): Generator<Uint8Array> {
  const { header, sizes, alignment } = serializeGgufHeader(metadata, tensors);
  yield header;
  for (let i = 0; i < tensors.length; i++) {
    const b = data(i);
    if (b.length !== sizes[i]) throw new FormatError(`gguf writer: tensor '${tensors[i]!.name}' data is ${b.length} bytes, its ${tensors[i]!.type.name} ${JSON.stringify(tensors[i]!.dims)} layout needs ${sizes[i]}`);
    yield b;
    const pad = i + 1 < tensors.length ? alignUp(b.length, alignment) - b.length : 0;
    if (pad) yield new Uint8Array(pad);
  }
}
