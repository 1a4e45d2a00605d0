/**
 * Every load path gives bit-identical logits for the same weights: quantize-from-source, the model file
 * (the engine's memory image, read straight into memory), GGUF TQ2_0 / TQ1_0 (the 'i2r4' repack fast
 * path), Hugging Face packed; per quant mode and FFN kind each format can carry. β is made exactly
 * representable in f16 (what TQ blocks store), embeddings travel as f32. Also: the model file is read
 * into the backend's memory without a copy through the JS heap, and newer versions are refused.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { FormatError } from '../../src/errors.js';
import { createBackend, refBackend, type Backend } from '../../src/kernels/backend.js';
import { makeConfig, type ModelConfig } from '../../src/model/config.js';
import { loadModel, openModel, saveModelFile } from '../../src/load/open.js';
import { loadModelFromBlob, loadModelFromBytes } from '../../src/load/loaded_model.js';
import { loadModelImage, modelFileContentsV1 } from '../../src/infer/model_file.js';
import { PackedModel } from '../../src/infer/packed_model.js';
import { InferenceSession } from '../../src/infer/session.js';
import type { WeightSource } from '../../src/weights/source.js';
import { syntheticSource } from '../../src/weights/synthetic.js';
import { saveSafetensors } from '../../src/io/files.js';
import { floatToHalf, halfToFloat } from '../../src/io/gguf_quant.js';
import { ggufLayout, loadGguf, writeGguf } from '../../src/interop/gguf_model.js';
import { ggufChunks } from '../../src/io/gguf.js';
import { encodeGgml, ggmlType } from '../../src/io/gguf_quant.js';
import { atomicWriteFile } from '../../src/io/files.js';
import { exportHF, loadHF } from '../../src/interop/hf.js';
import { assertBitIdentical } from '../helpers/check.js';
import { encodeI2S } from '../helpers/i2s.js';
import { weightI7R4 } from '../../src/kernels/ref/infer.js';

const dirs: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'paths-'));
  dirs.push(d);
  return d;
};
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** The synthetic model with every β rounded to f16 (so TQ blocks hold it exactly). */
function f16Scales(src: WeightSource): WeightSource {
  return {
    config: src.config,
    where: src.where,
    dense: (n) => src.dense(n),
    denseRows: (n, a, b) => src.denseRows!(n, a, b),
    quantized(n) {
      const t = src.quantized?.(n);
      return t && { q: t.q, scale: halfToFloat(floatToHalf(t.scale)) };
    },
  };
}


const toks = [1, 17, 250, 3, 99, 42, 7, 128];
const logits = (pm: PackedModel) => new InferenceSession(pm, { ctx: 16, chunk: 4 }).forwardAll(toks);
const cfg = (o: Partial<ModelConfig>) => makeConfig('tiny', { dim: 256, ffnDim: 512, nHeads: 4, nKvHeads: 2, nLayers: 2, vocabSize: 300, maxSeqLen: 32, subln: true, tieEmbeddings: true, ...o });

