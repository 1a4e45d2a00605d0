/**
 * GGUF model files (Node): open a path (`loadGguf`) and write one (`writeGguf`, atomically). The format
 * itself — reading from any ByteSource, the tensor and metadata mapping, the writer's bytes — is
 * src/interop/gguf_source.ts, which runs in any engine (the page reads a GGUF Blob through it).
 */
import type { WeightSource } from '../weights/source.js';
import { openFileSource, type FileSource } from '../io/byte_source.js';
import { atomicWriteFile } from '../io/files.js';
import { ggufFileChunks, ggufModelFrom, type GgufModel, type WriteGgufOptions } from './gguf_source.js';

export * from './gguf_source.js';

/** Open a GGUF model: header parsed and checked against the config; tensors read on demand. */
export function loadGguf(path: string): GgufModel {
  const src: FileSource = openFileSource(path);
  try {
    return ggufModelFrom(src, () => src.close());
  } catch (e) {
    src.close();
    throw e;
  }
}

/** Only the WeightSource (the file stays open for the life of the process; use loadGguf to close it). */
export function sourceFromGguf(path: string): WeightSource {
  return loadGguf(path).source;
}

/** Write `source` as a GGUF v3 file for llama.cpp (architecture `bitnet`), atomically, one tensor at a time. */
export function writeGguf(path: string, source: WeightSource, opts: WriteGgufOptions = {}): void {
  atomicWriteFile(path, ggufFileChunks(source, opts));
}
