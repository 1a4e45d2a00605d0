/**
 * Kernel worker: instantiates the same WebAssembly module on the shared memory
 * and runs its slice of each job posted through the control block. No
 * postMessage per job: a spin, then Atomics.wait on the generation counter.
 */
import { CHUNK, CHUNKS, claimChunk, CMD, CMD_EXIT, CTRL_ARGS_BYTE, DEAD, DONE, ERROR, FN, GEN, kernelImports, NARGS, ROWS, SPIN_ITERS, type WorkerInit } from './protocol.js';

type Fn = (...args: number[]) => unknown;

function run(init: WorkerInit, report: (msg: unknown) => void): void {
  try {
    loop(init, report);
  } catch (e) {
    // Anything outside a kernel call going wrong: tell the pool through shared memory
    // (its event loop may be blocked waiting for us; it checks DEAD while it waits).
    const ctrl = new Int32Array(init.control);
    Atomics.add(ctrl, DEAD, 1);
    Atomics.store(ctrl, ERROR, 1);
    Atomics.notify(ctrl, DONE);
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
    // Claim chunks of this job until none is left; a claim also proves the job is still current, so the
    // arguments read before it are this job's (the caller rewrites them only after every chunk is done).
    const job = gen & 0xffff;
    let a: number[] | undefined;
    for (let c = claimChunk(ctrl, job); c >= 0; c = claimChunk(ctrl, job)) {
      const rows = ctrl[ROWS]!, chunk = ctrl[CHUNK]!;
      try {
        if (a === undefined) {
          const n = ctrl[NARGS]!;
          a = new Array<number>(n + 3);
          for (let i = 0; i < n; i++) a[i] = args[i]!;
          a[n + 2] = tid;
        }
        const n = a.length - 3;
        a[n] = c * chunk;
        a[n + 1] = Math.min(rows, (c + 1) * chunk);
        fns[ctrl[FN]!]!(...a);
      } catch (e) {
        Atomics.store(ctrl, ERROR, 1);
        report({ error: String((e as Error)?.message ?? e), tid });
      }
      if (Atomics.add(ctrl, DONE, 1) + 1 === ctrl[CHUNKS]!) Atomics.notify(ctrl, DONE);
    }
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
