/**
 * Hostile input at the edges of the process: the HTTP servers (malformed request lines, bad
 * percent-encoding, symlinks out of the served folders), run directories (temp files of killed writes)
 * and the command line (arguments checked before any work, system errors as one line, no stack).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import { ArgumentError } from '../../src/errors.js';
import { apiKeyFlag, checkCommandLine, systemErrorLine, UsageError, type Command } from '../../src/cli/args.js';
import { BitnetServer } from '../../src/server/server.js';
import { WebServer } from '../../src/server/web.js';
import { removeStaleTemps, runDirStore } from '../../src/train/run_dir.js';
import { tinyModel, tok } from '../server/fixture.js';

const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'bitnet-surfaces-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Send raw bytes, read the whole answer (the connection is closed by us after the first response). */
function raw(port: number, text: string): Promise<string> {
  return new Promise((ok, fail) => {
    const s = connect(port, '127.0.0.1', () => s.write(text));
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString('utf8');
      const i = buf.indexOf('\r\n\r\n');
      const len = /content-length: (\d+)/i.exec(buf);
      if (i >= 0 && len && buf.length >= i + 4 + Number(len[1])) s.end();
    });
    s.on('end', () => ok(buf));
    s.on('close', () => ok(buf));
    s.on('error', fail);
  });
}

describe('OpenAI server: malformed request targets', () => {
  test('an unterminated IPv6 host or bad %-encoding is 400 with OpenAI error JSON, never 500', async () => {
    const lines: string[] = [];
    const server = new BitnetServer({ model: tinyModel(64), tokenizer: tok, modelId: 'm', apiKey: 'k', log: (l) => lines.push(l) });
    const { port } = await server.listen(0);
    try {
      for (const target of ['http://[::1', '/v1/models/%E0%A4%A', '/v1/models/%']) {
        const r = await raw(port, `GET ${target} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\nConnection: close\r\n\r\n`);
        assert.match(r, /^HTTP\/1\.1 400 /, `${target}: ${r.slice(0, 80)}`);
        const body = JSON.parse(r.slice(r.indexOf('\r\n\r\n') + 4)) as { error: { message: string; type: string; param: unknown; code: unknown } };
        assert.equal(body.error.type, 'invalid_request_error');
        assert.equal(body.error.code, 'invalid_url');
        assert.ok('param' in body.error && /Malformed/.test(body.error.message));
      }
      assert.deepEqual(lines.filter((l) => /internal error|\n\s+at /.test(l)), [], 'no stack trace in the log');
    } finally {
      await server.close(0);
    }
  });
  test('an empty API key is refused (library and command line)', () => {
    assert.throws(() => new BitnetServer({ model: tinyModel(64), tokenizer: tok, modelId: 'm', apiKey: '' }), ArgumentError);
    assert.throws(() => apiKeyFlag({ 'api-key': '' }, {}), (e: unknown) => e instanceof UsageError && /--api-key is empty/.test((e as Error).message));
    assert.throws(() => apiKeyFlag({}, { BITNET_API_KEY: '' }), /BITNET_API_KEY is empty/);
    assert.equal(apiKeyFlag({}, {}), undefined);
    assert.equal(apiKeyFlag({}, { BITNET_API_KEY: 'sk' }), 'sk');
  });
});

describe('bitnet web: symlinks', () => {
  test('a link pointing out of a served folder is 404; files and links inside are served', async () => {
    const root = join(tmp, 'pkg');
    for (const d of ['web', 'dist', 'wasm/build', 'models']) mkdirSync(join(root, d), { recursive: true });
    writeFileSync(join(root, 'web', 'index.html'), '<p>hi</p>');
    writeFileSync(join(tmp, 'secret.txt'), 'secret');
    symlinkSync(join(tmp, 'secret.txt'), join(root, 'web', 'leak.txt'));
    symlinkSync(tmp, join(root, 'models', 'up'));
    symlinkSync(join(root, 'web', 'index.html'), join(root, 'web', 'alias.html'));
    const server = new WebServer({ root });
    const { origin } = await server.listen(0);
    try {
      const get = async (p: string) => (await fetch(origin + p)).status;
      assert.equal(await get('/web/index.html'), 200);
      assert.equal(await get('/web/alias.html'), 200);
      assert.equal(await get('/web/leak.txt'), 404);
      assert.equal(await get('/models/up/secret.txt'), 404);
    } finally {
      await server.close();
    }
  });
});

