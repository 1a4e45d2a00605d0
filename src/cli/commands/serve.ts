/**
 * `bitnet serve [MODEL]`: the OpenAI-compatible HTTP server (src/server/server.ts) on 127.0.0.1.
 * Prints one line `listening on URL …` to stdout once it accepts connections. SIGTERM / SIGINT
 * shut down gracefully (running generations get --grace ms to finish, then are cancelled); a
 * second signal cancels at once.
 */
import { lookup } from 'node:dns/promises';
import { basename, extname } from 'node:path';
import { BitnetServer } from '../../server/server.js';
import { KV_CACHE_TYPES } from '../../infer/session.js';
import { apiKeyFlag, choiceFlag, intFlag, UsageError, type Command } from '../args.js';
import { SPEC_K_MAX, SPEC_NGRAM_MAX } from '../../infer/speculative.js';
import { LOAD_OPTIONS, loadedLine, loadPacked } from './generate.js';

export const serveCommand: Command = {
  summary: 'OpenAI-compatible HTTP server: /v1/completions, /v1/chat/completions (SSE streaming), /v1/models, /health, /metrics',
  usage: 'bitnet serve [MODEL] [--port 8080] [--slots 1] [--queue 8] [--api-key KEY] [--spec lookup|draft|off] [--draft MODEL] [--spec-k N]',
  maxPositionals: 1,
  options: {
    ...LOAD_OPTIONS,
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '8080' },
    slots: { type: 'string', default: '1' },
    queue: { type: 'string', default: '8' },
    'api-key': { type: 'string' },
    'max-body': { type: 'string', default: String(1 << 20) },
    'model-id': { type: 'string' },
    template: { type: 'string' },
    seed: { type: 'string', default: '0' },
    grace: { type: 'string', default: '10000' },
    spec: { type: 'string' },
    draft: { type: 'string' },
    'spec-k': { type: 'string' },
    'spec-ngram': { type: 'string' },
    'prefill-chunk': { type: 'string' },
    quiet: { type: 'boolean', short: 'q', default: false },
  },
  validate(v) {
    serveSpec(v);
    intFlag(v, 'prefill-chunk');
  },
  async run(v, positionals) {
    const port = intFlag(v, 'port', 0)!;
    if (port > 65535) throw new UsageError(`--port must be ≤ 65535, got ${port}`);
    // An unresolvable --host fails now, not after the model has loaded.
    try {
      await lookup(String(v.host));
    } catch (e) {
      throw new UsageError(`--host ${String(v.host)} does not resolve (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    const slots = intFlag(v, 'slots', 1)!;
    const maxQueue = intFlag(v, 'queue', 0)!;
    const maxBodyBytes = intFlag(v, 'max-body', 1)!;
    const seed = intFlag(v, 'seed', 0)!;
    const grace = intFlag(v, 'grace', 0)!;
    const template = choiceFlag(v, 'template', ['bitnet', 'plain'] as const);
    const spec = serveSpec(v);
    const prefillChunk = intFlag(v, 'prefill-chunk');
    // The key may come from the environment so it stays out of process listings.
    const apiKey = apiKeyFlag(v);
    const L = await loadPacked(v, positionals);
    const log = (s: string) => {
      if (!v.quiet) process.stderr.write(`bitnet serve: ${s}\n`);
    };
    log(loadedLine(L).trimEnd());
    const modelId = (v['model-id'] as string | undefined) ?? basename(L.path, extname(L.path));
    let server: BitnetServer;
    let D: Awaited<ReturnType<typeof loadPacked>> | undefined;
    try {
      if (spec.draft !== undefined) {
        D = await loadPacked({ ...v, ctx: undefined }, [spec.draft]);
        log(`draft ${loadedLine(D).trimEnd()}`);
      }
      server = new BitnetServer({
        model: L.model, tokenizer: L.tok, modelId, slots, maxQueue, ctx: L.ctx, kv: choiceFlag(v, 'kv', KV_CACHE_TYPES)!, maxBodyBytes, seed, shutdownGraceMs: grace, log,
        speculative: spec.speculative, specK: spec.specK, ...(prefillChunk !== undefined ? { prefillChunk } : {}),
        ...(D !== undefined ? { draft: { model: D.model, tokenizer: D.tok } } : {}),
        ...(apiKey ? { apiKey } : {}), ...(template ? { chatTemplate: template } : {}),
      });
    } catch (e) {
      await D?.be.dispose();
      await L.be.dispose();
      throw e;
    }
    const addr = await server.listen(port, String(v.host));
    process.stdout.write(`listening on ${addr.url} (model '${modelId}', ${slots} slot${slots > 1 ? 's' : ''} × ctx ${L.ctx}, queue ${maxQueue}, ${L.be.name} ${L.be.threads} thread${L.be.threads > 1 ? 's' : ''}${apiKey ? ', API key required' : ''})\n`);
    await new Promise<void>((resolve) => {
      let signals = 0;
      const onSignal = (sig: string) => {
        signals++;
        log(`${sig}${signals > 1 ? ' again: cancelling running requests now' : ''}`);
        if (signals > 1) server.abortRunning();
        server.close(grace).then(resolve, resolve);
      };
      process.on('SIGTERM', () => onSignal('SIGTERM'));
      process.on('SIGINT', () => onSignal('SIGINT'));
    });
    await D?.be.dispose();
    await L.be.dispose();
    log('stopped');
  },
};

/**
 * --spec (lookup | draft | off: the default for requests that do not choose; --draft MODEL alone means draft),
 * --draft (a draft model any request may use), --spec-k (the most any request may use), --spec-ngram.
 */
function serveSpec(v: Record<string, unknown>): { speculative: { mode: 'lookup' | 'draft' | 'off'; k: number; ngram: number }; specK: number; draft: string | undefined } {
  const draft = v.draft as string | undefined;
  const mode = choiceFlag(v, 'spec', ['lookup', 'draft', 'off'] as const) ?? (draft !== undefined ? 'draft' : 'off');
  if (mode === 'draft' && draft === undefined) throw new UsageError('--spec draft needs --draft MODEL (a model with the same tokenizer)');
  const k = intFlag(v, 'spec-k', 1, SPEC_K_MAX) ?? 4;
  const ngram = intFlag(v, 'spec-ngram', 1, SPEC_NGRAM_MAX) ?? 3;
  return { speculative: { mode, k, ngram }, specK: k, draft };
}
