import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { computeGolden, GOLDEN_MAGIC, GOLDEN_VERSION, type Golden } from '../../scripts/make_fixtures.js';

// The fixture was computed in float64 on the reference backend; V8's transcendental functions are
// deterministic, so the numbers should agree to rounding noise. 1e-9 relative leaves room for none else.
const REL = 1e-9;
const HINT = 'if the math changed on purpose, regenerate: npm run build && node dist/scripts/make_fixtures.js';

describe('golden fixture (tiny b1.58, f64 reference)', () => {
  const fixture = JSON.parse(readFileSync(new URL('../../../test/fixtures/golden_tiny.json', import.meta.url), 'utf8')) as Golden;
  test('fixture header', () => {
    assert.equal(fixture.magic, GOLDEN_MAGIC);
    assert.equal(fixture.version, GOLDEN_VERSION);
  });
  test('step-0 loss, per-parameter gradient norms, and 10 AdamW losses reproduce', () => {
    const now = computeGolden();
    const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= REL * Math.abs(b), `${what}: ${a} vs fixture ${b}. ${HINT}`);
    close(now.step0.loss, fixture.step0.loss, 'step-0 loss');
    for (const [k, v] of Object.entries(fixture.step0.gradNorms)) close(now.step0.gradNorms[k]!, v, `|grad ${k}|`);
    fixture.losses.forEach((l, i) => close(now.losses[i]!, l, `loss after ${i} AdamW steps`));
    assert.ok(fixture.losses[9]! < fixture.losses[0]!, 'the 10 steps reduce the loss');
  });
});
