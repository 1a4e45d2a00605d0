/**
 * loadModelFromFiles (src/load/model_files.ts), the page's loader, run in Node over the same Blob read path
 * (blobSource with the one synchronous read injected, test/helpers/blobs.ts) and over a folder on disk: each
 * format is recognised from its contents and generates the greedy tokens `loadModel(path)` does; progress
 * counts up to its total; files that are none of them, or cut short, are FormatErrors naming the file.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FormatError } from '../../src/errors.js';
import { blobFileSet } from '../../src/io/blob_source.js';
import { dirFileSet } from '../../src/io/byte_source.js';
import { saveSafetensors } from '../../src/io/files.js';
import { generate } from '../../src/infer/generate.js';
import { loadModel } from '../../src/load/open.js';
import { loadModelFromFiles, memoryLine, openModelFiles } from '../../src/load/model_files.js';
import type { LoadedModel } from '../../src/load/loaded_model.js';
import { BytesBlob, fileBlob, folderBlobs, readBytes } from '../helpers/blobs.js';
import { writeFormats, type FormatFiles } from '../helpers/formats.js';

const PROMPT = 'The state of the Union is';

async function greedy(m: LoadedModel): Promise<number[]> {
  try {
    return (await generate(m.session(), m.tokenizer!, PROMPT, { maxTokens: 12, temperature: 0 })).tokens;
  } finally {
    await m.dispose();
  }
}

describe('loadModelFromFiles: every format from its files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'model-files-'));
  let f: FormatFiles;
  let expected: number[];
  before(async () => {
    f = writeFormats(dir);
    expected = await greedy(await loadModel(f.tq2, { threads: 1 }));
    assert.equal(expected.length > 0, true);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('GGUF TQ2_0 / TQ1_0, model file, HF folder (picked as blobs): the kind, and the tokens loadModel(path) gives', async () => {
    const cases = [
      ['gguf', [fileBlob(f.tq2)], f.tq2],
      ['gguf', [fileBlob(f.tq1)], f.tq1],
      ['model-file', [fileBlob(f.modelFile)], f.modelFile],
      ['hf', folderBlobs(f.hf), f.hf],
    ] as const;
    for (const [kind, blobs, path] of cases) {
      const progress: Array<[number, number]> = [];
      const m = await loadModelFromFiles(blobFileSet(blobs, readBytes), { threads: 1, requireTokenizer: true, onProgress: (d, t) => progress.push([d, t]) });
      assert.equal(m.kind, kind, path);
      const total = progress[progress.length - 1]![1];
      assert.deepEqual(progress[progress.length - 1], [total, total], path);
      assert.ok(progress.every(([d, t], i) => t === total && (i === 0 || d >= progress[i - 1]![0])), path);
      const session = m.session();
      assert.match(memoryLine(m.model, session, 1234), /^memory: weights [\d.]+ MiB \(i2, head f32\), KV cache [\d.]+ MiB \(f16, ctx 64\) · load 1\.23 s$/);
      assert.deepEqual(await greedy(m), expected, path);
      assert.deepEqual(await greedy(await loadModel(path, { threads: 1 })), expected, path); // Node's own path agrees
    }
  });

  test('an HF folder on disk (dirFileSet) and an HF folder picked as loose files give the same model', async () => {
    assert.deepEqual(await greedy(await loadModelFromFiles(dirFileSet(f.hf), { threads: 1 })), expected);
    const loose = folderBlobs(f.hf).map((b) => ({ ...b, name: b.name.split('/').pop()! }));
    const m = await loadModelFromFiles(blobFileSet(loose, readBytes), { threads: 1 });
    assert.equal(m.where, 'the chosen files');
    assert.deepEqual(await greedy(m), expected);
  });

  test('a GGUF picked with other files (no config.json) is the one model; two model files are a FormatError', () => {
    const o = openModelFiles(blobFileSet([fileBlob(f.tq2), { name: 'notes.json', blob: new BytesBlob(new TextEncoder().encode('{}')) }], readBytes));
    assert.equal(o.kind, 'gguf');
    o.close();
    assert.throws(() => openModelFiles(blobFileSet([fileBlob(f.tq2), fileBlob(f.tq1)], readBytes)),
      (e: unknown) => e instanceof FormatError && /2 files \(tiny-tq1_0\.gguf, tiny-tq2_0\.gguf\) and no config\.json/.test(e.message));
  });

  test('not a model, or cut short: FormatError naming the file, before any backend exists', async () => {
    const text = { name: 'notes.txt', blob: new BytesBlob(new TextEncoder().encode('this is not a model file at all, just text')) };
    await assert.rejects(loadModelFromFiles(blobFileSet([text], readBytes)), (e: unknown) => e instanceof FormatError && /^notes\.txt: neither a GGUF file \(no GGUF magic\) nor a safetensors model file/.test(e.message));
    const other = join(dir, 'weights.safetensors');
    saveSafetensors(other, [['w', { dtype: 'F32', shape: [2], data: Float32Array.of(1, 2) }]]);
    await assert.rejects(loadModelFromFiles(blobFileSet([fileBlob(other)], readBytes)), /weights\.safetensors: a safetensors file but not a bitnet-ts-model file/);
    for (const path of [f.tq2, f.tq1, f.modelFile]) {
      const bytes = new Uint8Array(readFileSync(path));
      const cut = { name: 'cut', blob: new BytesBlob(bytes.subarray(0, Math.floor(bytes.length * 0.6))) };
      await assert.rejects(loadModelFromFiles(blobFileSet([cut], readBytes), { threads: 1 }), (e: unknown) => e instanceof FormatError && /cut/.test(e.message), path);
    }
    // An HF folder whose shard is cut: its tensor ranges run past the end.
    const hf = folderBlobs(f.hf).map((b) => (b.name.endsWith('.safetensors') ? { ...b, blob: b.blob.slice(0, b.blob.size - 1000) } : b));
    await assert.rejects(loadModelFromFiles(blobFileSet(hf, readBytes), { threads: 1 }), FormatError);
    // A bad config.json is named.
    writeFileSync(join(dir, 'config.json'), '{"model_type": "bitnet", "hidden_size": "wide"}');
    await assert.rejects(loadModelFromFiles(blobFileSet([...folderBlobs(f.hf).filter((b) => !b.name.endsWith('config.json')), fileBlob(join(dir, 'config.json'), 'tiny-hf/config.json')], readBytes)),
      /config\.json: 'hidden_size' must be a finite number/);
  });
});
