/**
 * safetensors files read and written one tensor at a time (Node), so multi-GB checkpoints never need
 * the whole file (or 2× it) in memory. The byte layout and the header validation are those of
 * src/io/safetensors.ts (header length bound, dtype/shape/offset checks, no overlaps); data is read
 * through a ByteSource only for the tensor asked for.
 */
import { FormatError } from '../errors.js';
import { openFileSource, type FileSource } from './byte_source.js';
import { atomicWriteFile } from './files.js';
import type { ByteSource } from './gguf.js';
import { MAX_HEADER_BYTES, ST_ITEMSIZE, parseHeader, serializeHeader, type StDType, type StTensor } from './safetensors.js';

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

/** Open a safetensors file for tensor-at-a-time reading. */
export function openSafetensors(path: string): SafetensorsReader {
  const src: FileSource = openFileSource(path);
  try {
    return safetensorsReader(src);
  } catch (e) {
    src.close();
    throw e;
  }
}

export interface StSpec {
  name: string;
  dtype: StDType;
  shape: number[];
}

/**
 * Write a safetensors file atomically, producing each tensor's bytes only when it is written
 * (`data(i)` for specs[i], called once, in order). Peak memory: the header plus one tensor.
 */
export function writeSafetensorsStream(path: string, specs: StSpec[], data: (i: number) => Uint8Array, metadata: Record<string, string> = {}): void {
  const sizes = specs.map((s) => s.shape.reduce((a, b) => a * b, 1) * ST_ITEMSIZE[s.dtype]);
  const header = serializeHeader(specs.map((s, i) => [s.name, { dtype: s.dtype, shape: s.shape, byteLength: sizes[i]! }]), metadata);
  function* chunks(): Generator<Uint8Array> {
    yield header;
    for (let i = 0; i < specs.length; i++) {
      const b = data(i);
      if (b.byteLength !== sizes[i]) throw new FormatError(`safetensors writer: tensor '${specs[i]!.name}' data is ${b.byteLength} bytes, ${specs[i]!.dtype}${JSON.stringify(specs[i]!.shape)} needs ${sizes[i]}`);
      yield b;
    }
  }
  atomicWriteFile(path, chunks());
}
