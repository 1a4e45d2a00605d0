import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { inflateSync, gzipSync } from 'node:zlib';
import { DataError } from '../../src/errors.js';
import { loadMnist, parseIdx } from '../../src/interp/datasets.js';
import { diverging, heatmapsSvg, linePlotSvg, tileGrid } from '../../src/interp/figures.js';
import { crc32, encodePng } from '../../src/interp/png.js';

describe('PNG encoder and figures', () => {
  test('PNG decodes back: signature, chunk CRCs, IHDR and inflated pixel bytes', () => {
    const width = 5, height = 3;
    const rgb = Uint8Array.from({ length: width * height * 3 }, (_, i) => (i * 37) & 255);
    const png = encodePng({ width, height, rgb });
    assert.deepEqual(Array.from(png.subarray(0, 8)), [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const dv = new DataView(png.buffer, png.byteOffset);
    let off = 8;
    const chunks: Record<string, Uint8Array> = {};
    while (off < png.length) {
      const len = dv.getUint32(off);
      const type = String.fromCharCode(...png.subarray(off + 4, off + 8));
      const data = png.subarray(off + 8, off + 8 + len);
      assert.equal(dv.getUint32(off + 8 + len), (crc32(png.subarray(off + 4, off + 8 + len)) ^ 0xffffffff) >>> 0, `${type} CRC`);
      chunks[type] = data;
      off += 12 + len;
    }
    assert.deepEqual(Object.keys(chunks), ['IHDR', 'IDAT', 'IEND']);
    const ih = new DataView(chunks.IHDR!.buffer, chunks.IHDR!.byteOffset);
    assert.equal(ih.getUint32(0), width);
    assert.equal(ih.getUint32(4), height);
    const raw = inflateSync(chunks.IDAT!);
    assert.equal(raw.length, height * (1 + 3 * width));
    for (let y = 0; y < height; y++) {
      assert.equal(raw[y * (1 + 3 * width)], 0);
      assert.deepEqual(Array.from(raw.subarray(y * (1 + 3 * width) + 1, (y + 1) * (1 + 3 * width))), Array.from(rgb.subarray(y * width * 3, (y + 1) * width * 3)));
    }
    // CRC-32 check value of "123456789"
    assert.equal((crc32(new TextEncoder().encode('123456789')) ^ 0xffffffff) >>> 0, 0xcbf43926);
  });

  test('tile grid places signed tiles with the diverging map; SVGs are well-formed strings', () => {
    assert.deepEqual(diverging(0), [255, 255, 255]);
    assert.deepEqual(diverging(1), [0, 102, 255]);
    assert.deepEqual(diverging(-1), [255, 51, 0]);
    const g = tileGrid([[{ data: [1, -1, 0, 0.5], w: 2, h: 2 }, undefined]], 1, 1);
    assert.equal(g.width, 2 * 3 + 1);
    assert.equal(g.height, 2 + 2);
    assert.deepEqual(Array.from(g.rgb.subarray((1 * g.width + 1) * 3, (1 * g.width + 1) * 3 + 3)), [0, 102, 255]);
    const svg = linePlotSvg([{ label: 'a<b', x: [0, 1, 2], y: [0.1, 0.5, 0.2] }], { title: 't', xlabel: 'x', ylabel: 'y' });
    assert.match(svg, /^<svg[\s\S]*<\/svg>\n$/);
    assert.match(svg, /a&lt;b/);
    assert.match(heatmapsSvg([{ title: 'Q', data: [1, 0, 0, -1], n: 2 }], ['x0', 'x1']), /1\.00[\s\S]*-1\.00/);
  });
});

describe('dataset loaders validate their files', () => {
  test('IDX images and labels (gzipped), bad magic', () => {
    const img = new Uint8Array(16 + 2 * 4);
    const dv = new DataView(img.buffer);
    dv.setUint32(0, 2051); dv.setUint32(4, 2); dv.setUint32(8, 2); dv.setUint32(12, 2);
    img.set([0, 255, 51, 102, 1, 2, 3, 4], 16);
    const p = parseIdx(new Uint8Array(gzipSync(img)), 'img');
    assert.equal(p.kind, 'images');
    if (p.kind === 'images') assert.deepEqual(Array.from(p.data.subarray(0, 3)), [0, 1, Math.fround(0.2)]);
    const lab = new Uint8Array([0, 0, 8, 1, 0, 0, 0, 2, 7, 3]);
    const l = parseIdx(lab, 'lab');
    assert.ok(l.kind === 'labels' && l.labels[0] === 7);
    assert.throws(() => parseIdx(new Uint8Array(10), 'x'), DataError);
    assert.throws(() => parseIdx(img.subarray(0, 20), 'short'), /header says/);
  });

  test('MNIST json: a valid tiny copy loads; a bad value and a missing directory are DataErrors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mnist-'));
    const good = join(dir, 'good'); mkdirSync(good);
    for (let c = 0; c < 10; c++) writeFileSync(join(good, `${c}.json`), JSON.stringify({ data: Array.from({ length: 784 * (c % 2 + 1) }, (_, i) => (i % 7) / 7) }));
    const d = loadMnist(good);
    assert.equal(d.n, 15);
    assert.equal(d.y[0], 0);
    assert.equal(d.y[1], 1);
    assert.equal(d.y[2], 1);
    const bad = join(dir, 'bad'); mkdirSync(bad);
    for (let c = 0; c < 10; c++) writeFileSync(join(bad, `${c}.json`), JSON.stringify({ data: Array.from({ length: 784 }, () => (c === 3 ? 2 : 0)) }));
    assert.throws(() => loadMnist(bad), /3\.json value 0 is 2/);
    assert.throws(() => loadMnist(join(dir, 'nope')), DataError);
  });
});
