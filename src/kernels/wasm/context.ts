/**
 * WasmContext: one WebAssembly memory, the kernel module instantiated on it,
 * a thread pool sharing both, and the marshalling that turns typed arrays into
 * pointers. The kernel bindings (src/kernels/wasm/*.ts) only check arguments and
 * call through here; all math is in wasm/assembly/.
 *
 * Feature probing picks the best module: relaxed.wasm (relaxed SIMD) > core.wasm
 * (SIMD128); shared memory + workers when SharedArrayBuffer is usable, else a
 * single-threaded unshared build. No SIMD at all → BackendError (the registry
 * then falls back to the reference kernels with a one-line notice).
 */
import { ArgumentError, BackendError } from '../../errors.js';

/** Most kernel threads a context starts (the CLI's --threads bound too). */
export const MAX_THREADS = 256;
import { Arena, isInMemory } from '../../tensor/arena.js';
import { DTYPE_CTOR, dtypeOf, type TypedArray } from '../../tensor/dtype.js';
import { cpuCount, enableRelaxedSimd, loadWasmBytes } from '../../platform.js';
import { ThreadPool } from '../threads/pool.js';
import { functionNames, kernelImports } from '../threads/protocol.js';

/** Maximum pages the modules declare (scripts/build_wasm.mjs). */
const MODULE_MAX_PAGES = 65536;
/** Pages the modules declare as initial memory (scripts/build_wasm.mjs --initialMemory). */
const MODULE_INITIAL_PAGES = 17;
/** Arena starts after the modules' static data (checked against HEAP_BASE at load). */
const ARENA_BASE = 1 << 20;
const PAGE = 65536;
/** Per-thread scratch (GEMM packing buffers, attention rows…), allocated once per context. */
export const THREAD_SCRATCH_BYTES = 4 << 20;

export interface Features {
  simd: boolean;
  relaxed: boolean;
  shared: boolean;
}

export interface WasmOptions {
  /** Threads including the caller; default: number of CPUs. Needs shared memory for > 1. */
  threads?: number;
  /** Use relaxed-SIMD kernels when the engine supports them (default true). */
  relaxed?: boolean;
  /** Upper bound on the WebAssembly memory, bytes (default 4 GiB - 64 KiB... capped by the engine). */
  maxMemoryBytes?: number;
  /** For unshared memory only: bytes to reserve up front (views detach if it grows later). */
  reserveBytes?: number;
  /** Pretend these features are missing (tests, and users pinning a code path). */
  disable?: Array<keyof Features>;
}

export interface Scope {
  /** Pointer to `a`'s data: zero-copy if `a` lives in this memory, else a scratch copy. */
  in(a: TypedArray): number;
  /** Pointer for output into `a`: zero-copy if resident, else scratch copied back when the scope ends. */
  out(a: TypedArray): number;
  /** Both: copied in and back. */
  inout(a: TypedArray): number;
  /** Uninitialised scratch bytes, freed when the scope ends. */
  temp(bytes: number): number;
}

type Fn = (...args: number[]) => number;

let cachedFeatures: Promise<Features> | undefined;

/** Which WebAssembly features this engine has (probed once by validating the built modules). */
export function probeFeatures(): Promise<Features> {
  cachedFeatures ??= (async () => {
    await enableRelaxedSimd();
    const simd = WebAssembly.validate(await loadWasmBytes('core-unshared.wasm'));
    const relaxed = simd && WebAssembly.validate(await loadWasmBytes('relaxed-unshared.wasm'));
    let shared = false;
    try {
      shared = typeof SharedArrayBuffer !== 'undefined' && new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }).buffer instanceof SharedArrayBuffer;
      shared &&= WebAssembly.validate(await loadWasmBytes('core.wasm'));
    } catch {
      shared = false;
    }
    return { simd, relaxed, shared };
  })();
  return cachedFeatures;
}

