/**
 * CLI speculative decoding: `bitnet generate` with --spec lookup and with --draft (the bundled model as
 * its own draft: same tokenizer) prints the same greedy text as plain decoding and reports the drafts;
 * bad --spec / --spec-k / --spec-ngram / --draft combinations are one-line usage errors (exit 2) before
 * any model is loaded.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { BUNDLED_MODEL } from '../../src/cli/commands/generate.js';

const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const run = (args: string[]) => spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', timeout: 120_000 });

describe('generate --spec', () => {
  test('lookup and draft-model speculation print plain greedy text', () => {
    const base = ['generate', '-p', 'The State of the Union', '-n', '48', '--greedy', '-t', '1'];
    const plain = run(base);
    assert.equal(plain.status, 0, plain.stderr);
    for (const extra of [['--spec', 'lookup'], ['--spec', 'lookup', '--spec-k', '2', '--spec-ngram', '1'], ['--draft', BUNDLED_MODEL, '--spec-k', '3']]) {
      const r = run([...base, ...extra]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, plain.stdout, extra.join(' '));
      assert.match(r.stderr, /speculative \((lookup|draft), k ≤ \d\): \d+ of \d+ draft tokens accepted/);
    }
  });

  for (const [args, re] of [
    [['--spec', 'draft'], /--spec draft needs --draft MODEL/],
    [['--spec', 'lookup', '--draft', 'x'], /--draft is used with --spec draft/],
    [['--spec', 'maybe'], /--spec must be one of off, lookup, draft/],
    [['--spec', 'lookup', '--spec-k', '0'], /--spec-k must be an integer ≥ 1 and ≤ 16/],
    [['--spec', 'lookup', '--spec-ngram', '17'], /--spec-ngram must be an integer ≥ 1 and ≤ 16/],
  ] as const) {
    test(`generate ${args.join(' ')} → usage error, exit 2`, () => {
      const r = run(['generate', '-p', 'x', ...args]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, re);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    });
  }

  test('serve --spec bogus / draft without --draft → usage errors before loading', () => {
    const r = run(['serve', '--spec', 'bogus']);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /--spec must be one of lookup, draft, off/);
    const d = run(['serve', '--spec', 'draft']);
    assert.equal(d.status, 2, d.stderr);
    assert.match(d.stderr, /--spec draft needs --draft MODEL/);
  });
});
