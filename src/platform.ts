/**
 * The only place that knows whether we run in Node or in a browser:
 * loading .wasm bytes, starting a worker, enabling relaxed SIMD on Node 20.
 * Node-only modules are imported dynamically so the same code bundles for the web.
 */
export const isNode: boolean = typeof process !== 'undefined' && typeof process.versions?.node === 'string';

/** URL of a built WebAssembly module (wasm/build/<name>), relative to this file (dist/src/platform.js). */
export function wasmUrl(name: string): URL {
  return new URL(`../../wasm/build/${name}`, import.meta.url);
}

export async function loadWasmBytes(name: string): Promise<Uint8Array<ArrayBuffer>> {
  const url = wasmUrl(name);
  if (isNode) {
    const { readFile } = await import('node:fs/promises');
    const buf = await readFile(url);
    return new Uint8Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer);
  }
  const res = await fetch(url);
  if (!res.ok) throw new Error(`cannot load ${url.href}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

let relaxedFlagTried = false;
/**
 * Node 20 (V8 11.3) ships relaxed SIMD behind --experimental-wasm-relaxed-simd,
 * which NODE_OPTIONS does not accept; v8.setFlagsFromString before compiling works
 * (docs/platform.md §3.2). Node ≥ 22 and Chromium have it on by default.
 */
export async function enableRelaxedSimd(): Promise<void> {
  if (relaxedFlagTried || !isNode) return;
  relaxedFlagTried = true;
  try {
    const v8 = await import('node:v8');
    v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  } catch {
    // Older/newer V8 without the flag: the feature probe decides.
  }
}

/** Number of logical CPUs. */
export async function cpuCount(): Promise<number> {
  if (isNode) {
    const os = await import('node:os');
    return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  }
  return (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1;
}

/** Minimal common surface of a Node worker_threads Worker and a Web Worker. */
export interface WorkerHandle {
  postMessage(msg: unknown): void;
  onError(fn: (err: unknown) => void): void;
  onMessage(fn: (msg: unknown) => void): void;
  terminate(): Promise<unknown> | void;
  /** Do not keep the process alive for this worker (Node). */
  unref(): void;
}

/** Start the module worker at `url` and send it `init` as its first message. */
export async function startWorker(url: URL, init: unknown): Promise<WorkerHandle> {
  if (isNode) {
    const { Worker } = await import('node:worker_threads');
    const w = new Worker(url);
    w.postMessage(init);
    return {
      postMessage: (m) => w.postMessage(m),
      onError: (fn) => void w.on('error', fn),
      onMessage: (fn) => void w.on('message', fn),
      terminate: () => w.terminate(),
      unref: () => w.unref(),
    };
  }
  const w = new Worker(url, { type: 'module' });
  w.postMessage(init);
  return {
    postMessage: (m) => w.postMessage(m),
    onError: (fn) => w.addEventListener('error', (e) => fn(e)),
    onMessage: (fn) => w.addEventListener('message', (e) => fn(e.data)),
    terminate: () => w.terminate(),
    unref: () => undefined,
  };
}

/** Can this thread block in Atomics.wait? (Node: always; browsers: not on the main thread.) */
export function canBlock(): boolean {
  if (isNode) return true;
  return typeof (globalThis as { document?: unknown }).document === 'undefined';
}
