/**
 * The fuzz harness (scripts/fuzz/) in small: a few hundred seeded mutants across all families through
 * the CLI's loader in worker processes. Bad input must end in a typed error (or load cleanly): no hang,
 * no crash, no untyped error. Non-finite logits are counted but not asserted here: they come from NaN/Inf
 * weight values in the tensor data, which the engine's loader (src/infer/*, not this suite's scope) does
 * not check yet.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FAMILIES, formatReport, runFuzz } from '../../scripts/fuzz/harness.js';

describe('fuzz: mutated model files of every format', () => {
  test('300 mutants: 0 hangs, crashes, untyped errors', async () => {
    const r = await runFuzz({ count: 75, seed: 20260, workers: 2, timeoutMs: 5000 });
    const report = formatReport(r);
    assert.equal(r.cases, 75 * FAMILIES.length, report);
    for (const f of FAMILIES) {
      const c = r.counts[f];
      assert.equal(c.hang, 0, `${f} hangs\n${report}`);
      assert.equal(c.crash, 0, `${f} crashes\n${report}`);
      assert.equal(c.untyped, 0, `${f} untyped errors\n${report}`);
      // The harness itself works: mutants are mostly refused with typed errors, some still load.
      assert.ok(c.typed > 0 && c.typed + c.ok + c.nonfinite === 75, `${f}\n${report}`);
    }
  });
});
