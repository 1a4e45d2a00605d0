/**
 * The Hugging Face reader over a file set (src/interop/hf_source.ts, `hfModelFrom`): the files of an exported
 * folder handed over as picked blobs read the same config, tensors, tokenizer and chat template as
 * `loadHF(dir)`; shards are found through the index among the picked files; a missing shard, a shard name
 * with a folder in it, and a missing config.json are FormatErrors naming the file.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { FormatError } from '../../src/errors.js';
import { blobFileSet } from '../../src/io/blob_source.js';
import { parseSafetensors, serializeHeader } from '../../src/io/safetensors.js';
import { exportHF, hfModelFrom, loadHF } from '../../src/interop/hf.js';
import { paramTable } from '../../src/model/transformer.js';
import { makeConfig } from '../../src/model/config.js';
import { syntheticSource } from '../../src/weights/synthetic.js';
import { trainBpe } from '../../src/tokenizer/train.js';
import { BytesBlob, folderBlobs, readBytes } from '../helpers/blobs.js';

const dir = mkdtempSync(join(tmpdir(), 'hf-files-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const config = makeConfig('tiny', { vocabSize: 300 });
const tok = trainBpe(['the cat sat on the mat', 'naïve café 12345'], { vocabSize: 290 });
const hf = join(dir, 'm');
exportHF(hf, syntheticSource(config, 2), { tokenizer: tok, chatTemplate: '{{ messages }}' });

const enc = (s: string) => new BytesBlob(new TextEncoder().encode(s));

/** The exported folder with model.safetensors split into two shards + index, as picked blobs. */
function sharded(): Array<{ name: string; blob: BytesBlob }> {
  const files = folderBlobs(hf);
  const st = files.find((f) => f.name === 'm/model.safetensors')!;
  const parsed = parseSafetensors(st.blob.bytes);
  const names = [...parsed.tensors.keys()];
  const half = Math.floor(names.length / 2);
  const shard = (part: string[]) => {
    const header = serializeHeader(part.map((n) => {
      const t = parsed.tensors.get(n)!;
      return [n, { dtype: t.dtype, shape: t.shape, byteLength: t.bytes.length }];
    }));
    const out = new Uint8Array(header.length + part.reduce((s, n) => s + parsed.tensors.get(n)!.bytes.length, 0));
    out.set(header);
    part.reduce((o, n) => (out.set(parsed.tensors.get(n)!.bytes, o), o + parsed.tensors.get(n)!.bytes.length), header.length);
    return new BytesBlob(out);
  };
  const a = 'model-00001-of-00002.safetensors', b = 'model-00002-of-00002.safetensors';
  const index = { metadata: {}, weight_map: Object.fromEntries(names.map((n, i) => [n, i < half ? a : b])) };
  return [
    ...files.filter((f) => f !== st),
    { name: `m/${a}`, blob: shard(names.slice(0, half)) },
    { name: `m/${b}`, blob: shard(names.slice(half)) },
    { name: 'm/model.safetensors.index.json', blob: enc(JSON.stringify(index)) },
  ];
}

describe('hfModelFrom: a Hugging Face model from picked files', () => {
  test('the files of an exported folder read exactly as loadHF(dir) reads the folder; sharded too', () => {
    const want = loadHF(hf);
    for (const [label, blobs] of [['one file', folderBlobs(hf)], ['two shards + index', sharded()]] as const) {
      const got = hfModelFrom(blobFileSet(blobs, readBytes));
      assert.deepEqual(got.source.config, want.source.config, label);
      assert.deepEqual(got.hfConfig, want.hfConfig, label);
      assert.equal(got.source.where, 'm');
      for (const p of paramTable(config)) {
        const q = want.source.quantized!(p.name);
        if (q !== undefined) assert.deepEqual(got.source.quantized!(p.name), q, `${label}: ${p.name}`);
        else assert.deepEqual(got.source.dense(p.name), want.source.dense(p.name), `${label}: ${p.name}`);
      }
      assert.deepEqual(got.source.denseRows!('embed_tokens', 3, 9), want.source.denseRows!('embed_tokens', 3, 9));
      const sample = 'the naïve cat 12345';
      assert.deepEqual(got.tokenizer!.encode(sample), tok.encode(sample), label);
      assert.equal(got.chatTemplate, '{{ messages }}');
    }
  });

  test('a shard listed in the index but not picked, a shard name with a folder, no config.json: FormatError naming it', () => {
    const files = sharded();
    assert.throws(() => hfModelFrom(blobFileSet(files.filter((f) => !f.name.endsWith('00002-of-00002.safetensors')), readBytes)),
      (e: unknown) => e instanceof FormatError && /^m: shard 'model-00002-of-00002\.safetensors' listed in the index is missing/.test(e.message));
    const bad = files.map((f) => (f.name.endsWith('index.json') ? { ...f, blob: enc(JSON.stringify({ weight_map: { x: '../secret.safetensors' } })) } : f));
    assert.throws(() => hfModelFrom(blobFileSet(bad, readBytes)), /m\/model\.safetensors\.index\.json: shard name '\.\.\/secret\.safetensors' must be a plain file name/);
    assert.throws(() => hfModelFrom(blobFileSet(files.filter((f) => f.name !== 'm/config.json'), readBytes)), (e: unknown) => e instanceof FormatError && e.message === 'm: no config.json');
  });
});