describe('run directories: temp files of killed writes', () => {
  test('opening a run dir removes temp files whose writer is gone and keeps a live one', async () => {
    const dir = join(tmp, 'run');
    mkdirSync(dir);
    const child = spawn(process.execPath, ['-e', '0']);
    const dead = await new Promise<number>((ok) => child.on('exit', () => ok(child.pid!)));
    const stale = join(dir, `.ckpt-00000010.safetensors.${dead}.0.tmp`);
    const live = join(dir, `.ckpt-00000020.safetensors.${process.pid}.3.tmp`);
    const other = join(dir, 'notes.tmp');
    for (const p of [stale, live, other]) writeFileSync(p, 'x');
    runDirStore(dir);
    assert.equal(existsSync(stale), false);
    assert.equal(existsSync(live), true);
    assert.equal(existsSync(other), true);
    assert.deepEqual(removeStaleTemps(dir), []);
  });
});

describe('command line', () => {
  const cli = (...args: string[]) => spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, BITNET_API_KEY: undefined } as NodeJS.ProcessEnv });
  const oneLine = (r: ReturnType<typeof cli>) => {
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.doesNotMatch(r.stderr, /\n\s+at |node:internal/);
  };
  test('bad arguments fail at once with exit 2, before any work', () => {
    for (const [args, re] of [
      [['train', '--steps', 'abc'], /--steps must be an integer, got 'abc'/],
      [['train', '--threads', '999'], /--threads must be an integer ≥ 1 and ≤ 256/],
      [['train', '--threads', '0'], /--threads/],
      [['train', 'stray'], /takes no positional arguments, got 'stray'/],
      [['train', '--init-from', join(tmp, 'nope.safetensors')], /--init-from .* does not exist/],
      [['generate', 'a', 'b'], /at most 1 positional argument; unexpected 'b'/],
      [['serve', '--api-key', ''], /--api-key is empty/],
      [['pack', 'synthetic:tiny', join(tmp, 'no', 'such', 'x.safetensors')], /the folder .* does not exist/],
      [['convert', 'synthetic:tiny', tmp, '--to', 'gguf'], /is a folder, expected a file path/],
    ] as const) {
      const t0 = performance.now();
      const r = cli(...args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
      oneLine(r);
      assert.ok(performance.now() - t0 < 10_000, `${args.join(' ')} took ${performance.now() - t0} ms`);
    }
  });
  test('a port in use and an unresolvable host are one line with exit 1', async () => {
    const busy: Server = createServer();
    await new Promise<void>((ok) => busy.listen(0, '127.0.0.1', () => ok()));
    try {
      const port = String((busy.address() as AddressInfo).port);
      const r = await new Promise<{ status: number | null; stderr: string }>((ok) => {
        const c = spawn(process.execPath, [main, 'web', '--port', port], { stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        c.stderr.on('data', (d) => (stderr += String(d)));
        c.on('exit', (status) => ok({ status, stderr }));
      });
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /EADDRINUSE.*--port/);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    } finally {
      busy.close();
    }
    const h = cli('web', '--port', '0', '--host', 'no-such-host.invalid');
    assert.equal(h.status, 1, h.stderr);
    assert.match(h.stderr, /ENOTFOUND|EAI_AGAIN/);
    oneLine(h);
  });
  test('checkCommandLine and systemErrorLine', () => {
    const cmd: Command = { summary: '', options: { n: { type: 'string', default: '3' }, threads: { type: 'string' } }, maxPositionals: 1, run: async () => {} };
    assert.doesNotThrow(() => checkCommandLine(cmd, { n: '5', threads: '4' }, ['x']));
    assert.throws(() => checkCommandLine(cmd, { n: 'x' }, []), /--n must be an integer/);
    assert.throws(() => checkCommandLine(cmd, { n: '1.5' }, []), /--n must be an integer/);
    assert.throws(() => checkCommandLine(cmd, { threads: '257' }, []), /--threads/);
    assert.throws(() => checkCommandLine(cmd, {}, ['a', 'b']), /unexpected 'b'/);
    const e = Object.assign(new Error("ENOSPC: no space left on device, write"), { code: 'ENOSPC' });
    assert.match(systemErrorLine(e)!, /^ENOSPC: no space left on device, write \(the disk is full/);
    assert.equal(systemErrorLine(new TypeError('x')), undefined);
  });
});
