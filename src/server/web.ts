/**
 * The browser demo's static file server (node:http): the page (web/), the compiled modules (dist/),
 * the kernels (wasm/build/), the models (models/, plus one MODEL given on the command line: a file, or a
 * Hugging Face folder, of which only the model's own files are served) and
 * the @huggingface/tokenizers package, each under the URL path it has in the package, so the page's
 * relative URLs (and platform.ts's `../../wasm/build/x.wasm`) resolve as they do on disk.
 *
 * Every response carries COOP `same-origin` + COEP `require-corp`: the page is cross-origin isolated,
 * so SharedArrayBuffer exists and the kernels run on several threads. GET and HEAD only; paths are
 * decoded and checked segment by segment (no `..`, no dot-files, no back-slashes), then checked again
 * to lie under their folder, and finally resolved through symlinks: only a file whose real path lies
 * inside its folder's real path is served (a link pointing out of the folder is 404); directories are
 * not listed.
 */
import { createReadStream, existsSync, readdirSync, readFileSync, realpathSync, statSync, type Stats } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ArgumentError } from '../errors.js';

/** The package root (this file is dist/src/server/web.js). */
const PACKAGE_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The bundled model, as the page finds it by default. */
export const BUNDLED_MODEL_URL_PATH = '/models/sotu-tiny-b158.safetensors';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
};

/** Headers on every response: cross-origin isolation, no sniffing, no stale modules after a rebuild. */
export const ISOLATION_HEADERS: Readonly<Record<string, string>> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-cache',
};

export interface WebServerOptions {
  /**
   * A model to serve as well, which the page opens by default: a file (GGUF or model file, at
   * /models/<its name>), or a Hugging Face folder (its HF_FILES, at /models/<folder name>/<file>).
   */
  model?: string;
  /** Package root to serve from (default: this installation). */
  root?: string;
}

/** The files of a Hugging Face folder that are served: the model's own, nothing else in the folder. */
export function isHfModelFile(name: string): boolean {
  return /^(config|generation_config|tokenizer|tokenizer_config|special_tokens_map|model\.safetensors\.index)\.json$/.test(name) || (/^[^/\\]+\.safetensors$/.test(name) && !name.startsWith('.'));
}

/** The file for decoded path `rel` under `dir`, or undefined when `rel` is not a safe relative path. */
export function resolveUnder(dir: string, rel: string): string | undefined {
  if (rel.includes('\0') || rel.includes('\\')) return undefined;
  const segs = rel.split('/').filter((s) => s.length > 0);
  if (segs.some((s) => s.startsWith('.'))) return undefined;
  const root = resolve(dir);
  const p = resolve(root, ...segs);
  return p === root || p.startsWith(root + sep) ? p : undefined;
}

/** `p` resolved through symlinks, or undefined when it does not exist. */
function realpathOf(p: string): string | undefined {
  try {
    return realpathSync(p);
  } catch {
    return undefined;
  }
}

