/**
 * Same-run peer for the decode benchmark: llama.cpp (through node-llama-cpp, prebuilt CPU binaries) on the
 * same synthetic model exported as GGUF TQ2_0. Not a dependency of this package: it runs only when
 * node-llama-cpp can be imported (from $NODE_LLAMA_CPP_DIR, e.g. /tmp/llamapeer/node_modules/node-llama-cpp
 * after `npm i node-llama-cpp@3.22.1` in /tmp/llamapeer), otherwise the benchmark says so and uses the
 * reference figures. GGUF files are cached in bench/results/ (they take a minute to write at 2B4T size).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeConfig } from '../src/model/config.js';
import { syntheticSource } from '../src/weights/synthetic.js';
import { writeGguf } from '../src/interop/gguf_model.js';

export interface PeerResult { decodeTokS: number; prefillTokS: number; threads: number; release: string }

const script = fileURLToPath(new URL('../../scripts/llamacpp_check.mjs', import.meta.url));
const cacheDir = fileURLToPath(new URL('../../bench/results/', import.meta.url));

/** Why the peer cannot run, or undefined when it can. */
export function peerUnavailable(): string | undefined {
  const dir = process.env.NODE_LLAMA_CPP_DIR;
  if (dir && existsSync(join(dir, 'dist', 'index.js'))) return undefined;
  return 'node-llama-cpp not found (set NODE_LLAMA_CPP_DIR to an installed node-llama-cpp; see bench/peer_llamacpp.ts)';
}

export function peerGguf(preset: string): string {
  mkdirSync(cacheDir, { recursive: true });
  const path = join(cacheDir, `synthetic-${preset}-tq2_0.gguf`);
  if (!existsSync(path)) writeGguf(path, syntheticSource(makeConfig(preset), 1), { type: 'tq2_0' });
  return path;
}

/** One llama.cpp run: `prefill` prompt ids, then `decode` greedy tokens, at `threads`. */
export function runPeer(preset: string, threads: number, prefill: number, decode: number): PeerResult {
  const gguf = peerGguf(preset);
  const V = makeConfig(preset).vocabSize;
  const ids = Array.from({ length: prefill }, (_, i) => (i * 7919 + 13) % (V - 2)).join(',');
  const r = spawnSync(process.execPath, [script, gguf, '--ids', ids, '--tokens', String(decode + 1), '--threads', String(threads), '--ctx', String(prefill + decode + 8)],
    { encoding: 'utf8', maxBuffer: 16 << 20, env: process.env });
  if (r.status !== 0) throw new Error(`llama.cpp peer failed (${r.status}): ${r.stderr.slice(-1000)}`);
  const j = JSON.parse(r.stdout.trim().split('\n').pop()!) as { decodeTokensPerSecond: number; prefillMs: number; threads: number; llamaCppRelease?: string };
  return { decodeTokS: j.decodeTokensPerSecond, prefillTokS: (prefill * 1000) / j.prefillMs, threads: j.threads, release: j.llamaCppRelease ?? '?' };
}
