import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { FormatError } from '../../src/errors.js';
import { bufferSource } from '../../src/io/gguf.js';
import { bytesOf, parseSafetensors } from '../../src/io/safetensors.js';
import { openSafetensors, safetensorsReader, writeSafetensorsStream } from '../../src/io/safetensors_stream.js';
import { Rng } from '../../src/tensor/rng.js';

const dir = mkdtempSync(join(tmpdir(), 'sts-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('streamed safetensors', () => {
  const specs = [
    { name: 'f32', dtype: 'F32' as const, shape: [2, 3] },
    { name: 'bf16', dtype: 'BF16' as const, shape: [4] },
    { name: 'f16', dtype: 'F16' as const, shape: [1, 1] },
    { name: 'u8', dtype: 'U8' as const, shape: [5] },
    { name: 'i8', dtype: 'I8' as const, shape: [3] },
  ];
  const data = [bytesOf(Float32Array.of(1, 2, 3, 4, 5, -6)), bytesOf(Uint16Array.of(0x3f80, 0, 0xbf80, 0x7f80)), bytesOf(Uint16Array.of(0x3c00)), Uint8Array.of(0, 1, 2, 250, 255), bytesOf(Int8Array.of(-128, 0, 127))];

  test('write tensor by tensor → read one tensor at a time: same names, dtypes, shapes, bytes, metadata; whole-file parser agrees', () => {
    const p = join(dir, 'a.safetensors');
    let calls = 0;
    writeSafetensorsStream(p, specs, (i) => { calls++; return data[i]!; }, { k: 'v' });
    assert.equal(calls, specs.length);
    assert.deepEqual(readdirSync(dir), ['a.safetensors']);
    const r = openSafetensors(p);
    try {
      assert.deepEqual(r.metadata, { k: 'v' });
      specs.forEach((s, i) => {
        const t = r.read(s.name);
        assert.equal(t.dtype, s.dtype);
        assert.deepEqual(t.shape, s.shape);
        assert.deepEqual(t.bytes, data[i]);
      });
    } finally {
      r.close();
    }
    const whole = parseSafetensors(new Uint8Array(readFileSync(p)));
    assert.deepEqual([...whole.tensors.keys()], specs.map((s) => s.name));
  });

  test('a writer that produces the wrong byte count fails and leaves no file', () => {
    const p = join(dir, 'bad.safetensors');
    assert.throws(() => writeSafetensorsStream(p, specs.slice(0, 1), () => new Uint8Array(3)), /needs 24/);
    assert.ok(!readdirSync(dir).some((f) => f.includes('bad')));
  });

  test('fuzz: mutated headers and truncations give only FormatError (bounded)', () => {
    const p = join(dir, 'f.safetensors');
    writeSafetensorsStream(p, specs, (i) => data[i]!);
    const good = new Uint8Array(readFileSync(p));
    const rng = new Rng(99);
    let typed = 0;
    for (let it = 0; it < 300; it++) {
      let b = good.slice();
      const kind = it % 3;
      if (kind === 0) { const i = rng.int(Math.min(b.length, 300)); b[i]! ^= 1 << rng.int(8); }
      else if (kind === 1) b = b.subarray(0, rng.int(b.length));
      else new DataView(b.buffer).setBigUint64(0, BigInt(rng.nextU32()) * BigInt(1 + rng.int(1 << 16)), true); // lying header length
      try {
        const r = safetensorsReader(bufferSource(b));
        for (const name of r.entries.keys()) r.read(name);
      } catch (e) {
        if (!(e instanceof FormatError)) throw new Error(`iteration ${it}: ${String(e)}`);
        typed++;
      }
    }
    assert.ok(typed > 150, `${typed}`);
    writeFileSync(join(dir, 'short.safetensors'), good.subarray(0, 5));
    assert.throws(() => openSafetensors(join(dir, 'short.safetensors')), /too short .*at byte 0/);
  });
});
