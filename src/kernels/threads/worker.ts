/**
 * Kernel worker: instantiates the same WebAssembly module on the shared memory
 * and runs its slice of each job posted through the control block. No
 * postMessage per job: a spin, then Atomics.wait on the generation counter.
 */
import { CMD, CMD_EXIT, CTRL_ARGS_BYTE, DEAD, ERROR, FN, GEN, kernelImports, NARGS, PENDING, RANGES, SPIN_ITERS, type WorkerInit } from './protocol.js';

type Fn = (...args: number[]) => unknown;

function run(init: WorkerInit, report: (msg: unknown) => void): void {
  try {
    loop(init, report);
  } catch (e) {
    // Anything outside a kernel call going wrong: tell the pool through shared memory
    // (its event loop may be blocked waiting for us) and release the current job.
    const ctrl = new Int32Array(init.control);
    Atomics.add(ctrl, DEAD, 1);
    Atomics.store(ctrl, ERROR, 1);
    if (Atomics.sub(ctrl, PENDING, 1) === 1) Atomics.notify(ctrl, PENDING);
    report({ error: `worker ${init.tid} died: ${String((e as Error)?.message ?? e)}`, tid: init.tid });
  }
}

function loop(init: WorkerInit, report: (msg: unknown) => void): void {
  const instance = new WebAssembly.Instance(init.module, kernelImports(init.memory));
  const fns = init.names.map((n) => instance.exports[n] as Fn);
  const ctrl = new Int32Array(init.control);
  const args = new Float64Array(init.control, CTRL_ARGS_BYTE);
  const tid = init.tid;
  let gen = Atomics.load(ctrl, GEN);
  report({ ready: tid });
  for (;;) {
    let spins = 0;
    while (Atomics.load(ctrl, GEN) === gen) {
      if (++spins > SPIN_ITERS) {
        Atomics.wait(ctrl, GEN, gen);
        spins = 0;
      }
    }
    gen = Atomics.load(ctrl, GEN);
    if (Atomics.load(ctrl, CMD) === CMD_EXIT) break;
    const r0 = ctrl[RANGES + 2 * tid]!;
    const r1 = ctrl[RANGES + 2 * tid + 1]!;
    if (r1 > r0) {
      try {
        const n = ctrl[NARGS]!;
        const a: number[] = new Array<number>(n + 3);
        for (let i = 0; i < n; i++) a[i] = args[i]!;
        a[n] = r0;
        a[n + 1] = r1;
        a[n + 2] = tid;
        fns[ctrl[FN]!]!(...a);
      } catch (e) {
        Atomics.store(ctrl, ERROR, 1);
        report({ error: String((e as Error)?.message ?? e), tid });
      }
    }
    if (Atomics.sub(ctrl, PENDING, 1) === 1) Atomics.notify(ctrl, PENDING);
  }
}

const isNodeWorker = typeof process !== 'undefined' && typeof process.versions?.node === 'string';
if (isNodeWorker) {
  const { parentPort } = await import('node:worker_threads');
  parentPort!.once('message', (init: WorkerInit) => run(init, (m) => parentPort!.postMessage(m)));
} else {
  const scope = globalThis as unknown as { onmessage: ((e: MessageEvent) => void) | null; postMessage(m: unknown): void };
  scope.onmessage = (e: MessageEvent) => {
    scope.onmessage = null;
    run(e.data as WorkerInit, (m) => scope.postMessage(m));
  };
}
