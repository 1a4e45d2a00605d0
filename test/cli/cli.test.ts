import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';

const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', timeout: 60_000 });

describe('cli', () => {
  test('help and unknown commands', () => {
    const h = run('--help');
    assert.equal(h.status, 0);
    assert.match(h.stdout, /train/);
    const u = run('frobnicate');
    assert.equal(u.status, 2);
    assert.match(u.stderr, /unknown command 'frobnicate'/);
  });
  test('bad flags exit 2 naming the flag, with no stack trace', () => {
    for (const [args, re] of [
      [['train', '--steps', 'many'], /--steps must be an integer/],
      [['train', '--quant', 'int3'], /--quant must be one of fp, bitnet, b158, v2-a8, v2-a4/],
      [['train', '--no-such-flag'], /Unknown option '--no-such-flag'/],
      [['train', '--v1-shifted-acts', 'all'], /--v1-shifted-acts must be one of none, ffn-down/],
      [['train', '--quant', 'b158', '--v1-shifted-acts', 'ffn-down'], /--v1-shifted-acts ffn-down .* needs --quant bitnet/],
      [['info', '--threads', '0'], /--threads must be an integer ≥ 1/],
    ] as const) {
      const r = run(...args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.doesNotMatch(r.stderr, /at .*\.js:\d+/);
    }
  });
  test('info reports the backend and passes its self-check', () => {
    const r = run('info');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /backend\s+wasm/);
    assert.match(r.stdout, /selfcheck/);
  });
  test('a missing corpus directory is a clear error (exit 1), not a crash', () => {
    const r = run('train', '--data', '/nonexistent/corpus', '--steps', '1');
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /DataError|corpus/i);
  });
});
