/**
 * The demo's static server (src/server/web.ts) and `bitnet web`: isolation headers on every answer,
 * MIME types the browser insists on (module scripts, application/wasm), only the mounted folders,
 * no way out of them, GET/HEAD only.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { ArgumentError } from '../../src/errors.js';
import { resolveUnder, WebServer } from '../../src/server/web.js';
import { writeGguf } from '../../src/interop/gguf_model.js';
import { makeConfig } from '../../src/model/config.js';
import { syntheticSource } from '../../src/weights/synthetic.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** A raw request (the path goes out byte for byte, unlike fetch, which normalizes dot segments). */
function get(origin: string, path: string, method = 'GET'): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  const u = new URL(origin);
  return new Promise((ok, fail) => {
    const req = request({ host: u.hostname, port: u.port, path, method }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (b: Buffer) => parts.push(b));
      res.on('end', () => ok({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(parts) }));
    });
    req.on('error', fail);
    req.end();
  });
}


/** `bitnet web ...args --port 0` in a child process: the child, its first stdout line (the page URL) and its stderr so far. */
async function startWeb(args: string[]): Promise<{ child: ReturnType<typeof spawn>; line: string; stderr: () => string }> {
  const child = spawn(process.execPath, [join(ROOT, 'dist/src/cli/main.js'), 'web', ...args, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  const line = await new Promise<string>((ok, fail) => {
    let out = '';
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes('\n')) ok(out);
    });
    child.once('exit', (code) => fail(new Error(`exited ${code} before printing the URL: ${err}`)));
  });
  return { child, line, stderr: () => err };
}

