/**
 * Blobs for Node tests of the page's read path (src/io/blob_source.ts): Node has Blob but no FileReaderSync,
 * so these hold their bytes and `readBytes` plays FileReaderSync's part — the same blobSource code runs, with
 * the one synchronous read injected. (In the page FileReaderSync itself runs: test/web/formats.test.ts.)
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { NamedBlob, SliceableBlob } from '../../src/io/blob_source.js';

export class BytesBlob implements SliceableBlob {
  constructor(readonly bytes: Uint8Array) {}
  get size(): number {
    return this.bytes.length;
  }
  slice(start: number, end: number): BytesBlob {
    return new BytesBlob(this.bytes.subarray(start, end));
  }
}

/** The reader blobSource is handed in Node: a slice's bytes (a copy, as FileReaderSync gives a fresh buffer). */
export const readBytes = (b: BytesBlob): Uint8Array => b.bytes.slice();

/** The files of a folder as the page sees a picked folder: names "<folder>/<file>", subfolders included. */
export function folderBlobs(dir: string, prefix = basename(dir)): Array<NamedBlob<BytesBlob>> {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? folderBlobs(p, `${prefix}/${f}`) : [{ name: `${prefix}/${f}`, blob: new BytesBlob(new Uint8Array(readFileSync(p))) }];
  });
}

/** One file as a picked file. */
export function fileBlob(path: string, name = basename(path)): NamedBlob<BytesBlob> {
  return { name, blob: new BytesBlob(new Uint8Array(readFileSync(path))) };
}
