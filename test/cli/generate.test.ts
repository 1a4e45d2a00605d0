/**
 * CLI: train a tiny run → `bitnet pack` → `bitnet generate` (model file, run dir) and `bitnet chat`
 * with piped stdin; greedy output is the same from the run dir and the packed file, with 1 and
 * 2 threads; bad input gives clear errors (exit 1 / 2), never a stack trace.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';

const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const sample = readFileSync(new URL('../../../data/fixtures/sotu_sample.txt', import.meta.url), 'utf8');
const run = (args: string[], input?: string) => spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', timeout: 120_000, ...(input !== undefined ? { input } : {}) });

describe('generate / chat / pack', () => {
  const root = mkdtempSync(join(tmpdir(), 'bitnet-gen-cli-'));
  const runDir = join(root, 'run'), file = join(root, 'model.safetensors');
  before(() => {
    const corpus = join(root, 'corpus');
    mkdirSync(corpus);
    const n = 20, len = Math.floor(sample.length / n);
    for (let i = 0; i < n; i++) writeFileSync(join(corpus, `doc${i}.txt`), sample.slice(i * len, (i + 1) * len));
    const r = run(['train', '--data', corpus, '--vocab', '300', '--steps', '20', '--batch', '2', '--seq', '32', '--eval-every', '20', '--eval-batches', '1',
      '--threads', '1', '--cache-dir', join(root, 'cache'), '-o', runDir]);
    assert.equal(r.status, 0, r.stderr);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  test('pack, then generate greedily from the file and from the run dir (1 and 2 threads): same text', () => {
    const p = run(['pack', runDir, file]);
    assert.equal(p.status, 0, p.stderr);
    assert.ok(existsSync(file));
    assert.match(p.stdout, /with tokenizer/);
    const outs = [
      run(['generate', file, '-p', 'The Congress', '-n', '12', '--greedy', '-t', '1']),
      run(['generate', file, '-p', 'The Congress', '-n', '12', '--greedy', '-t', '2']),
      run(['generate', runDir, '-p', 'The Congress', '-n', '12', '--greedy', '-t', '1']),
    ];
    for (const o of outs) assert.equal(o.status, 0, o.stderr);
    assert.ok(outs[0]!.stdout.startsWith('The Congress'), outs[0]!.stdout);
    assert.ok(outs[0]!.stdout.length > 'The Congress'.length + 1, 'something was generated');
    assert.equal(outs[1]!.stdout, outs[0]!.stdout);
    assert.equal(outs[2]!.stdout, outs[0]!.stdout);
    assert.match(outs[0]!.stderr, /tok\/s decode/);
    assert.match(outs[0]!.stderr, /KV cache/);
  });

  test('the bundled model generates out of the box (no MODEL argument)', () => {
    const r = run(['generate', '-p', 'The Congress', '-n', '8', '--greedy', '-t', '1']);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(r.stdout.startsWith('The Congress') && r.stdout.trim().length > 'The Congress'.length, r.stdout);
    assert.match(r.stderr, /sotu-tiny-b158/);
  });

  test('chat reads turns from stdin and answers each', () => {
    const r = run(['chat', file, '-n', '8', '--greedy', '--template', 'plain'], 'Hello there\nWhat of the Union?\n/exit\n');
    assert.equal(r.status, 0, r.stderr);
    assert.equal((r.stderr.match(/tok\/s decode/g) ?? []).length, 2, r.stderr);
  });

  test('errors: missing model, bad flags, prompt too long, not a model', () => {
    const cases: Array<[string[], number, RegExp]> = [
      [['generate', join(root, 'nope.safetensors'), '-p', 'x'], 1, /not found/],
      [['generate', file, '--temperature', 'hot'], 2, /--temperature must be a number/],
      [['generate', file, '--format', 'i3'], 2, /--format must be one of i2, i1.6/],
      [['generate', file, '--ctx', '100000'], 2, /exceeds the model's maxSeqLen/],
      [['generate', file, '-p', 'word '.repeat(400)], 1, /does not fit the context/],
      [['generate', join(root, 'corpus', 'doc0.txt')], 1, /safetensors|header|Format/i],
      [['pack', runDir], 2, /expected IN/],
    ];
    for (const [args, code, re] of cases) {
      const r = run(args);
      assert.equal(r.status, code, `${args.join(' ').slice(0, 80)}: ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.doesNotMatch(r.stderr, /at .*\.js:\d+/);
    }
  });
});
