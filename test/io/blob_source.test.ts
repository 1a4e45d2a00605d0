/**
 * blobSource (a Blob as a synchronous ByteSource, FileReaderSync in the page's worker) and the file sets a
 * model comes as: bytes and bounds, reads in pieces, truncation and read failures as FormatError, the
 * default FileReaderSync path, folder names of picked files.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ArgumentError, FormatError } from '../../src/errors.js';
import { blobFileSet, blobSource, fileSetOf, readText } from '../../src/io/blob_source.js';
import { dirFileSet } from '../../src/io/byte_source.js';
import { bufferSource, parseGguf } from '../../src/io/gguf.js';
import { ggufFileChunks } from '../../src/interop/gguf_source.js';
import { makeConfig } from '../../src/model/config.js';
import { syntheticSource } from '../../src/weights/synthetic.js';
import { BytesBlob, readBytes } from '../helpers/blobs.js';

const bytes = (n: number, seed = 7) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 255);

describe('blobSource', () => {
  test('reads exactly the bytes asked for, and readInto fills a destination at any offset', () => {
    const data = bytes(1000);
    const src = blobSource(new BytesBlob(data), 'x.bin', readBytes);
    assert.equal(src.size, 1000);
    assert.equal(src.where, 'x.bin');
    assert.deepEqual(src.read(0, 0), new Uint8Array(0));
    assert.deepEqual(src.read(3, 10), data.subarray(3, 13));
    assert.deepEqual(src.read(990, 10), data.subarray(990));
    const dst = new Uint8Array(20).fill(0xee);
    src.readInto(dst.subarray(5, 15), 100);
    assert.deepEqual(dst.subarray(5, 15), data.subarray(100, 110));
    assert.equal(dst[4], 0xee);
    assert.equal(dst[15], 0xee);
  });

  test('reads outside the blob are FormatErrors naming the file and the range', () => {
    const src = blobSource(new BytesBlob(bytes(100)), 'model.gguf', readBytes);
    for (const [o, n] of [[95, 6], [100, 1], [-1, 2], [0, 101], [0.5, 1], [0, -1]] as const) {
      assert.throws(() => src.read(o, n), (e: unknown) => e instanceof FormatError && /model\.gguf: read \[.*\) outside the 100-byte file/.test(e.message), `${o}, ${n}`);
    }
    assert.throws(() => src.readInto(new Uint8Array(10), 95), FormatError);
  });

  test('a short read (the file shrank after it was chosen) and a failing read are FormatErrors', () => {
    const short = blobSource(new BytesBlob(bytes(100)), 'cut.gguf', (b: BytesBlob) => b.bytes.slice(0, Math.max(0, b.size - 1)));
    assert.throws(() => short.read(10, 20), /cut\.gguf: read 19 of 20 bytes at byte 10: the file is shorter than it was/);
    const failing = blobSource(new BytesBlob(bytes(100)), 'gone.gguf', () => {
      throw Object.assign(new Error('A requested file or directory could not be found'), { name: 'NotFoundError' });
    });
    assert.throws(() => failing.read(0, 4), (e: unknown) => e instanceof FormatError && /gone\.gguf: cannot read bytes \[0, 4\): A requested file.*changed or removed/.test(e.message));
  });

  test('readInto reads a large destination in pieces of at most 16 MiB', () => {
    const n = (40 << 20) + 3;
    const data = new Uint8Array(n);
    for (let i = 0; i < n; i += 4093) data[i] = (i >> 12) & 255;
    const sizes: number[] = [];
    const src = blobSource(new BytesBlob(data), 'big', (b: BytesBlob) => {
      sizes.push(b.size);
      return b.bytes.slice();
    });
    const dst = new Uint8Array(n);
    src.readInto(dst, 0);
    assert.deepEqual(sizes, [16 << 20, 16 << 20, (8 << 20) + 3]);
    assert.ok(dst.every((x, i) => x === data[i]));
  });

  test('the default reader is FileReaderSync; without one (Node, a page\'s main thread) an ArgumentError says so', () => {
    assert.throws(() => blobSource(new BytesBlob(bytes(4)), 'm.gguf'), (e: unknown) => e instanceof ArgumentError && /needs FileReaderSync/.test(e.message));
    const g = globalThis as { FileReaderSync?: unknown };
    const calls: number[] = [];
    g.FileReaderSync = class {
      readAsArrayBuffer(b: BytesBlob): ArrayBuffer {
        calls.push(b.size);
        return b.bytes.slice().buffer;
      }
    };
    try {
      const src = blobSource(new BytesBlob(bytes(64)), 'm.gguf');
      assert.deepEqual(src.read(8, 8), bytes(64).subarray(8, 16));
      assert.deepEqual(calls, [8]);
    } finally {
      delete g.FileReaderSync;
    }
  });

  test('the GGUF reader runs on it unchanged: the same header as from a buffer; cut short, a FormatError', () => {
    const c = makeConfig('tiny', { dim: 256, ffnDim: 512, nHeads: 4, nKvHeads: 2, vocabSize: 300, maxSeqLen: 32, nLayers: 1 });
    const parts = [...ggufFileChunks(syntheticSource(c, 3))];
    const file = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
    parts.reduce((o, p) => (file.set(p, o), o + p.length), 0);
    const viaBlob = parseGguf(blobSource(new BytesBlob(file), 'm.gguf', readBytes));
    const viaBuf = parseGguf(bufferSource(file, 'm.gguf'));
    assert.deepEqual(viaBlob.tensors.map((t) => [t.name, t.fileOffset, t.nbytes]), viaBuf.tensors.map((t) => [t.name, t.fileOffset, t.nbytes]));
    assert.throws(() => parseGguf(blobSource(new BytesBlob(file.subarray(0, file.length - 100)), 'cut.gguf', readBytes)), FormatError);
  });
});

describe('file sets', () => {
  test('a picked folder: names are its own files (subfolders left out), where = the folder', () => {
    const set = blobFileSet([
      { name: 'm/config.json', blob: new BytesBlob(new TextEncoder().encode('{"a":1}')) },
      { name: 'm/model.safetensors', blob: new BytesBlob(bytes(10)) },
      { name: 'm/original/model.safetensors', blob: new BytesBlob(bytes(3)) },
    ], readBytes);
    assert.equal(set.where, 'm');
    assert.deepEqual(set.names, ['config.json', 'model.safetensors']);
    assert.equal(set.open('model.safetensors')!.size, 10);
    assert.equal(set.open('original/model.safetensors'), undefined);
    assert.equal(readText(set, 'config.json'), '{"a":1}');
    assert.equal(readText(set, 'missing.json'), undefined);
  });

  test('several picked files: plain names; one file: where = its name; none or two of one name: ArgumentError; text must be UTF-8', () => {
    const two = blobFileSet([{ name: 'a.json', blob: new BytesBlob(Uint8Array.of(0xff, 0xfe)) }, { name: 'b.gguf', blob: new BytesBlob(bytes(4)) }], readBytes);
    assert.deepEqual(two.names, ['a.json', 'b.gguf']);
    assert.equal(two.where, 'the chosen files');
    assert.throws(() => readText(two, 'a.json'), (e: unknown) => e instanceof FormatError && /a\.json: not UTF-8/.test(e.message));
    assert.equal(blobFileSet([{ name: 'x.gguf', blob: new BytesBlob(bytes(4)) }], readBytes).where, 'x.gguf');
    assert.throws(() => blobFileSet([], readBytes), ArgumentError);
    assert.throws(() => fileSetOf([bufferSource(bytes(1), 'd/a'), bufferSource(bytes(1), 'e/a')], 'x'), /two files named 'a'/);
  });

  test('dirFileSet (Node): the folder\'s regular files, no dot-files, no subfolders; each open is a fresh source', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fileset-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'config.json'), '{}');
    writeFileSync(join(dir, '.hidden'), 'x');
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'y.json'), '{}');
    const set = dirFileSet(dir);
    assert.deepEqual(set.names, ['config.json']);
    const f = set.open('config.json')!;
    assert.deepEqual(f.read(0, 2), new TextEncoder().encode('{}'));
    f.close?.();
    assert.equal(set.open('.hidden'), undefined);
    assert.throws(() => dirFileSet(join(dir, 'nope')), ArgumentError);
  });
});
