/**
 * `bitnet web [MODEL]`: serve the browser demo (web/) cross-origin isolated on 127.0.0.1 and print its
 * URL. The page generates in a Web Worker on the same WebAssembly kernels, with threads. MODEL (anything
 * `bitnet generate` opens) is served beside the bundled one and opened by default. The page reads what the
 * Node engine reads (src/load/model_files.ts): a GGUF file, our model file and a Hugging Face folder are
 * served as they are (a folder: only its model files, read-only); a run directory, a checkpoint or a
 * synthetic model is packed into a model file first (a temporary file, removed on exit).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { WebServer } from '../../server/web.js';
import { openModel, saveModelFile } from '../../load/open.js';
import { intFlag, UsageError, type Command } from '../args.js';
import { progressBar } from '../progress.js';

export const webCommand: Command = {
  summary: 'serve the browser demo (generation in a Web Worker on the WASM kernels, threads when cross-origin isolated)',
  usage: 'bitnet web [MODEL] [--port 8080] [--host 127.0.0.1]',
  maxPositionals: 1,
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '8080' },
  },
  async run(v, positionals) {
    if (positionals.length > 1) throw new UsageError(`expected at most one MODEL, got ${positionals.length}: ${positionals.join(' ')}`);
    const port = intFlag(v, 'port', 0)!;
    if (port > 65535) throw new UsageError(`--port must be ≤ 65535, got ${port}`);
    let model = positionals[0];
    let tmp: string | undefined;
    if (model !== undefined) {
      const opened = openModel(model);
      try {
        if (opened.kind !== 'gguf' && opened.kind !== 'hf' && opened.kind !== 'model-file') {
          tmp = mkdtempSync(join(tmpdir(), 'bitnet-web-'));
          const out = join(tmp, `${basename(model).replace(/\.(gguf|safetensors)$/i, '')}.safetensors`);
          const bar = progressBar(`packing ${basename(model)} for the page`, 'tensors');
          try {
            saveModelFile(out, opened.source, opened.tokenizer, { onProgress: (d, t) => bar.onProgress(d, t) });
          } finally {
            bar.stop();
          }
          process.stderr.write(`packed ${model} (${opened.kind}) into ${out} for the page\n`);
          model = out;
        }
      } catch (e) {
        if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
        throw e;
      } finally {
        opened.close();
      }
    }
    try {
      const server = new WebServer(model !== undefined ? { model } : {});
      const { url } = await server.listen(port, String(v.host));
      process.stdout.write(`serving the demo at ${url}\n`);
      await new Promise<void>((done) => {
        const stop = () => void server.close().then(done);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    } finally {
      if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
    }
  },
};
