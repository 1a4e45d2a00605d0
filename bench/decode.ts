/**
 * Decode benchmark (`npm run bench -- decode`): synthetic random-ternary models of two published
 * shapes, prefill (128 tokens) and greedy decode (64 tokens) at 1 and 2 threads, each
 * configuration in its own child process (bench/decode_child.ts) so its peak RSS is its own.
 * Reports tokens/s, weight bytes read per token, the bandwidth that implies and its fraction of the
 * read bandwidth measured in the same run (bench/membw.ts: the DRAM roofline), peak RSS against
 * (packed weights + embeddings + KV cache), and the ratio to the same-run peer: native llama.cpp
 * (llama-bench on the GGUF TQ2_0 export of the same model, bench/peer_native.ts); node-llama-cpp's
 * prebuilt binary as an extra column where it is installed (bench/peer_llamacpp.ts). Without a peer
 * the ratios are left out (figures from other runs are never compared).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Reporter } from './harness.js';
import { peerGguf, peerUnavailable, runPeer } from './peer_llamacpp.js';
import { nativeBench, nativeBin } from './peer_native.js';

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

export async function benchDecode(rep: Reporter, opts: { reps: number; threads: number[]; quick: boolean; presets?: string[]; membw?: Map<number, number> }): Promise<void> {
  const presets = opts.presets ?? (opts.quick ? ['b1.58-large'] : ['b1.58-large', '2b4t']);
  const prefill = opts.quick ? 32 : 128, decode = opts.quick ? 16 : 64;
  const reps = Math.max(3, Math.min(opts.reps, 5));
  const noPeer = peerUnavailable();
  const native = nativeBin();
  if (!native) console.error('bench decode: native llama.cpp not found (set LLAMA_NATIVE_BIN to a directory with llama-bench): no peer ratios');
  for (const preset of presets) {
    for (const threads of opts.threads) {
      const d = runDecodeChild({ preset, threads, prefill, decode, reps });
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
      const bw = opts.membw?.get(threads);
      if (bw !== undefined) {
        metrics.membw_GB_s = bw;
        metrics.roofline = metrics.decode_GB_s! / bw; // bytes read per token × tok/s ÷ read bandwidth
      }
      if (native) {
        const p = nativeBench(peerGguf(preset), threads, prefill, decode, reps);
        metrics.native_decode_tok_s = p.decodeTokS;
        metrics.native_prefill_tok_s = p.prefillTokS;
        metrics.decode_vs_native = d.decodeTokS / p.decodeTokS;
        metrics.prefill_vs_native = d.prefillTokS / p.prefillTokS;
      }
      if (!noPeer) {
        const p = runPeer(preset, threads, prefill, decode);
        metrics.nodellamacpp_decode_tok_s = p.decodeTokS;
        metrics.nodellamacpp_prefill_tok_s = p.prefillTokS;
      }
      rep.add({ suite: 'decode', name: `${preset} ${d.format} head=${d.head}${d.relaxed ? ' relaxed' : ''}`, shape: `prefill ${prefill}, decode ${decode}`, backend: 'wasm', threads,
        medianMs: d.decodeMs / decode, minMs: NaN, p90Ms: NaN, metrics });
    }
  }
}
