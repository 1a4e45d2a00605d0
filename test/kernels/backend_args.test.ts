/** A bad thread count is the caller's error: createBackend rejects it instead of falling back to the slow reference kernels. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ArgumentError } from '../../src/errors.js';
import { createBackend } from '../../src/kernels/backend.js';

test('createBackend: threads outside [1, 256] → ArgumentError for auto and wasm (no silent fallback)', async () => {
  let warned = '';
  for (const backend of ['auto', 'wasm'] as const) {
    for (const threads of [0, 999, 1.5]) {
      await assert.rejects(createBackend({ backend, threads, notice: (m) => (warned += m) }), (e: Error) => e instanceof ArgumentError && /threads must be an integer in \[1, 256\]/.test(e.message), `${backend} ${threads}`);
    }
  }
  assert.equal(warned, '', 'no fallback notice');
  const be = await createBackend({ backend: 'auto', threads: 1 });
  assert.equal(be.name, 'wasm');
  await be.dispose();
});
