/**
 * Backends: one interface, two implementations.
 *
 *   ref   plain-TypeScript kernels (src/kernels/ref): the definition; f32 or f64.
 *   wasm  AssemblyScript SIMD kernels (src/kernels/wasm + wasm/assembly), multithreaded.
 *
 * The Kernels interface is *derived* from the reference set, and the WASM set is
 * bound to it with a compile-time check, so a kernel without a twin does not build.
 * `createBackend({ backend: 'auto' })` picks wasm and falls back to ref with a
 * one-line notice when the engine lacks WebAssembly SIMD — it never throws for that.
 */
import { ArgumentError, BackendError } from '../errors.js';
import { Arena } from '../tensor/arena.js';
import * as ref from './ref/index.js';
import * as wasm from './wasm/index.js';
import { WasmContext, type Features, type WasmOptions } from './wasm/context.js';

export type Kernels = typeof ref;
export type BackendName = 'ref' | 'wasm';

type Bound<T> = { [K in keyof T]: T[K] extends (ctx: WasmContext, ...a: infer A) => infer R ? (...a: A) => R : never };

export interface Backend extends Kernels {
  readonly name: BackendName;
  /** Threads the kernels use (1 for ref). */
  readonly threads: number;
  /** SIMD features in use ('none' for ref). */
  readonly features: Features | undefined;
  /** Allocations the kernels can use without copies (WASM memory for wasm, JS heap for ref). */
  readonly arena: Arena;
  /** The WASM context (wasm only). */
  readonly ctx: WasmContext | undefined;
  dispose(): Promise<void>;
}

export interface BackendOptions extends WasmOptions {
  /** 'auto' (default): wasm if available, else ref with a notice. */
  backend?: BackendName | 'auto';
  /** Where the fallback notice goes (default: console.warn). */
  notice?: (msg: string) => void;
}

function bindWasm(ctx: WasmContext): Kernels {
  const out: Record<string, unknown> = {};
  for (const [k, f] of Object.entries(wasm)) {
    if (typeof f === 'function') out[k] = (...a: unknown[]) => (f as (...x: unknown[]) => unknown)(ctx, ...a);
  }
  // Compile-time twin check: every reference kernel has a WASM binding with the same signature.
  const check: Kernels = out as Bound<typeof wasm>;
  return check;
}

export function refBackend(): Backend {
  return { ...ref, name: 'ref', threads: 1, features: undefined, arena: Arena.heap(), ctx: undefined, dispose: async () => undefined };
}

export async function wasmBackend(opts: WasmOptions = {}): Promise<Backend> {
  const ctx = await WasmContext.create(opts);
  return { ...bindWasm(ctx), name: 'wasm', threads: ctx.threads, features: ctx.features, arena: ctx.arena, ctx, dispose: () => ctx.dispose() };
}

export async function createBackend(opts: BackendOptions = {}): Promise<Backend> {
  const which = opts.backend ?? 'auto';
  if (which === 'ref') return refBackend();
  if (which === 'wasm') return wasmBackend(opts);
  if (which !== 'auto') throw new ArgumentError(`unknown backend '${String(which)}' (expected ref, wasm or auto)`);
  try {
    return await wasmBackend(opts);
  } catch (e) {
    if (!(e instanceof BackendError)) throw e;
    (opts.notice ?? ((m: string) => console.warn(m)))(`bitnet: WebAssembly kernels unavailable (${e.message}); using the reference kernels`);
    return refBackend();
  }
}
