/**
 * `bitnet web [MODEL]`: serve the browser demo (web/) cross-origin isolated on 127.0.0.1 and print its
 * URL. The page generates in a Web Worker on the same WebAssembly kernels, with threads. MODEL (a model
 * file, `bitnet pack`) is served beside the bundled one and opened by default.
 */
import { WebServer } from '../../server/web.js';
import { intFlag, UsageError, type Command } from '../args.js';

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
    const server = new WebServer(positionals[0] !== undefined ? { model: positionals[0] } : {});
    const { url } = await server.listen(port, String(v.host));
    process.stdout.write(`serving the demo at ${url}\n`);
    await new Promise<void>((done) => {
      const stop = () => void server.close().then(done);
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
  },
};
