import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { FormatError } from '../../src/errors.js';
import { loadSafetensors, saveSafetensors } from '../../src/io/files.js';
import { halfToFloat, parseSafetensors, serializeHeader, toFloat32 } from '../../src/io/safetensors.js';

describe('safetensors', () => {
  test('write → read is the identity (names, shapes, bytes, metadata), no temp file left', () => {
    const dir = mkdtempSync(join(tmpdir(), 'st-'));
    try {
      const a = Float32Array.from([1, -2.5, 3e-7, 4]);
      const b = Int32Array.from([7, -8, 9]);
      const c = Uint8Array.from([1, 2, 3, 250, 0]);
      const p = join(dir, 'x.safetensors');
      saveSafetensors(p, [['a', { dtype: 'F32', shape: [2, 2], data: a }], ['b.c', { dtype: 'I32', shape: [3], data: b }], ['u', { dtype: 'U8', shape: [5], data: c }]], { k: 'v' });
      assert.deepEqual(readdirSync(dir), ['x.safetensors']);
      const r = loadSafetensors(p);
      assert.deepEqual(r.metadata, { k: 'v' });
      assert.deepEqual(r.tensors.get('a')!.shape, [2, 2]);
      assert.deepEqual([...toFloat32(r.tensors.get('a')!)], [...a]);
      assert.deepEqual([...new Int32Array(r.tensors.get('b.c')!.bytes.slice().buffer)], [...b]);
      assert.deepEqual([...r.tensors.get('u')!.bytes], [...c]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('corrupt files raise FormatError', () => {
    const good = (() => {
      const h = serializeHeader([['t', { dtype: 'F32', shape: [2], byteLength: 8 }]]);
      const out = new Uint8Array(h.length + 8);
      out.set(h);
      return out;
    })();
    assert.equal(parseSafetensors(good).tensors.size, 1);
    assert.throws(() => parseSafetensors(good.subarray(0, 5)), FormatError); // too short
    assert.throws(() => parseSafetensors(good.subarray(0, good.length - 4)), /truncated/); // data cut
    const huge = good.slice();
    new DataView(huge.buffer).setBigUint64(0, 1n << 40n, true);
    assert.throws(() => parseSafetensors(huge), /exceeds/);
    const mk = (json: string, data = 0) => {
      const j = new TextEncoder().encode(json);
      const b = new Uint8Array(8 + j.length + data);
      new DataView(b.buffer).setBigUint64(0, BigInt(j.length), true);
      b.set(j, 8);
      return b;
    };
    assert.throws(() => parseSafetensors(mk('{not json')), FormatError);
    assert.throws(() => parseSafetensors(mk('{"t":{"dtype":"Q7","shape":[1],"data_offsets":[0,1]}}', 1)), /unknown dtype/);
    assert.throws(() => parseSafetensors(mk('{"t":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', 8)), /needs 12 bytes/);
    assert.throws(() => parseSafetensors(mk('{"t":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}', 4)), /invalid shape/);
    assert.throws(() => parseSafetensors(mk('{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}}', 6)), /overlap/);
  });

  test('half floats decode', () => {
    assert.equal(halfToFloat(0x3c00), 1);
    assert.equal(halfToFloat(0xc000), -2);
    assert.equal(halfToFloat(0x7c00), Infinity);
    assert.equal(halfToFloat(0x0001), 2 ** -24);
  });

  test('a corrupt checkpoint file on disk is refused, not half-loaded', async () => {
    const { readCheckpoint } = await import('../../src/train/run_dir.js');
    const dir = mkdtempSync(join(tmpdir(), 'ck-'));
    try {
      const p = join(dir, 'ckpt-00000001.safetensors');
      writeFileSync(p, new Uint8Array([1, 2, 3]));
      assert.throws(() => readCheckpoint(p), FormatError);
      saveSafetensors(p, [['x', { dtype: 'F32', shape: [1], data: new Float32Array(1) }]], { format: 'something-else' });
      assert.throws(() => readCheckpoint(p), /not a bitnet-ts-checkpoint/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