export class WasmContext {
  /** Persistent allocations in the WASM memory (model weights, activations, KV cache). */
  readonly arena: Arena;
  private readonly fns: Map<string, Fn>;
  private readonly fnIndex: Map<string, number>;
  private scopeDepth = 0;
  private copied = 0;
  /** Base of the per-thread scratch: thread `tid` owns [scratchBase + tid·scratchStride, +scratchStride). */
  readonly scratchBase: number;
  readonly scratchStride = THREAD_SCRATCH_BYTES;

  private constructor(
    readonly memory: WebAssembly.Memory,
    readonly features: Features,
    /** Whether the *_relaxed kernels are used. */
    readonly relaxed: boolean,
    private readonly instance: WebAssembly.Instance,
    names: string[],
    private readonly pool: ThreadPool | undefined,
    maxBytes: number,
  ) {
    this.fns = new Map(names.map((n) => [n, instance.exports[n] as Fn]));
    this.fnIndex = new Map(names.map((n, i) => [n, i]));
    this.arena = Arena.memory(memory, ARENA_BASE, maxBytes);
    this.scratchBase = this.arena.allocBytes(THREAD_SCRATCH_BYTES * (pool?.threads ?? 1));
  }

  static async create(opts: WasmOptions = {}): Promise<WasmContext> {
    const probed = await probeFeatures();
    const off = new Set(opts.disable ?? []);
    const features: Features = {
      simd: probed.simd && !off.has('simd'),
      relaxed: probed.relaxed && !off.has('simd') && !off.has('relaxed'),
      shared: probed.shared && !off.has('shared'),
    };
    if (!features.simd) throw new BackendError('WebAssembly SIMD128 is not available in this engine');
    const useRelaxed = (opts.relaxed ?? true) && features.relaxed;
    let threads = opts.threads ?? (await cpuCount());
    // An argument error, not a BackendError: 'auto' must not fall back to the slow kernels over a bad count.
    if (!Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS) throw new ArgumentError(`threads must be an integer in [1, ${MAX_THREADS}], got ${threads}`);
    const shared = features.shared;
    if (!shared) threads = 1;
    const file = `${useRelaxed ? 'relaxed' : 'core'}${shared ? '' : '-unshared'}.wasm`;
    const module = await WebAssembly.compile(await loadWasmBytes(file));
    const maxBytes = Math.min(opts.maxMemoryBytes ?? MODULE_MAX_PAGES * PAGE, MODULE_MAX_PAGES * PAGE);
    const maximum = Math.floor(maxBytes / PAGE);
    const initial = Math.max(MODULE_INITIAL_PAGES, shared ? 0 : Math.ceil((ARENA_BASE + (opts.reserveBytes ?? 64 << 20)) / PAGE));
    let memory: WebAssembly.Memory;
    try {
      memory = new WebAssembly.Memory({ initial, maximum, shared });
    } catch (e) {
      throw new BackendError(`cannot create a WebAssembly memory of up to ${maxBytes} bytes: ${(e as Error).message}`);
    }
    const instance = new WebAssembly.Instance(module, kernelImports(memory));
    const heapBase = (instance.exports.HEAP_BASE as WebAssembly.Global).value as number;
    if (heapBase > ARENA_BASE) throw new BackendError(`kernel static data (${heapBase} B) overlaps the arena base ${ARENA_BASE}`);
    const need = (instance.exports.GEMM_SCRATCH_BYTES as WebAssembly.Global).value as number;
    if (need > THREAD_SCRATCH_BYTES) throw new BackendError(`GEMM scratch ${need} B exceeds THREAD_SCRATCH_BYTES`);
    const names = functionNames(module);
    const pool = threads > 1 ? await ThreadPool.create(threads, module, memory, names) : undefined;
    return new WasmContext(memory, features, useRelaxed, instance, names, pool, maxBytes);
  }

