import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';

const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', timeout: 60_000 });

describe('bitnet interp', () => {
  test('toy writes heatmaps and a summary whose AND/XOR matrices match the known patterns', () => {
    const out = mkdtempSync(join(tmpdir(), 'interp-'));
    const r = run('interp', 'toy', '--out', out, '--ops', 'and,xor,nand', '--inputs', '3', '--steps', '400', '--threads', '1');
    assert.equal(r.status, 0, r.stderr);
    for (const op of ['and', 'xor', 'nand']) assert.ok(existsSync(join(out, 'toy', `toy_${op}.svg`)));
    const s = JSON.parse(readFileSync(join(out, 'toy', 'toy_summary.json'), 'utf8')) as { results: Array<{ op: string; maxDeviation: number | null }> };
    assert.ok(s.results.find((x) => x.op === 'and')!.maxDeviation! < 0.1);
    assert.ok(s.results.find((x) => x.op === 'xor')!.maxDeviation! < 0.1);
    assert.equal(s.results.find((x) => x.op === 'nand')!.maxDeviation, undefined);
  });
  test('usage errors exit 2 with a message', () => {
    for (const [args, re] of [
      [['interp'], /expected one of: interp mnist/],
      [['interp', 'cifar'], /expected one of/],
      [['interp', 'toy', '--ops', 'implies'], /--ops: 'implies' is not one of/],
      [['interp', 'mnist', '--quants', 'int3'], /--quants: 'int3'/],
      [['interp', 'mnist', '--dataset', 'svhn'], /--dataset must be mnist or fashion/],
    ] as const) {
      const r = run(...args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
    }
  });
});