/** The directory of an installed package: up from the module Node resolves for it to its package.json. */
function packageDir(name: string): string {
  for (let d = dirname(fileURLToPath(import.meta.resolve(name))); dirname(d) !== d; d = dirname(d)) {
    const pj = join(d, 'package.json');
    if (existsSync(pj) && (JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === name) return d;
  }
  throw new ArgumentError(`cannot find the ${name} package folder`);
}

export class WebServer {
  readonly http: Server;
  /** URL paths of the model the page opens by default (several for a Hugging Face folder). */
  readonly modelPaths: string[];
  private readonly mounts: Array<[prefix: string, dir: string]>;
  /** The MODEL's files by URL path (exactly these; nothing else of its folder). */
  private readonly extraFiles = new Map<string, string>();

  constructor(opts: WebServerOptions = {}) {
    const root = opts.root ?? PACKAGE_ROOT;
    this.mounts = [
      ['/web/', resolve(root, 'web')],
      ['/dist/', resolve(root, 'dist')],
      ['/wasm/build/', resolve(root, 'wasm/build')],
      ['/models/', resolve(root, 'models')],
      ['/node_modules/@huggingface/tokenizers/', packageDir('@huggingface/tokenizers')],
    ];
    if (opts.model !== undefined) {
      let st: Stats | undefined;
      try {
        st = statSync(opts.model);
      } catch {
        st = undefined;
      }
      if (st?.isFile()) {
        this.extraFiles.set(`/models/${basename(opts.model)}`, realpathOf(opts.model) ?? resolve(opts.model));
      } else if (st?.isDirectory()) {
        const dir = realpathOf(opts.model) ?? resolve(opts.model);
        const names = readdirSync(dir).filter((f) => isHfModelFile(f) && statSync(join(dir, f)).isFile()).sort();
        if (!names.includes('config.json')) throw new ArgumentError(`${opts.model}: a folder without config.json (the page opens a Hugging Face folder, a GGUF file or a model file)`);
        for (const f of names) this.extraFiles.set(`/models/${basename(dir)}/${f}`, join(dir, f));
      } else throw new ArgumentError(`model file not found: ${opts.model}`);
      this.modelPaths = [...this.extraFiles.keys()].map((p) => p.split('/').map(encodeURIComponent).join('/'));
    } else {
      this.modelPaths = [BUNDLED_MODEL_URL_PATH];
    }
    this.http = createServer((req, res) => this.handle(req, res));
  }

  /** URL path of the model the page opens by default (the first of modelPaths). */
  get modelPath(): string {
    return this.modelPaths[0]!;
  }

  /** Listen (default 127.0.0.1, port 0 = any free port). `url` is the demo page's address. */
  listen(port = 0, host = '127.0.0.1'): Promise<{ host: string; port: number; origin: string; url: string }> {
    return new Promise((ok, fail) => {
      this.http.once('error', fail);
      this.http.listen(port, host, () => {
        this.http.off('error', fail);
        const a = this.http.address() as AddressInfo;
        const origin = `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
        const query = this.extraFiles.size === 0 ? '' : `?${this.modelPaths.map((p) => `model=${encodeURIComponent(p)}`).join('&')}`;
        ok({ host: a.address, port: a.port, origin, url: `${origin}/web/${query}` });
      });
    });
  }

  close(): Promise<void> {
    return new Promise((ok) => {
      this.http.close(() => ok());
      this.http.closeAllConnections();
    });
  }

  /** Map a URL path to an existing file's real path inside its folder's real path, or undefined (404). */
  fileFor(urlPath: string): string | undefined {
    const extra = this.extraFiles.get(urlPath);
    if (extra !== undefined) return extra;
    for (const [prefix, dir] of this.mounts) {
      if (!urlPath.startsWith(prefix)) continue;
      const rel = urlPath.slice(prefix.length);
      const p = resolveUnder(dir, rel === '' && prefix === '/web/' ? 'index.html' : rel);
      const real = p === undefined ? undefined : realpathOf(p);
      const root = realpathOf(dir);
      if (real === undefined || root === undefined) return undefined;
      return real === root || real.startsWith(root + sep) ? real : undefined;
    }
    return undefined;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const reply = (status: number, text: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { ...ISOLATION_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(Buffer.byteLength(text)), ...headers });
      res.end(req.method === 'HEAD' ? undefined : text);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, 'method not allowed\n', { Allow: 'GET, HEAD' });
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    } catch {
      return reply(400, 'bad request path\n');
    }
    if (path === '/' || path === '/web') return reply(302, 'see /web/\n', { Location: '/web/' });
    const file = this.fileFor(path);
    let st: Stats | undefined;
    try {
      st = file === undefined ? undefined : statSync(file);
    } catch {
      st = undefined;
    }
    if (file === undefined || st === undefined || !st.isFile()) return reply(404, 'not found\n');
    res.writeHead(200, { ...ISOLATION_HEADERS, 'Content-Type': MIME[extname(file).toLowerCase()] ?? 'application/octet-stream', 'Content-Length': String(st.size) });
    if (req.method === 'HEAD') return void res.end();
    createReadStream(file)
      .on('error', () => res.destroy())
      .pipe(res);
  }
}