  /** Threads used by `parallel` (including the caller). */
  get threads(): number {
    return this.pool?.threads ?? 1;
  }

  /** Value of an exported global (e.g. a kernel's scratch size). */
  global(name: string): number {
    const g = this.instance.exports[name];
    if (!(g instanceof WebAssembly.Global)) throw new BackendError(`kernel module has no global '${name}'`);
    return g.value as number;
  }

  has(name: string): boolean {
    return this.fns.has(name);
  }

  private fn(name: string): Fn {
    const f = this.fns.get(name);
    if (f === undefined) throw new BackendError(`kernel module has no export '${name}'`);
    return f;
  }

  /** Call export `name` once on this thread. */
  call(name: string, ...args: number[]): number {
    return this.fn(name)(...args);
  }

  /**
   * Call threaded export `name(...args, r0, r1, tid)` over rows [0, rows), split into
   * chunks of a multiple of `align` rows. Uses at most ceil(rows / minRowsPerThread) threads.
   */
  parallel(name: string, args: number[], rows: number, align = 1, minRowsPerThread = 1): void {
    const f = this.fn(name);
    if (rows <= 0) return;
    const used = Math.min(this.threads, Math.ceil(rows / Math.max(1, minRowsPerThread)));
    if (this.pool === undefined || used <= 1) {
      f(...args, 0, rows, 0);
      return;
    }
    this.pool.run(this.fnIndex.get(name)!, args, rows, align, used, (r0, r1, tid) => void f(...args, r0, r1, tid));
  }

  /**
   * Arrays marshalled through scratch since creation: each `in`, `out` or `inout` of an array that does not
   * live in this memory counts once. A zero-copy call adds none (the residency tests check this).
   */
  get scratchCopies(): number {
    return this.copied;
  }

  /** True if `a` is a view into this context's memory. */
  isResident(a: ArrayBufferView): boolean {
    return isInMemory(this.memory, a);
  }

  /** Run `body` with pointer marshalling; scratch is freed and outputs copied back at the end. */
  scope<T>(body: (s: Scope) => T): T {
    const mark = this.arena.mark();
    const copies: Array<[TypedArray, number]> = [];
    const copyIn = (a: TypedArray): number => {
      this.copied++;
      const p = this.arena.allocBytes(a.byteLength);
      viewAt(this.memory, a, p).set(a as never);
      return p;
    };
    const s: Scope = {
      in: (a) => (this.isResident(a) ? a.byteOffset : copyIn(a)),
      out: (a) => {
        if (this.isResident(a)) return a.byteOffset;
        this.copied++;
        const p = this.arena.allocBytes(a.byteLength);
        copies.push([a, p]);
        return p;
      },
      inout: (a) => {
        if (this.isResident(a)) return a.byteOffset;
        const p = copyIn(a);
        copies.push([a, p]);
        return p;
      },
      temp: (bytes) => this.arena.allocBytes(bytes),
    };
    this.scopeDepth++;
    try {
      const r = body(s);
      for (const [a, p] of copies) a.set(viewAt(this.memory, a, p) as never);
      return r;
    } finally {
      this.scopeDepth--;
      this.arena.release(mark);
    }
  }

  async dispose(): Promise<void> {
    await this.pool?.dispose();
  }
}

function viewAt(memory: WebAssembly.Memory, like: TypedArray, ptr: number): TypedArray {
  const dt = dtypeOf(like)!;
  return new DTYPE_CTOR[dt](memory.buffer, ptr, like.length);
}

/** A context shared by the tests in one process (created on first use). */
const shared = new Map<string, Promise<WasmContext>>();
export function sharedContext(opts: { threads?: number; relaxed?: boolean } = {}): Promise<WasmContext> {
  const key = `${opts.threads ?? 'auto'}/${opts.relaxed ?? 'auto'}`;
  let p = shared.get(key);
  if (p === undefined) shared.set(key, (p = WasmContext.create(opts)));
  return p;
}
