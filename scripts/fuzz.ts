/**
 * `npm run fuzz -- [--count N] [--seconds S] [--family F,…] [--seed N] [--out DIR] [--workers N]`:
 * mutate valid model files of every format (model file, checkpoint, GGUF, Hugging Face directory), load
 * each through the CLI's loader in worker processes, and count the outcomes per family (typed error /
 * ok / untyped error / non-finite logits / hang / crash). Failing cases go to --out (default fuzz-out/).
 * Exit code 1 when any case failed. See scripts/fuzz/harness.ts.
 */
import { parseArgs } from 'node:util';
import { FAMILIES, formatReport, runFuzz, type Family } from './fuzz/harness.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '200' },
    seconds: { type: 'string' },
    family: { type: 'string', default: FAMILIES.join(',') },
    seed: { type: 'string', default: '1' },
    out: { type: 'string', default: 'fuzz-out' },
    workers: { type: 'string' },
    timeout: { type: 'string', default: '5000' },
  },
  strict: true,
});

function int(name: string, s: string | undefined, min: number): number | undefined {
  if (s === undefined) return undefined;
  const n = Number(s);
  if (!Number.isInteger(n) || n < min) {
    console.error(`fuzz: --${name} must be an integer ≥ ${min}, got '${s}'`);
    process.exit(2);
  }
  return n;
}

const families = values.family.split(',').filter((f) => f.length > 0);
for (const f of families) {
  if (!(FAMILIES as readonly string[]).includes(f)) {
    console.error(`fuzz: unknown --family '${f}' (${FAMILIES.join(', ')})`);
    process.exit(2);
  }
}
const seconds = int('seconds', values.seconds, 1);
const workers = int('workers', values.workers, 1);
const report = await runFuzz({
  count: int('count', values.count, 1)!, families: families as Family[], seed: int('seed', values.seed, 0)!, out: values.out,
  timeoutMs: int('timeout', values.timeout, 100)!, log: (l) => console.error(l),
  ...(seconds !== undefined ? { seconds } : {}), ...(workers !== undefined ? { workers } : {}),
});
console.log(formatReport(report));
if (report.failures.length > 0) console.log(`failing cases written to ${values.out}/`);
process.exitCode = report.failures.length > 0 ? 1 : 0;
