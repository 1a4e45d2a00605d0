/**
 * Random access to a Blob (a picked File, a fetched response's blob), synchronously — the ByteSource
 * the format readers take (src/io/gguf.ts), so the same readers that run on a file descriptor in Node
 * (src/io/byte_source.ts) run on a Blob in a Web Worker, where `FileReaderSync` reads a slice without
 * awaiting. Only the slices asked for are read; the Blob is never one ArrayBuffer.
 *
 * And the file sets a model may come as: a name → ByteSource map (the files of a Hugging Face folder, one
 * GGUF, one model file), with the same interface for a folder on disk (Node: `dirFileSet`,
 * src/io/byte_source.ts) and the files a page was given (`blobFileSet`).
 *
 * No `node:` imports: this module runs in any engine. Where there is no FileReaderSync (a page's main
 * thread, Node) a reader of Blob slices can be handed in.
 */
import { ArgumentError, FormatError } from '../errors.js';
import type { ByteSource } from './gguf.js';

/** What blobSource needs of a Blob: its size and slices. */
export interface SliceableBlob {
  readonly size: number;
  slice(start: number, end: number): SliceableBlob;
}

/** A ByteSource that can also read straight into a destination (a view into WASM memory, say). */
export interface RandomAccessSource extends ByteSource {
  /** Fill dst with bytes [offset, offset + dst.length). */
  readInto(dst: Uint8Array, offset: number): void;
  close?(): void;
}

/** Largest single slice readInto reads (bounds the transient buffer). */
const READ_PIECE = 16 << 20;

interface FileReaderSyncLike {
  readAsArrayBuffer(blob: unknown): ArrayBuffer;
}

/** The engine's FileReaderSync (dedicated and shared workers), or undefined. */
function fileReaderSync(): FileReaderSyncLike | undefined {
  const C = (globalThis as { FileReaderSync?: new () => FileReaderSyncLike }).FileReaderSync;
  return C === undefined ? undefined : new C();
}

/**
 * `blob` as a synchronous ByteSource. `readPart(slice)` returns a slice's bytes; by default FileReaderSync
 * (a Web Worker), and elsewhere an ArgumentError says one is needed. Reads outside the blob, or a read that
 * comes back short (a file truncated or changed after it was chosen), are FormatErrors naming `where`.
 */
export function blobSource<B extends SliceableBlob>(blob: B, where = 'blob', readPart?: (part: B) => ArrayBuffer | Uint8Array): RandomAccessSource {
  let read: (part: B) => ArrayBuffer | Uint8Array;
  if (readPart !== undefined) read = readPart;
  else {
    const fr = fileReaderSync();
    if (fr === undefined) throw new ArgumentError(`${where}: reading a Blob synchronously needs FileReaderSync (a Web Worker); elsewhere pass a reader`);
    read = (part) => fr.readAsArrayBuffer(part);
  }
  const size = blob.size;
  const part = (offset: number, length: number): Uint8Array => {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > size) {
      throw new FormatError(`${where}: read [${offset}, ${offset + length}) outside the ${size}-byte file (truncated?)`);
    }
    let got: ArrayBuffer | Uint8Array;
    try {
      got = read(blob.slice(offset, offset + length) as B);
    } catch (e) {
      if (e instanceof FormatError || e instanceof ArgumentError) throw e;
      throw new FormatError(`${where}: cannot read bytes [${offset}, ${offset + length}): ${(e as Error).message} (was the file changed or removed after it was chosen?)`);
    }
    const bytes = got instanceof Uint8Array ? got : new Uint8Array(got);
    if (bytes.length !== length) throw new FormatError(`${where}: read ${bytes.length} of ${length} bytes at byte ${offset}: the file is shorter than it was (truncated?)`);
    return bytes;
  };
  return {
    size,
    where,
    read: part,
    readInto(dst, offset) {
      // In pieces: a large array (a 2B model's embedding) is never one more buffer of its size.
      for (let o = 0; o < dst.length; o += READ_PIECE) dst.set(part(offset + o, Math.min(READ_PIECE, dst.length - o)), o);
    },
  };
}

// ---- file sets ---------------------------------------------------------------------------------

/** A model's files by plain name (no folders): a folder on disk, or the files a page was given. */
export interface FileSet {
  /** The folder (or the one file) the set stands for, for messages. */
  readonly where: string;
  /** Names of the files, sorted. */
  readonly names: readonly string[];
  /** Random access to one file (undefined when the set has no such file). Close it when done. */
  open(name: string): (ByteSource & { close?(): void; readInto?(dst: Uint8Array, offset: number): void }) | undefined;
}

/** A FileSet over sources already open (kept open; `open` hands out the same source). */
export function fileSetOf(files: Iterable<ByteSource & { close?(): void }>, where: string): FileSet {
  const byName = new Map<string, ByteSource>();
  for (const f of files) {
    const name = baseName(f.where);
    if (byName.has(name)) throw new ArgumentError(`${where}: two files named '${name}'`);
    byName.set(name, f);
  }
  return {
    where,
    names: [...byName.keys()].sort(),
    open: (name) => {
      const s = byName.get(name);
      return s === undefined ? undefined : { size: s.size, where: s.where, read: (o, n) => s.read(o, n), ...('readInto' in s ? { readInto: (s as RandomAccessSource).readInto } : {}) };
    },
  };
}

/** The last path segment of `p` (either slash). */
export function baseName(p: string): string {
  const i = Math.max(p.lastIndexOf('/'), p.lastIndexOf('\\'));
  return i < 0 ? p : p.slice(i + 1);
}

/** A named blob: a File (its name, or its path in a picked folder) or a blob with the name it was fetched under. */
export interface NamedBlob<B extends SliceableBlob = SliceableBlob> {
  /** The file's name, or its path relative to a picked folder ("folder/config.json"). */
  name: string;
  blob: B;
}

/**
 * The files a page was given as a FileSet: several picked files, or a picked folder (names are paths
 * under it; only the folder's own files count, its subfolders are ignored). `where` is the folder's
 * name, or the file's name when there is one.
 */
export function blobFileSet<B extends SliceableBlob>(files: ReadonlyArray<NamedBlob<B>>, readPart?: (part: B) => ArrayBuffer | Uint8Array): FileSet {
  if (files.length === 0) throw new ArgumentError('no files chosen');
  const segs = files.map((f) => f.name.split('/').filter((s) => s.length > 0));
  const depth = Math.min(...segs.map((s) => s.length));
  const folder = depth > 1 ? segs[0]!.slice(0, depth - 1).join('/') : undefined;
  const top = files.filter((_, i) => segs[i]!.length === depth && (folder === undefined || segs[i]!.slice(0, depth - 1).join('/') === folder));
  const sources = top.map((f) => blobSource(f.blob, f.name, readPart));
  return fileSetOf(sources, folder ?? (top.length === 1 ? top[0]!.name : 'the chosen files'));
}

/** A file of the set as UTF-8 text (FormatError when it is not UTF-8). */
export function readText(set: FileSet, name: string): string | undefined {
  const f = set.open(name);
  if (f === undefined) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(f.read(0, f.size));
  } catch (e) {
    if (e instanceof FormatError || e instanceof ArgumentError) throw e;
    throw new FormatError(`${f.where}: not UTF-8 text`);
  } finally {
    f.close?.();
  }
}
