/**
 * safetensors files read and written one tensor at a time (Node), so multi-GB checkpoints never need
 * the whole file (or 2× it) in memory. The byte layout and the header validation are those of
 * src/io/safetensors.ts (header length bound, dtype/shape/offset checks, no overlaps); data is read
 * through a ByteSource only for the tensor asked for.
 */
import { FormatError } from '../errors.js';
import { openFileSource, type FileSource } from './byte_source.js';
import { atomicWriteFile } from './files.js';
import { ST_ITEMSIZE, safetensorsReader, serializeHeader, type SafetensorsReader, type StDType } from './safetensors.js';

export { safetensorsReader, type SafetensorsReader, type StEntry } from './safetensors.js';

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
