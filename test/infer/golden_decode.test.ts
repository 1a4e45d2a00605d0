import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { createBackend, refBackend } from '../../src/kernels/backend.js';
import { PackedModel } from '../../src/infer/packed_model.js';
import { InferenceSession } from '../../src/infer/session.js';
import { sourceFromTransformer } from '../../src/weights/source.js';
import { goldenDecodeModel, greedyIds, type GoldenDecode } from '../../scripts/make_fixtures.js';

const HINT = 'if the engine math changed on purpose, regenerate: npm run build && node dist/scripts/make_fixtures.js';

// Sessions use the default f16 KV cache; the fixture holds with it and with kv 'f32' (checked on the reference).
test('golden greedy decode: exact token ids on the reference and WASM backends (1 and 2 threads), f16 and f32 KV cache', async () => {
  const g = JSON.parse(readFileSync(new URL('../../../test/fixtures/golden_decode.json', import.meta.url), 'utf8')) as GoldenDecode;
  const src = sourceFromTransformer(goldenDecodeModel(g.seed));
  assert.ok(new Set(g.tokens).size > 3, 'the fixture is not a degenerate repetition');
  const ref = greedyIds(new InferenceSession(PackedModel.load(refBackend(), src, { head: 'f32' }), { ctx: 64 }), g.prompt, g.tokens.length);
  assert.deepEqual(ref, g.tokens, `reference backend. ${HINT}`);
  const ref32 = greedyIds(new InferenceSession(PackedModel.load(refBackend(), src, { head: 'f32' }), { ctx: 64, kv: 'f32' }), g.prompt, g.tokens.length);
  assert.deepEqual(ref32, g.tokens, `reference backend, f32 KV cache. ${HINT}`);
  for (const threads of [1, 2]) {
    const be = await createBackend({ backend: 'wasm', threads });
    try {
      const ids = greedyIds(new InferenceSession(PackedModel.load(be, src, { head: 'f32' }), { ctx: 64 }), g.prompt, g.tokens.length);
      assert.deepEqual(ids, g.tokens, `wasm, ${threads} thread(s). ${HINT}`);
    } finally {
      await be.dispose();
    }
  }
});
