/**
 * Node file helpers: atomic writes (temp file in the same directory + rename, so a
 * crash never leaves a partial file under the real name) and safetensors files.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { bytesOf, parseSafetensors, serializeHeader, type Parsed, type StDType } from './safetensors.js';

let tmpCounter = 0;

/** Write `data` (text, bytes, or a sequence of byte chunks) to `path` atomically. */
export function atomicWriteFile(path: string, data: string | Uint8Array | Iterable<Uint8Array>): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${tmpCounter++}.tmp`);
  const fd = openSync(tmp, 'w');
  try {
    const parts: Iterable<Uint8Array> = typeof data === 'string' ? [new TextEncoder().encode(data)] : data instanceof Uint8Array ? [data] : data;
    for (const c of parts) {
      let off = 0;
      while (off < c.byteLength) off += writeSync(fd, c, off, c.byteLength - off);
    }
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
}

export interface TensorOut {
  dtype: StDType;
  shape: number[];
  data: ArrayBufferView;
}

/** Save tensors (in the given order) and string metadata as a safetensors file, atomically. */
export function saveSafetensors(path: string, tensors: Array<[string, TensorOut]>, metadata: Record<string, string> = {}): void {
  const header = serializeHeader(tensors.map(([n, t]) => [n, { dtype: t.dtype, shape: t.shape, byteLength: t.data.byteLength }]), metadata);
  atomicWriteFile(path, [header, ...tensors.map(([, t]) => bytesOf(t.data))]);
}

export function loadSafetensors(path: string): Parsed {
  return parseSafetensors(new Uint8Array(readFileSync(path)));
}
