/** eval, experiment, interp and serve (--host) check their arguments before any data is prepared: one line, exit 2 (usage) or 1, in well under the time data preparation takes. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

for (const [args, code, re] of [
  [['experiment', 'nope'], 2, /name an experiment/],
  [['experiment', 'scaling', '--steps', 'abc'], 2, /--steps must be an integer/],
  [['experiment', 'ptq-table', '--ptq', 'bogus'], 2, /--ptq: unknown method 'bogus'/],
  [['experiment', 'lr-stability', '--eval-split', 'train'], 2, /--eval-split/],
  [['experiment', 'scaling', '--act-order', 'maybe'], 2, /--act-order/],
  [['experiment', 'scaling', '--dim', '64'], 2, /scaling varies the model size itself/],
  [['experiment', 'ptq-table', '--preset', 'smoke', '--heads', '3'], 2, /ptq-table --preset smoke with the architecture flags \(fp\): .*nHeads/],
  [['experiment', 'lr-stability', '--preset', 'smoke', '--ctx', '32'], 2, /--ctx 32 is shorter than the lr-stability preset's training sequences \(64 tokens\)/],
  [['experiment', 'lr-stability', '--ffn', 'gelu-ish'], 2, /--ffn/],
  [['experiment', 'ptq-table', '--subln', '--no-subln'], 2, /--subln and --no-subln contradict/],
  [['experiment', 'ptq-table', '--trained', 'b158'], 2, /--trained must include fp/],
  [['experiment', 'ptq-table', '--trained', 'fp,b1.58'], 2, /--trained: unknown mode 'b1.58'/],
  [['experiment', 'ptq-table', '--preset', 'smoke', '--trained', 'fp,v2-a8', '--dim', '96'], 2, /with the architecture flags \(v2-a8\).*power-of-two/],
  [['experiment', 'scaling', '--trained', 'fp'], 2, /--trained applies to ptq-table/],
  [['interp', 'foo'], 2, /interp mnist \| interp toy \| interp lm/],
  [['eval', '/nonexistent-run-dir'], 1, /no ckpt-\*\.safetensors/],
  [['serve', '--host', 'no-such-host.invalid'], 2, /--host no-such-host\.invalid does not resolve/],
] as const) {
  test(`bitnet ${args.join(' ')} → one line, exit ${code}, before any work`, () => {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
    const s = (performance.now() - t0) / 1000;
    assert.equal(r.status, code, r.stderr);
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.ok(s < 5, `took ${s.toFixed(1)} s`);
  });
}
