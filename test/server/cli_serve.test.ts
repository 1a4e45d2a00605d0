/**
 * `bitnet serve MODEL --port 0` as a child process: prints its URL, answers a chat completion,
 * requires the API key from BITNET_API_KEY, and on SIGTERM cancels a running stream after the
 * grace period and exits 0. Bad flags exit 2.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { saveModelFile } from '../../src/load/open.js';
import { tinySource, tok } from './fixture.js';

const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'bitnet-serve-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('bitnet serve: URL line, chat request with key, SIGTERM → graceful exit 0', async () => {
  const file = join(dir, 'tiny.safetensors');
  saveModelFile(file, tinySource(1024), tok);
  const child = spawn(process.execPath, [main, 'serve', file, '--port', '0', '--backend', 'ref', '--grace', '100'], { env: { ...process.env, BITNET_API_KEY: 'k1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '', err = '';
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d) => {
        out += d;
        const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      void exited.then((c) => reject(new Error(`exited ${c} before listening: ${err}`)));
    });
    assert.match(out, /model 'tiny'/);
    assert.match(out, /API key required/);
    const headers = { 'Content-Type': 'application/json', Authorization: 'Bearer k1' };
    assert.equal((await fetch(`${url}/v1/models`)).status, 401);
    const r = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers, body: JSON.stringify({ model: 'tiny', messages: [{ role: 'user', content: 'hi' }], max_tokens: 5, temperature: 0 }) });
    assert.equal(r.status, 200);
    const b = (await r.json()) as { choices: Array<{ message: { content: string } }>; usage: { completion_tokens: number } };
    assert.equal(b.usage.completion_tokens, 5);
    // A long stream, then SIGTERM: the stream is cancelled after --grace and the process exits 0.
    const s = await fetch(`${url}/v1/completions`, { method: 'POST', headers, body: JSON.stringify({ model: 'tiny', prompt: 'Once', max_tokens: 1000, temperature: 0, stream: true }) });
    const reader = s.body!.getReader();
    await reader.read();
    child.kill('SIGTERM');
    let text = '';
    for (;;) {
      const x = await reader.read();
      if (x.done) break;
      text += new TextDecoder().decode(x.value);
    }
    assert.match(text, /"code":"shutting_down"/);
    assert.equal(await exited, 0, err);
    assert.match(err, /SIGTERM/);
    assert.match(err, /stopped/);
  } finally {
    child.kill('SIGKILL');
  }
});

test('bitnet serve: bad flags exit 2 with a message', () => {
  const r = spawnSync(process.execPath, [main, 'serve', '--port', 'x'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--port must be an integer/);
  const q = spawnSync(process.execPath, [main, 'serve', '--slots', '0'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(q.status, 2);
  assert.match(q.stderr, /--slots/);
});
