/**
 * Decode benchmark (`npm run bench -- decode`): synthetic random-ternary models of two published
 * shapes, prefill (128 tokens) and greedy decode (64 tokens) at 1 and 2 threads, each
 * configuration in its own child process (bench/decode_child.ts) so its peak RSS is its own.
 * Reports tokens/s, weight bytes read per token, the bandwidth that implies, peak RSS against
 * (packed weights + embeddings + KV cache), and the ratio to llama.cpp TQ2_0 on this machine class
 * (the reference figures; node-llama-cpp as a same-run peer where it is installed:
 * bench/peer_llamacpp.ts).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Reporter } from './harness.js';
import { peerUnavailable, runPeer } from './peer_llamacpp.js';

/** llama.cpp TQ2_0 (AVX-512), tokens/s, measured on this 2-core machine class (issue 4). */
export const LLAMACPP_REFERENCE: Record<string, { decode: [number, number]; prefill: [number, number] }> = {
  'b1.58-large': { decode: [15.5, 20.9], prefill: [34, 56] },
  '2b4t': { decode: [5.3, 7.1], prefill: [13, 17] },
};

export interface DecodeChild {
  preset: string; threads: number; head: string; format: string; loadMs: number;
  prefillMs: number; decodeMs: number; prefillTokS: number; decodeTokS: number;
  bytesPerToken: number; linearBytes: number; embBytes: number; kvBytes: number; maxRssBytes: number; relaxed: boolean;
}

export function runDecodeChild(args: Record<string, unknown>): DecodeChild {
  const child = fileURLToPath(new URL('./decode_child.js', import.meta.url));
  const r = spawnSync(process.execPath, [child, JSON.stringify(args)], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`decode child ${JSON.stringify(args)} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  const line = r.stdout.trim().split('\n').pop()!;
  return JSON.parse(line) as DecodeChild;
}

export async function benchDecode(rep: Reporter, opts: { reps: number; threads: number[]; quick: boolean; presets?: string[] }): Promise<void> {
  const presets = opts.presets ?? (opts.quick ? ['b1.58-large'] : ['b1.58-large', '2b4t']);
  const prefill = opts.quick ? 32 : 128, decode = opts.quick ? 16 : 64;
  const reps = Math.max(3, Math.min(opts.reps, 5));
  const noPeer = peerUnavailable();
  if (noPeer) console.error(`bench decode: no same-run llama.cpp peer: ${noPeer}; ratios use the reference figures`);
  for (const preset of presets) {
    for (const threads of opts.threads) {
      const d = runDecodeChild({ preset, threads, prefill, decode, reps });
      const ref = LLAMACPP_REFERENCE[preset];
      const ti = threads === 1 ? 0 : 1;
      const resident = d.linearBytes + d.embBytes + d.kvBytes;
      const metrics: Record<string, number> = {
        decode_tok_s: d.decodeTokS,
        prefill_tok_s: d.prefillTokS,
        MB_per_token: d.bytesPerToken / 1e6,
        decode_GB_s: (d.bytesPerToken * d.decodeTokS) / 1e9,
        peak_rss_MiB: d.maxRssBytes / 2 ** 20,
        rss_over_model: d.maxRssBytes / resident,
        load_s: d.loadMs / 1000,
      };
      if (ref) {
        metrics.decode_vs_llamacpp_ref = d.decodeTokS / ref.decode[ti]!;
        metrics.prefill_vs_llamacpp_ref = d.prefillTokS / ref.prefill[ti]!;
      }
      if (!noPeer) {
        const p = runPeer(preset, threads, prefill, decode);
        metrics.peer_decode_tok_s = p.decodeTokS;
        metrics.peer_prefill_tok_s = p.prefillTokS;
        metrics.decode_vs_peer = d.decodeTokS / p.decodeTokS;
        metrics.prefill_vs_peer = d.prefillTokS / p.prefillTokS;
      }
      rep.add({ suite: 'decode', name: `${preset} ${d.format} head=${d.head}${d.relaxed ? ' relaxed' : ''}`, shape: `prefill ${prefill}, decode ${decode}`, backend: 'wasm', threads,
        medianMs: d.decodeMs / decode, minMs: NaN, p90Ms: NaN, metrics });
    }
  }
}
