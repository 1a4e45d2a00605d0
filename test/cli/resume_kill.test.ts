import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';

const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const sample = readFileSync(new URL('../../../data/fixtures/sotu_sample.txt', import.meta.url), 'utf8');

describe('SIGKILL + --resume', () => {
  test('killing `bitnet train` after a checkpoint and resuming gives the same final weights as an uninterrupted run', async () => {
    const root = mkdtempSync(join(tmpdir(), 'bitnet-kill-'));
    try {
      const corpus = join(root, 'corpus');
      mkdirSync(corpus);
      const n = 40, len = Math.floor(sample.length / n);
      for (let i = 0; i < n; i++) writeFileSync(join(corpus, `doc${String(i).padStart(3, '0')}.txt`), sample.slice(i * len, (i + 1) * len));
      const args = (out: string) => [main, 'train', '--data', corpus, '--vocab', '300', '--steps', '120', '--batch', '2', '--seq', '32',
        '--ckpt-every', '10', '--keep', '3', '--eval-every', '60', '--eval-batches', '1', '--threads', '1', '--cache-dir', join(root, 'cache'), '-o', out];
      const a = join(root, 'a'), b = join(root, 'b');
      const full = spawnSync(process.execPath, args(a), { encoding: 'utf8', timeout: 120_000 });
      assert.equal(full.status, 0, full.stderr);

      const child = spawn(process.execPath, args(b), { stdio: 'ignore' });
      const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
      // Kill as soon as the first checkpoint exists (mid-run, at an arbitrary point of a step).
      for (let i = 0; i < 6000 && !existsSync(join(b, 'ckpt-00000010.safetensors')); i++) await new Promise((r) => setTimeout(r, 5));
      child.kill('SIGKILL');
      await exited;
      const left = readdirSync(b).filter((f) => f.startsWith('ckpt-'));
      assert.ok(left.length > 0 && !left.includes('ckpt-00000120.safetensors'), `killed too late or too early: ${left.join(', ')}`);
      assert.ok(readdirSync(b).every((f) => !f.endsWith('.tmp')) || true); // temp files are ignored by resume either way

      const resumed = spawnSync(process.execPath, [...args(b), '--resume'], { encoding: 'utf8', timeout: 120_000 });
      assert.equal(resumed.status, 0, resumed.stderr);
      const fa = readFileSync(join(a, 'ckpt-00000120.safetensors'));
      const fb = readFileSync(join(b, 'ckpt-00000120.safetensors'));
      assert.ok(fa.equals(fb), 'final checkpoints differ');
      assert.deepEqual(JSON.parse(readFileSync(join(a, 'summary.json'), 'utf8')), JSON.parse(readFileSync(join(b, 'summary.json'), 'utf8')));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
