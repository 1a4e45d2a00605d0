#!/usr/bin/env node
/**
 * `bitnet <command> [options]` — dispatch table. Each command: an options table,
 * generated --help, and run(). Bad flags exit 2 with a message, never a stack trace.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { BitnetError } from '../errors.js';
import { createBackend } from '../kernels/backend.js';
import * as ref from '../kernels/ref/matmul.js';
import { Rng } from '../tensor/rng.js';

interface Command {
  summary: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run(values: Record<string, unknown>, positionals: string[]): Promise<void>;
}

const COMMANDS: Record<string, Command> = {
  info: {
    summary: 'show the kernel backend this runtime gets (SIMD, relaxed SIMD, threads) and check it against the reference',
    options: { threads: { type: 'string', short: 't' }, backend: { type: 'string', default: 'auto' } },
    async run(v) {
      const threads = v.threads === undefined ? undefined : parsePositiveInt('--threads', v.threads as string);
      const be = await createBackend({ backend: v.backend as 'auto', ...(threads !== undefined ? { threads } : {}) });
      console.log(`backend   ${be.name}`);
      console.log(`features  ${be.features ? Object.entries(be.features).map(([k, x]) => `${k}=${x ? 'yes' : 'no'}`).join(' ') : 'reference kernels only'}`);
      console.log(`threads   ${be.threads}`);
      // A quick end-to-end check: GEMM against the reference.
      const [M, K, N] = [64, 256, 96];
      const rng = new Rng(1);
      const x = rng.fillNormal(new Float32Array(M * K)) as Float32Array;
      const w = rng.fillNormal(new Float32Array(N * K)) as Float32Array;
      const a = new Float32Array(M * N);
      const b = new Float32Array(M * N);
      ref.matmul(a, x, w, M, K, N);
      const t0 = performance.now();
      be.matmul(b, x, w, M, K, N);
      const ms = performance.now() - t0;
      let maxErr = 0;
      for (let i = 0; i < a.length; i++) maxErr = Math.max(maxErr, Math.abs(a[i]! - b[i]!));
      console.log(`selfcheck gemm ${M}x${K}x${N}: max |Δ| vs reference ${maxErr.toExponential(2)} (${ms.toFixed(2)} ms)`);
      await be.dispose();
      if (!(maxErr < 1e-3)) throw new BitnetError('kernel self-check failed');
    },
  },
};

function parsePositiveInt(flag: string, s: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} must be a positive integer, got '${s}'`);
  return n;
}

class UsageError extends Error {}

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return `usage: bitnet <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nbitnet <command> --help for its options`;
}

function commandHelp(name: string, c: Command): string {
  const opts = Object.entries(c.options).map(([k, o]) => `  --${k}${o.short ? `, -${o.short}` : ''}${o.type === 'string' ? ' VALUE' : ''}${'default' in o ? ` (default ${String(o.default)})` : ''}`);
  return `usage: bitnet ${name} [options]\n\n${c.summary}\n\noptions:\n${opts.join('\n')}`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  const cmd = COMMANDS[name];
  if (cmd === undefined) {
    console.error(`bitnet: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: { ...cmd.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (e) {
    console.error(`bitnet ${name}: ${(e as Error).message}\n\n${commandHelp(name, cmd)}`);
    return 2;
  }
  if (parsed.values.help) {
    console.log(commandHelp(name, cmd));
    return 0;
  }
  try {
    await cmd.run(parsed.values, parsed.positionals);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`bitnet ${name}: ${e.message}`);
      return 2;
    }
    if (e instanceof BitnetError) {
      console.error(`bitnet ${name}: ${e.name}: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

process.exitCode = await main(process.argv.slice(2));