describe('load paths: bit-identical logits', () => {
  let be: Backend;
  test('setup', async () => {
    be = await createBackend({ backend: 'wasm', threads: 1 });
  });
  for (const [quant, ffn] of [['fp', 'swiglu'], ['bitnet', 'swiglu'], ['b158', 'swiglu'], ['b158', 'relu2glu'], ['v2-a8', 'relu2glu'], ['v2-a4', 'swiglu']] as const) {
    test(`${quant} / ${ffn}: model file = quantize-from-source`, () => {
      const src = f16Scales(syntheticSource(cfg({ quant, ffn }), 3));
      const want = logits(PackedModel.load(be, src, { head: 'f32' }));
      const dir = tmp();
      for (const head of ['f32', 'q7', 'q4g'] as const) {
        const path = join(dir, `${head}.safetensors`);
        saveModelFile(path, src, undefined, { head });
        const o = openModel(path);
        try {
          const pm = loadModelImage(be, o.image!.image, o.image!.src);
          const got = logits(pm);
          const ref = logits(PackedModel.load(be, src, { head }));
          assertBitIdentical(got, ref, `${head} head`);
          if (head === 'f32') assertBitIdentical(got, want, 'f32 head = source');
          if (head === 'q7') {
            // the file as a WeightSource gives the 7-bit embedding back as (code − 64)·scale, weight by weight
            const emb = o.source.dense('embed_tokens'), C = pm.config.dim;
            for (const t of [0, 5, 299]) for (const k of [0, 17, C - 1]) assert.equal(emb[t * C + k], Math.fround(weightI7R4(pm.embed.q7!, t, k, C) * pm.embed.scale![t]!), `embedding (${t}, ${k})`);
          }
        } finally {
          o.close();
        }
      }
    });
  }
  for (const ffn of ['swiglu', 'relu2glu'] as const) {
    test(`b158 / ${ffn}: GGUF TQ2_0, TQ1_0, I2_S, F16, F32 and HF packed = quantize-from-source`, () => {
      const src = f16Scales(syntheticSource(cfg({ quant: 'b158', ffn }), 5));
      const want = logits(PackedModel.load(be, src, { head: 'f32' }));
      const dir = tmp();
      // f16 / f32 linears hold β·q as floats: read back as q and β (not re-quantized with absmean, which gives ≈ 0.67β)
      for (const type of ['tq2_0', 'tq1_0', 'f16', 'f32'] as const) {
        const p = join(dir, `${type}.gguf`);
        writeGguf(p, src, { type, embedType: 'f32' });
        const g = loadGguf(p);
        try {
          assertBitIdentical(logits(PackedModel.load(be, g.source, { head: 'f32' })), want, type);
          // the TQ2_0 fast path really ran: the stored blocks go straight into 'i2r4'
          if (type === 'tq2_0') assert.equal(typeof g.source.intoI2R4, 'function');
        } finally {
          g.close();
        }
      }
      // bitnet.cpp's I2_S (read only here): the same layout, linears written as I2_S by hand
      const i2s = join(dir, 'i2s.gguf');
      const { metadata, specs, names } = ggufLayout(src, { type: 'tq2_0', embedType: 'f32' });
      const I2S = ggmlType('I2_S')!;
      const isLin = (n: string) => /_proj$/.test(n);
      const specs2 = specs.map((t, i) => (isLin(names[i]!) ? { ...t, type: I2S } : t));
      atomicWriteFile(i2s, ggufChunks(metadata, specs2, (i) => {
        const n = names[i]!;
        if (!isLin(n)) return encodeGgml(specs2[i]!.type, src.dense(n));
        const t = src.quantized!(n)!;
        return encodeI2S(t.q, t.scale);
      }));
      const g2 = loadGguf(i2s);
      try {
        assertBitIdentical(logits(PackedModel.load(be, g2.source, { head: 'f32' })), want, 'I2_S');
      } finally {
        g2.close();
      }
      const hf = join(dir, 'hf');
      exportHF(hf, src);
      assertBitIdentical(logits(PackedModel.load(be, loadHF(hf).source, { head: 'f32' })), want, 'HF packed');
    });
  }
  test('teardown', async () => {
    await be.dispose();
  });
});

