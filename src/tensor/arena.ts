/**
 * Arena: one bump allocator, named views, allocate once then compute
 * (llm.c's malloc_and_point, llama2.c's RunState).
 *
 * Two storages:
 *  - `Arena.heap()`: each allocation is its own JS typed array (reference backend, tests).
 *  - `Arena.memory(mem, base)`: views into one WebAssembly.Memory, so WASM kernels
 *    get pointers (= byteOffset) with zero copies. Shared memories never detach on
 *    grow, so views stay valid; for a non-shared memory, growing detaches earlier
 *    views, so size the arena up front (`reserve`) before taking views.
 *
 * Every allocation is aligned to ALIGN bytes (a cache line; also v128-aligned).
 * `mark()`/`release(mark)` give stack-like scratch for per-step temporaries.
 */
import { ArgumentError, BitnetError } from '../errors.js';
import { DTYPE_BYTES, DTYPE_CTOR, type DType, type DTypeMap } from './dtype.js';
import { numel, type Shape } from './shape.js';
import { tensor, type Tensor } from './tensor.js';

export const ALIGN = 64;
const WASM_PAGE = 65536;

export class OutOfMemoryError extends BitnetError {}

interface Storage {
  /** Make sure [0, bytes) is addressable; returns the buffer to view. */
  ensure(bytes: number): ArrayBufferLike;
  readonly shared: boolean;
}

/**
 * Every ArrayBuffer/SharedArrayBuffer object a memory has handed out. A grown shared
 * memory returns a new buffer object whose old views stay valid, so "is this view in
 * the WASM memory?" must check all of them.
 */
const BUFFERS = new WeakMap<WebAssembly.Memory, Set<ArrayBufferLike>>();

/** True if `view` is a view into `mem` (so its byteOffset is a WASM pointer). */
export function isInMemory(mem: WebAssembly.Memory, view: ArrayBufferView): boolean {
  let set = BUFFERS.get(mem);
  if (set !== undefined && set.has(view.buffer)) return true; // the common case, without reading mem.buffer
  if (set === undefined) BUFFERS.set(mem, (set = new Set()));
  set.add(mem.buffer);
  return set.has(view.buffer);
}

class MemoryStorage implements Storage {
  constructor(private readonly mem: WebAssembly.Memory, private readonly maxBytes: number) {
    isInMemory(mem, new Uint8Array(0));
  }
  get shared(): boolean {
    return typeof SharedArrayBuffer !== 'undefined' && this.mem.buffer instanceof SharedArrayBuffer;
  }
  ensure(bytes: number): ArrayBufferLike {
    const have = this.mem.buffer.byteLength;
    if (bytes > have) {
      if (bytes > this.maxBytes) throw new OutOfMemoryError(`arena: need ${bytes} bytes, memory limit is ${this.maxBytes}`);
      try {
        this.mem.grow(Math.ceil((bytes - have) / WASM_PAGE));
        BUFFERS.get(this.mem)?.add(this.mem.buffer);
      } catch (e) {
        throw new OutOfMemoryError(`arena: cannot grow WebAssembly memory to ${bytes} bytes (${(e as Error).message})`);
      }
    }
    return this.mem.buffer;
  }
}

export class Arena {
  private top: number;
  private readonly views = new Map<string, Tensor>();

  private constructor(private readonly storage: Storage | undefined, readonly base: number, private readonly maxBytes: number) {
    this.top = base;
  }

  /** Allocations on the JS heap (each its own typed array). */
  static heap(): Arena {
    return new Arena(undefined, 0, Number.MAX_SAFE_INTEGER);
  }

  /** Allocations inside `mem`, starting at byte `base`. */
  static memory(mem: WebAssembly.Memory, base: number, maxBytes: number): Arena {
    if (base % ALIGN !== 0) throw new ArgumentError(`Arena.memory: base ${base} must be ${ALIGN}-byte aligned`);
    return new Arena(new MemoryStorage(mem, maxBytes), base, maxBytes);
  }

  /** True when views live in a WebAssembly.Memory (pointers are byteOffsets). */
  get inMemory(): boolean {
    return this.storage !== undefined;
  }

  /** Bytes allocated so far (heap arenas count requested bytes). */
  get used(): number {
    return this.top - this.base;
  }

  /** Grow the backing memory now so that `bytes` more can be allocated without growing later. */
  reserve(bytes: number): void {
    this.storage?.ensure(this.top + bytes);
  }

  /** A view of n elements, zeroed unless `zero` is false (a loader that writes every byte skips the pass). */
  alloc<D extends DType>(dtype: D, n: number, zero = true): DTypeMap[D] {
    if (!Number.isInteger(n) || n < 0) throw new ArgumentError(`Arena.alloc: length ${n} must be a non-negative integer`);
    const bytes = n * DTYPE_BYTES[dtype];
    const start = align(this.top);
    const end = start + bytes;
    if (end > this.maxBytes) throw new OutOfMemoryError(`arena: ${bytes} bytes requested, ${this.maxBytes - start} left`);
    this.top = end;
    if (this.storage === undefined) return new DTYPE_CTOR[dtype](n) as DTypeMap[D];
    const buf = this.storage.ensure(end);
    const view = new DTYPE_CTOR[dtype](buf, start, n) as DTypeMap[D];
    if (zero) view.fill(0);
    return view;
  }

  /**
   * Raw bytes inside the WebAssembly memory (not zeroed); returns the byte offset (a WASM pointer).
   * Only for memory arenas.
   */
  allocBytes(bytes: number): number {
    if (this.storage === undefined) throw new ArgumentError('Arena.allocBytes: only memory arenas have pointers');
    const start = align(this.top);
    const end = start + bytes;
    if (end > this.maxBytes) throw new OutOfMemoryError(`arena: ${bytes} bytes requested, ${this.maxBytes - start} left`);
    this.storage.ensure(end);
    this.top = end;
    return start;
  }

  /** Allocate a named tensor; the name can be looked up later with `get`. */
  tensor<D extends DType>(dtype: D, shape: Shape, name?: string): Tensor<D> {
    const t = tensor(this.alloc(dtype, numel(shape)), shape, name);
    if (name !== undefined) {
      if (this.views.has(name)) throw new ArgumentError(`Arena.tensor: name '${name}' already allocated`);
      this.views.set(name, t);
    }
    return t;
  }

  get(name: string): Tensor | undefined {
    return this.views.get(name);
  }

  names(): string[] {
    return [...this.views.keys()];
  }

  /** Current top, to release back to later. */
  mark(): number {
    return this.top;
  }

  /** Free everything allocated after `mark` (views taken since become invalid to use). */
  release(mark: number): void {
    if (mark < this.base || mark > this.top) throw new ArgumentError(`Arena.release: bad mark ${mark}`);
    this.top = mark;
    for (const [k, v] of this.views) if (this.storage !== undefined && v.data.byteOffset >= mark) this.views.delete(k);
  }
}

function align(x: number): number {
  return Math.ceil(x / ALIGN) * ALIGN;
}
