/**
 * The same-run peer of every inference benchmark: llama.cpp built natively (-march=native) from the
 * source node-llama-cpp ships. Not built by this package: point LLAMA_NATIVE_BIN at a directory holding
 * llama-bench and llama-cli (the default is where the team's build script puts them,
 * ~/.cache/llama-native/src/build/bin), otherwise the benchmarks say the peer is missing.
 * Measurements use llama-bench (pp = prompt tokens/s, tg = generated tokens/s) and llama-cli (whole
 * process, one generated token) on the GGUF TQ2_0 export of the same synthetic model.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Directory with llama-bench / llama-cli, or undefined. */
export function nativeBin(): string | undefined {
  const dir = process.env.LLAMA_NATIVE_BIN ?? join(homedir(), '.cache/llama-native/src/build/bin');
  return existsSync(join(dir, 'llama-bench')) && existsSync(join(dir, 'llama-cli')) ? dir : undefined;
}

export interface NativeSpeed { threads: number; prefillTokS: number; decodeTokS: number; build: string }

/** llama-bench -p prefill -n decode -t threads -r reps on `gguf`: mean tokens/s per test (llama-bench reports means over reps). */
export function nativeBench(gguf: string, threads: number, prefill: number, decode: number, reps: number): NativeSpeed {
  const bin = nativeBin();
  if (bin === undefined) throw new Error('native llama.cpp not found (set LLAMA_NATIVE_BIN)');
  const r = spawnSync(join(bin, 'llama-bench'), ['-m', gguf, '-p', String(prefill), '-n', String(decode), '-t', String(threads), '-r', String(reps), '-o', 'json'], { encoding: 'utf8', maxBuffer: 16 << 20 });
  if (r.status !== 0) throw new Error(`llama-bench failed (${r.status}): ${r.stderr.slice(-1000)}`);
  const rows = JSON.parse(r.stdout) as Array<{ n_prompt: number; n_gen: number; avg_ts: number; build_commit: string }>;
  const pp = rows.find((x) => x.n_prompt > 0 && x.n_gen === 0), tg = rows.find((x) => x.n_gen > 0 && x.n_prompt === 0);
  if (pp === undefined || tg === undefined) throw new Error(`llama-bench: unexpected output ${r.stdout.slice(0, 500)}`);
  return { threads, prefillTokS: pp.avg_ts, decodeTokS: tg.avg_ts, build: pp.build_commit };
}

/** One timed process: wall seconds and peak RSS (GNU time), for `cmd args`. */
export function timedProcess(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): { wallS: number; maxRssBytes: number; stdout: string; stderr: string } {
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '@@rss %M', cmd, ...args], { encoding: 'utf8', maxBuffer: 64 << 20, env, input: '' });
  const wallS = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr.slice(-1500)}`);
  const m = /@@rss (\d+)/.exec(r.stderr);
  return { wallS, maxRssBytes: m ? Number(m[1]) * 1024 : NaN, stdout: r.stdout, stderr: r.stderr };
}

/** llama-cli: load `gguf`, one generated token, exit (no warm-up, single turn). */
export function nativeFirstToken(gguf: string, threads: number, prompt: string, ctx: number): { wallS: number; maxRssBytes: number } {
  const bin = nativeBin()!;
  return timedProcess(join(bin, 'llama-cli'), ['-m', gguf, '-p', prompt, '-n', '1', '-t', String(threads), '-c', String(ctx), '-st', '--no-warmup', '--simple-io']);
}