describe('bitnet web: the demo server', () => {
  const server = new WebServer();
  let origin = '';
  before(async () => {
    ({ origin } = await server.listen(0));
  });
  after(() => server.close());

  test('serves the page, the modules, the kernels, the model and the tokenizer library with the right types and isolation headers', async () => {
    const cases: Array<[string, RegExp, string?]> = [
      ['/web/', /^text\/html/, 'web/index.html'],
      ['/dist/web/app.js', /^text\/javascript/, 'dist/web/app.js'],
      ['/dist/src/platform.js', /^text\/javascript/, 'dist/src/platform.js'],
      ['/wasm/build/core.wasm', /^application\/wasm$/, 'wasm/build/core.wasm'],
      ['/models/sotu-tiny-b158.safetensors', /^application\/octet-stream$/, 'models/sotu-tiny-b158.safetensors'],
      ['/node_modules/@huggingface/tokenizers/dist/tokenizers.mjs', /^text\/javascript/],
    ];
    for (const [path, type, file] of cases) {
      const r = await get(origin, path);
      assert.equal(r.status, 200, path);
      assert.match(String(r.headers['content-type']), type, path);
      assert.equal(r.headers['cross-origin-opener-policy'], 'same-origin', path);
      assert.equal(r.headers['cross-origin-embedder-policy'], 'require-corp', path);
      if (file !== undefined) assert.ok(r.body.equals(readFileSync(join(ROOT, file))), path);
    }
    const head = await get(origin, '/models/sotu-tiny-b158.safetensors', 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(Number(head.headers['content-length']), statSync(join(ROOT, 'models/sotu-tiny-b158.safetensors')).size);
    assert.equal(head.body.length, 0);
    const root = await get(origin, '/');
    assert.equal(root.status, 302);
    assert.equal(root.headers.location, '/web/');
  });

  test('nothing outside the mounted folders: dot segments (raw or encoded), dot-files, other files → 404, still isolated', async () => {
    for (const path of ['/dist/../package.json', '/dist/%2e%2e/package.json', '/dist/..%2fpackage.json', '/web/%2e%2e%2f%2e%2e%2fetc%2fpasswd', '/models/..%5c..%5cpackage.json',
      '/dist/%00', '/package.json', '/src/index.ts', '/node_modules/typescript/package.json', '/wasm/assembly/matmul.ts', '/dist/', '/models/.gitkeep']) {
      const r = await get(origin, path);
      assert.ok(r.status === 404 || r.status === 400, `${path}: ${r.status}`);
      assert.equal(r.headers['cross-origin-embedder-policy'], 'require-corp', path);
    }
    assert.equal((await get(origin, '/%E0%A4%A')).status, 400);
    const post = await get(origin, '/web/', 'POST');
    assert.equal(post.status, 405);
    assert.equal(post.headers.allow, 'GET, HEAD');
    assert.equal(resolveUnder('/srv/a', 'x/y.js'), join('/srv/a', 'x', 'y.js'));
    for (const bad of ['../b', 'x/../../b', '.git/config', 'a\\..\\b', 'a\0b']) assert.equal(resolveUnder('/srv/a', bad), undefined, bad);
  });

  test('a MODEL file is served beside the bundled one and the page URL opens it; a missing one is an ArgumentError', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bitnet-web-'));
    const file = join(dir, 'my model.safetensors');
    writeFileSync(file, 'bytes');
    const s = new WebServer({ model: file });
    try {
      const { origin: o, url } = await s.listen(0);
      assert.equal(url, `${o}/web/?model=${encodeURIComponent('/models/my%20model.safetensors')}`);
      const r = await get(o, '/models/my%20model.safetensors');
      assert.equal(r.status, 200);
      assert.equal(r.body.toString(), 'bytes');
      assert.equal((await get(o, '/models/sotu-tiny-b158.safetensors')).status, 200);
    } finally {
      await s.close();
      rmSync(dir, { recursive: true, force: true });
    }
    assert.throws(() => new WebServer({ model: join(dir, 'missing.safetensors') }), ArgumentError);
  });

  test('a Hugging Face folder as MODEL: only its model files are served (not its other files, subfolders or anything via ..); the URL names each', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bitnet-web-'));
    const hf = join(dir, 'my-hf');
    mkdirSync(join(hf, 'original'), { recursive: true });
    for (const n of ['config.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors', 'model.safetensors.index.json', 'tokenizer.json', 'README.md', '.secret.safetensors', 'original/consolidated.safetensors']) writeFileSync(join(hf, n), n);
    writeFileSync(join(dir, 'outside.safetensors'), 'outside');
    const s = new WebServer({ model: hf });
    try {
      const { origin: o, url } = await s.listen(0);
      const files = ['config.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors', 'model.safetensors.index.json', 'tokenizer.json'];
      assert.equal(url, `${o}/web/?${files.map((n) => `model=${encodeURIComponent(`/models/my-hf/${n}`)}`).join('&')}`);
      for (const n of files) {
        const r = await get(o, `/models/my-hf/${n}`);
        assert.equal(r.status, 200, n);
        assert.equal(r.body.toString(), n);
      }
      for (const p of ['/models/my-hf/README.md', '/models/my-hf/.secret.safetensors', '/models/my-hf/original/consolidated.safetensors', '/models/my-hf/', '/models/my-hf/../outside.safetensors',
        '/models/my-hf/%2e%2e/outside.safetensors', '/models/my-hf/..%2foutside.safetensors', '/models/outside.safetensors']) {
        assert.equal((await get(o, p)).status, 404, p);
      }
    } finally {
      await s.close();
    }
    rmSync(join(hf, 'config.json'));
    assert.throws(() => new WebServer({ model: hf }), (e: unknown) => e instanceof ArgumentError && /without config\.json/.test(e.message));
    rmSync(dir, { recursive: true, force: true });
  });

  test('`bitnet web MODEL.gguf` serves the GGUF as it is (no repacking)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bitnet-web-'));
    const gguf = join(dir, 'm.gguf');
    writeGguf(gguf, syntheticSource(makeConfig('tiny', { dim: 256, ffnDim: 512, nHeads: 4, nKvHeads: 2, vocabSize: 300, nLayers: 1 }), 1), { type: 'tq2_0' });
    const { child, line, stderr } = await startWeb([gguf]);
    try {
      const m = /serving the demo at (http:\/\/127\.0\.0\.1:\d+)\/web\/\?model=%2Fmodels%2Fm\.gguf\n/.exec(line);
      assert.ok(m, line);
      const r = await get(m[1]!, '/models/m.gguf');
      assert.equal(r.status, 200);
      assert.ok(r.body.equals(readFileSync(gguf)));
      assert.doesNotMatch(stderr(), /packed/);
    } finally {
      child.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('`bitnet web --port 0` prints the page URL, serves it, stops on SIGTERM', async () => {
    const { child, line } = await startWeb([]);
    try {
      const m = /serving the demo at (http:\/\/127\.0\.0\.1:\d+)\/web\/\n/.exec(line);
      assert.ok(m, line);
      const r = await get(m[1]!, '/web/');
      assert.equal(r.status, 200);
      assert.match(r.body.toString(), /type="importmap"/);
      const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
