/**
 * The README's library examples run as written: every ```ts block of the "Serving … and the
 * library API" section becomes a module inside this package (dist/readme-examples/), so
 * `import … from 'bitnet-ts'` and `'bitnet-ts/node'` resolve through package.json's exports map
 * (the built ESM + .d.ts entry points), runs in its own process, must exit 0, and its stdout must
 * match the `<!-- expect: /regex/flags -->` comment after the block.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const readme = readFileSync(`${root}README.md`, 'utf8');
const outDir = `${root}dist/readme-examples`;
after(() => rmSync(outDir, { recursive: true, force: true }));

function examples(): Array<{ code: string; expect: RegExp }> {
  const start = readme.indexOf('## Serving (`bitnet serve`');
  assert.ok(start >= 0, 'README has the serving/library section');
  const end = readme.indexOf('\n## ', start + 3);
  const section = readme.slice(start, end < 0 ? undefined : end);
  const re = /```ts\n([\s\S]*?)```\n<!-- expect: \/(.*)\/([a-z]*) -->/g;
  return [...section.matchAll(re)].map((m) => ({ code: m[1]!, expect: new RegExp(m[2]!, m[3]) }));
}

test('package exports resolve to the built ESM entry points with .d.ts beside them', () => {
  const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { name: string; exports: Record<string, { types: string; default: string }> };
  assert.equal(pkg.name, 'bitnet-ts');
  for (const k of ['.', './node']) {
    const e = pkg.exports[k]!;
    assert.ok(existsSync(`${root}${e.default}`), e.default);
    assert.ok(existsSync(`${root}${e.types}`), e.types);
  }
});

const blocks = examples();
test('the README section has executable examples, each with an expectation', () => {
  assert.ok(blocks.length >= 2, `found ${blocks.length} examples`);
  for (const b of blocks) assert.match(b.code, /from 'bitnet-ts'/);
});

blocks.forEach((b, i) => {
  test(`README example ${i + 1} runs and prints what it promises`, () => {
    mkdirSync(outDir, { recursive: true });
    const file = `${outDir}/example-${i + 1}.mjs`;
    writeFileSync(file, b.code);
    const r = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 180_000 });
    assert.equal(r.status, 0, `exit ${r.status}\n${r.stderr}`);
    assert.match(r.stdout, b.expect);
  });
});
