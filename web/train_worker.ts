/**
 * The demo's training worker: the Train section's text and settings → quickTrain (src/load/quick_train.ts,
 * the same function the Node tests run) on a fresh backend (the WebAssembly SIMD kernels, with kernel threads
 * when cross-origin isolated) → the model file bytes, posted back to the page. The training loop is
 * synchronous: progress is posted from its per-step log, and Stop arrives as a flag in shared memory that
 * the loop reads after every step (a message could not be received until the loop ends).
 */
import { BitnetError } from '../src/errors.js';
import { createBackend } from '../src/kernels/backend.js';
import { quickTrain } from '../src/load/quick_train.js';
import type { FromTrainWorker, ToTrainWorker } from './protocol.js';

interface WorkerScope {
  onmessage: ((e: MessageEvent<ToTrainWorker>) => void) | null;
  postMessage(msg: FromTrainWorker, transfer?: Transferable[]): void;
  crossOriginIsolated?: boolean;
}
const scope = globalThis as unknown as WorkerScope;
const post = (msg: FromTrainWorker, transfer: Transferable[] = []) => scope.postMessage(msg, transfer);

let queue: Promise<void> = Promise.resolve();
scope.onmessage = (e) => {
  const msg = e.data;
  queue = queue.then(() => run(msg)).catch((err: unknown) => {
    const name = err instanceof BitnetError || err instanceof Error ? err.name : 'Error';
    post({ type: 'error', name, message: err instanceof Error ? err.message : String(err) });
  });
};

async function run(msg: ToTrainWorker): Promise<void> {
  const be = await createBackend({ threads: msg.threads });
  try {
    const flag = msg.stop !== undefined ? new Int32Array(msg.stop) : undefined;
    post({ type: 'started', backend: be.name, threads: be.threads, relaxed: be.features?.relaxed ?? false, crossOriginIsolated: scope.crossOriginIsolated === true });
    const r = quickTrain(be, msg.text, { steps: msg.steps, quant: msg.quant, seed: msg.seed }, {
      onLog: (l) => {
        post({ type: 'step', step: l.step, steps: msg.steps, loss: l.loss, tokensPerSec: l.tokensPerSec, elapsedSec: l.elapsedSec, ...(l.valLoss !== undefined ? { valLoss: l.valLoss } : {}) });
      },
      ...(flag !== undefined ? { shouldStop: () => Atomics.load(flag, 0) !== 0 } : {}),
    });
    const last = r.result.history.at(-1);
    post({
      type: 'done', bytes: r.bytes as Uint8Array<ArrayBuffer>, steps: r.stepsDone, stopped: r.stepsDone < msg.steps, valLoss: r.result.final.valLoss, valBpb: r.result.final.valBpb,
      elapsedSec: last?.elapsedSec ?? 0, quant: r.config.quant, trainTokens: r.trainTokens, valTokens: r.valTokens,
    }, [r.bytes.buffer]);
  } finally {
    await be.dispose();
  }
}
