/** Every flag of every command has a line of help (src/cli/flags.ts), and --help prints it. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { COMMANDS } from '../../src/cli/commands.js';
import { flagHelp } from '../../src/cli/flags.js';

test('every flag of every command has a description', () => {
  const missing: string[] = [];
  let n = 0;
  for (const [name, cmd] of Object.entries(COMMANDS)) {
    for (const flag of Object.keys(cmd.options)) {
      n++;
      if (flagHelp(name, flag).trim().length === 0) missing.push(`${name} --${flag}`);
    }
  }
  assert.ok(n > 100, `${n} flags`);
  assert.deepEqual(missing, []);
  assert.equal(flagHelp('generate', 'no-such-flag'), '', 'an unknown flag has no help (the check can fail)');
});

test('bitnet <command> --help prints each flag with its description', () => {
  const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
  const r = spawnSync(process.execPath, [cli, 'generate', '--help'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  for (const flag of Object.keys(COMMANDS.generate!.options)) assert.match(r.stdout, new RegExp(`--${flag}\\b.*${flagHelp('generate', flag).slice(0, 20).replace(/[.*+?^${}()|[\]\\']/g, '\\$&')}`), flag);
});
