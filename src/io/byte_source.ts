/**
 * Random access to a file (Node): the ByteSource the GGUF and streamed safetensors readers use, so a
 * multi-GB model is read one tensor at a time instead of whole. A folder as a FileSet (the interface the
 * page's picked files have too, src/io/blob_source.ts): `dirFileSet`.
 */
import { closeSync, fstatSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ArgumentError, FormatError } from '../errors.js';
import type { FileSet } from './blob_source.js';
import type { ByteSource } from './gguf.js';

export interface FileSource extends ByteSource {
  /** Fill dst with bytes [offset, offset + dst.length): positioned reads straight into dst (a view into WASM memory, say), no intermediate copy. */
  readInto(dst: Uint8Array, offset: number): void;
  close(): void;
}

/** Open `path` for random-access reads. Call close() when done (readers that open a file close it themselves). */
export function openFileSource(path: string): FileSource {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new ArgumentError(`cannot open ${path}: ${(e as Error).message}`);
  }
  const size = fstatSync(fd).size;
  let open = true;
  function readInto(dst: Uint8Array, offset: number): void {
    if (!open) throw new ArgumentError(`${path}: read after close`);
    const length = dst.length;
    if (offset < 0 || offset + length > size) throw new FormatError(`${path}: read [${offset}, ${offset + length}) outside the ${size}-byte file (truncated?)`);
    let done = 0;
    while (done < length) {
      const n = readSync(fd, dst, done, Math.min(length - done, 1 << 30), offset + done);
      if (n === 0) throw new FormatError(`${path}: file shrank while reading (at byte ${offset + done})`);
      done += n;
    }
  }
  return {
    size,
    where: path,
    read(offset: number, length: number): Uint8Array {
      if (!open) throw new ArgumentError(`${path}: read after close`);
      if (offset < 0 || length < 0 || offset + length > size) throw new ArgumentError(`${path}: read [${offset}, ${offset + length}) outside the ${size}-byte file`);
      const out = new Uint8Array(length);
      readInto(out, offset);
      return out;
    },
    readInto,
    close() {
      if (open) closeSync(fd);
      open = false;
    },
  };
}

/**
 * The regular files directly in `dir` as a FileSet: each `open` opens the file (the reader closes it after
 * its read), so nothing stays open between reads. Subfolders and dot-files are not part of the set.
 */
export function dirFileSet(dir: string): FileSet {
  let names: string[];
  try {
    names = readdirSync(dir).filter((f) => !f.startsWith('.') && statSync(join(dir, f)).isFile()).sort();
  } catch (e) {
    throw new ArgumentError(`cannot read the folder ${dir}: ${(e as Error).message}`);
  }
  const has = new Set(names);
  return { where: dir, names, open: (name) => (has.has(name) ? openFileSource(join(dir, name)) : undefined) };
}
