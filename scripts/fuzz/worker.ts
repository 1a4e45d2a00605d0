/**
 * Fuzz worker (a child process of the harness): takes cases over IPC, runs each through the loader the
 * CLI uses (`loadModel`, a tokenizer required) and a forward pass of 1–2 tokens, and answers how it ended:
 *   typed      an error that is an instance of BitnetError (src/errors.ts): the wanted outcome for bad input
 *   ok         loaded, and the logits are finite
 *   untyped    any other error (TypeError, RangeError, …): a bug
 *   nonfinite  loaded, but the logits hold NaN/Inf
 * Hangs and crashes are the parent's to see (timeout, exit without an answer).
 */
import { BitnetError } from '../../src/errors.js';
import { loadModel } from '../../src/load/open.js';

export interface CaseRequest {
  id: number;
  path: string;
}

export type Outcome = 'typed' | 'ok' | 'untyped' | 'nonfinite' | 'hang' | 'crash';

export interface CaseResult {
  id: number;
  outcome: Outcome;
  error?: { name: string; message: string; stack?: string };
  ms: number;
}

async function runCase(path: string): Promise<Omit<CaseResult, 'id' | 'ms'>> {
  let m;
  try {
    m = await loadModel(path, { threads: 1, requireTokenizer: true, notice: () => {} });
  } catch (e) {
    return classify(e);
  }
  try {
    const V = m.model.config.vocabSize;
    const enc = m.tokenizer!.encode('Hi').filter((t) => t >= 0 && t < V).slice(0, 2);
    const ids = enc.length > 0 ? enc : [0];
    const s = m.session({ ctx: Math.min(8, m.model.config.maxSeqLen) });
    const logits = s.prefill(ids);
    for (let i = 0; i < logits.length; i++) if (!Number.isFinite(logits[i]!)) return { outcome: 'nonfinite', error: { name: 'NonFinite', message: `logit ${i} is ${logits[i]}` } };
    m.tokenizer!.decode(ids);
    return { outcome: 'ok' };
  } catch (e) {
    return classify(e);
  } finally {
    await m.dispose();
  }
}

function classify(e: unknown): Omit<CaseResult, 'id' | 'ms'> {
  const err = e instanceof Error ? e : new Error(String(e));
  const error = { name: err.name, message: err.message.slice(0, 500), ...(err.stack !== undefined ? { stack: err.stack.split('\n').slice(0, 8).join('\n') } : {}) };
  return { outcome: e instanceof BitnetError ? 'typed' : 'untyped', error };
}

process.on('message', (msg: CaseRequest) => {
  const t0 = performance.now();
  void runCase(msg.path).then((r) => process.send!({ id: msg.id, ms: performance.now() - t0, ...r } satisfies CaseResult));
});
process.send!({ ready: true });