describe('model file: memory image', () => {
  test('arrays are read straight into WASM memory (no copy of the file through the JS heap)', async () => {
    const src = syntheticSource(cfg({ quant: 'b158', ffn: 'swiglu', dim: 1024, ffnDim: 2048, nHeads: 8, nKvHeads: 4, nLayers: 8, vocabSize: 16384 }), 1); // a ~35 MB file
    const dir = tmp();
    const path = join(dir, 'm.safetensors');
    saveModelFile(path, src, undefined, { head: 'q7' });
    const o = openModel(path);
    const be = await createBackend({ backend: 'wasm', threads: 1 });
    try {
      let intoWasm = 0, copied = 0;
      const inner = o.image!.src;
      const mem = (be as unknown as { ctx: { memory: WebAssembly.Memory } }).ctx.memory;
      const spy = {
        size: inner.size, where: inner.where,
        read: (off: number, n: number) => {
          copied += n;
          return inner.read(off, n);
        },
        readInto: (dst: Uint8Array, off: number) => {
          if (dst.buffer === mem.buffer) intoWasm += dst.length;
          else copied += dst.length;
          inner.readInto!(dst, off);
        },
      };
      const heap0 = process.memoryUsage().heapUsed;
      const pm = loadModelImage(be, o.image!.image, spy);
      const heapGrowth = process.memoryUsage().heapUsed - heap0;
      assert.ok(be.arena.inMemory, 'the wasm backend allocates in WASM memory');
      assert.equal(copied, 0, 'no array was read into a JS buffer');
      const file = readFileSync(path).length;
      assert.ok(heapGrowth < file / 10, `JS heap grew by ${heapGrowth} bytes while loading a ${file}-byte file`);
      assert.ok(pm.weightBytes > file / 2);
      assert.ok(intoWasm >= o.image!.image.bytes * 0.99, `${intoWasm} of ${o.image!.image.bytes} bytes read into WASM memory`);
      // same logits as packing the source
      assertBitIdentical(logits(pm), logits(PackedModel.load(be, src, { head: 'q7' })), 'logits');
    } finally {
      o.close();
      await be.dispose();
    }
  });
  test('versions: a version-1 file still loads; a newer version is refused with a clear FormatError', async () => {
    const src = syntheticSource(cfg({ quant: 'b158', ffn: 'swiglu' }), 2);
    const dir = tmp();
    const v1 = join(dir, 'v1.safetensors');
    const { tensors, metadata } = modelFileContentsV1(src, undefined);
    saveSafetensors(v1, tensors, metadata);
    const m = await loadModel(v1, { backend: 'ref', head: 'f32' });
    assertBitIdentical(logits(m.model), logits(PackedModel.load(refBackend(), src, { head: 'f32' })), 'version 1');
    // an invalid stored code (3) in a version-1 file: FormatError naming the tensor
    const bad = tensors.map(([name, t]) => [name, name === 'layers.0.q_proj.i2' ? { ...t, data: Uint8Array.from(t.data as Uint8Array, (x, i) => (i === 5 ? 0xff : x)) } : t] as typeof tensors[number]);
    saveSafetensors(join(dir, 'v1bad.safetensors'), bad, metadata);
    await assert.rejects(loadModel(join(dir, 'v1bad.safetensors'), { backend: 'ref', head: 'f32' }), (e: Error) => e instanceof FormatError && /layers\.0\.q_proj\.i2/.test(e.message));
    const v2 = join(dir, 'v2.safetensors');
    saveModelFile(v2, src, undefined);
    const bytes = Buffer.from(readFileSync(v2));
    const n = Number(bytes.readBigUInt64LE(0));
    const header = bytes.subarray(8, 8 + n).toString().replace('"version":"2"', '"version":"9"');
    writeFileSync(join(dir, 'v9.safetensors'), Buffer.concat([bytes.subarray(0, 8), Buffer.from(header), bytes.subarray(8 + n)]));
    assert.throws(() => openModel(join(dir, 'v9.safetensors')), (e: Error) => e instanceof FormatError && /version "9" is newer than this build.*reads versions 1, 2/.test(e.message));
  });
  test('a file whose arrays do not match its config is refused before anything is allocated', () => {
    const src = syntheticSource(cfg({ quant: 'b158', ffn: 'swiglu' }), 2);
    const dir = tmp();
    const p = join(dir, 'm.safetensors');
    saveModelFile(p, src, undefined);
    const bytes = Buffer.from(readFileSync(p));
    const n = Number(bytes.readBigUInt64LE(0));
    const h = JSON.parse(bytes.subarray(8, 8 + n).toString());
    h.__metadata__.config = JSON.stringify({ ...JSON.parse(h.__metadata__.config), nLayers: 3 });
    let json = JSON.stringify(h);
    json += ' '.repeat((64 - ((8 + json.length) % 64)) % 64);
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(json.length));
    writeFileSync(join(dir, 'lie.safetensors'), Buffer.concat([len, Buffer.from(json), bytes.subarray(8 + n)]));
    assert.throws(() => openModel(join(dir, 'lie.safetensors')), (e: Error) => e instanceof FormatError && /missing array 'layers\.2\./.test(e.message));
  });
});

describe('model file from a Blob (the page)', () => {
  test('read in slices, never whole; same logits as from bytes; bad blobs are FormatErrors', async () => {
    const src = syntheticSource(cfg({ quant: 'b158', ffn: 'swiglu', vocabSize: 4096 }), 4);
    const dir = tmp();
    const p = join(dir, 'm.safetensors');
    saveModelFile(p, src, undefined, { head: 'q7' });
    const bytes = new Uint8Array(readFileSync(p));
    const slices: number[] = [];
    const blob = new Blob([bytes]);
    const spy = { size: blob.size, slice: (a: number, b: number) => { slices.push(b - a); return blob.slice(a, b); } } as unknown as Blob;
    const m = await loadModelFromBlob(spy, { backend: 'wasm', threads: 1, where: 'm.safetensors' });
    const r = await loadModelFromBytes(bytes, { backend: 'wasm', threads: 1 });
    try {
      assert.ok(slices.length > 10 && Math.max(...slices) < bytes.length && Math.max(...slices) <= 16 << 20, `${slices.length} slices, largest ${Math.max(...slices)} of ${bytes.length} bytes`);
      assertBitIdentical(logits(m.model), logits(r.model), 'blob = bytes');
    } finally {
      await m.dispose();
      await r.dispose();
    }
    await assert.rejects(loadModelFromBlob(new Blob([bytes.subarray(0, bytes.length - 64)]), { backend: 'ref', where: 'cut' }), (e: Error) => e instanceof FormatError && /cut/.test(e.message));
    await assert.rejects(loadModelFromBlob(new Blob([new TextEncoder().encode('not a model file at all')]), { backend: 'ref', where: 'notes.txt' }), (e: Error) => e instanceof FormatError && /notes\.txt/.test(e.message));
  });
});
