/**
 * Fuzz seeds: valid inputs of every format the loaders read, made at run time by the project's own
 * writers from one tiny synthetic model (so a later change of a format is fuzzed automatically):
 *   model-file   saveModelFile (src/infer/load.ts)                      one .safetensors file
 *   checkpoint   checkpointContents + saveSafetensors, tokenizer.json   ckpt-*.safetensors + tokenizer.json
 *   gguf         writeGguf (src/interop/gguf_model.ts), tq2_0 / tq1_0 / f16 linear weights
 *   hf           exportHF (src/interop/hf.ts)                           config.json, model.safetensors, tokenizer*.json, …
 * A seed is a set of files (relative path → bytes) and the entry path the loader opens.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { saveModelFile } from '../../src/load/open.js';
import { syntheticSource } from '../../src/weights/synthetic.js';
import { exportHF } from '../../src/interop/hf.js';
import { writeGguf } from '../../src/interop/gguf_model.js';
import { saveSafetensors } from '../../src/io/files.js';
import { createBackend } from '../../src/kernels/backend.js';
import { validateConfig, type ModelConfig } from '../../src/model/config.js';
import { Transformer } from '../../src/model/transformer.js';
import { AdamW } from '../../src/train/adamw.js';
import { checkpointContents } from '../../src/train/checkpoint.js';
import { defaultTrainOptions } from '../../src/train/loop.js';
import { checkpointName } from '../../src/train/run_dir.js';
import { trainBpe } from '../../src/tokenizer/train.js';
import { tokenizerJsonText } from '../../src/tokenizer/io.js';
import type { Tokenizer } from '../../src/tokenizer/types.js';

export const FAMILIES = ['model-file', 'checkpoint', 'gguf', 'hf'] as const;
export type Family = (typeof FAMILIES)[number];

export interface Seed {
  family: Family;
  /** e.g. 'gguf-tq1_0'. */
  name: string;
  files: Map<string, Uint8Array>;
  /** Path (relative to the case folder) given to loadModel; '.' = the folder itself. */
  entry: string;
}

const TEXT = 'the state of the union is strong. the people of the union are strong and the state is theirs. ';

/** The tiny model every seed holds: TQ blocks need K a multiple of 256. */
export function fuzzTokenizer(): Tokenizer {
  return trainBpe([TEXT.repeat(8)], { vocabSize: 300, minFrequency: 2 });
}

export function fuzzConfig(vocabSize: number): ModelConfig {
  return validateConfig({
    vocabSize, dim: 256, nLayers: 2, nHeads: 4, nKvHeads: 2, ffnDim: 256, maxSeqLen: 64,
    ropeTheta: 10000, normEps: 1e-5, ffn: 'relu2glu', subln: true, tieEmbeddings: true, quant: 'b158', groups: 1,
  });
}

function readTree(dir: string): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  const walk = (d: string) => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(dir, p), new Uint8Array(readFileSync(p)));
    }
  };
  walk(dir);
  return out;
}

/** Every seed of the given families (written through the real writers into a temp folder, read back). */
export async function makeSeeds(families: readonly Family[] = FAMILIES): Promise<Seed[]> {
  const tok = fuzzTokenizer();
  const config = fuzzConfig(tok.vocabSize);
  const source = syntheticSource(config, 7);
  const tmp = mkdtempSync(join(tmpdir(), 'bitnet-fuzz-seeds-'));
  const seeds: Seed[] = [];
  const tokText = new TextEncoder().encode(tokenizerJsonText(tok));
  try {
    for (const family of families) {
      const dir = join(tmp, family);
      if (family === 'model-file') {
        saveModelFile(join(tmp, 'model.safetensors'), source, tok);
        seeds.push({ family, name: family, files: new Map([['model.safetensors', new Uint8Array(readFileSync(join(tmp, 'model.safetensors')))]]), entry: 'model.safetensors' });
      } else if (family === 'checkpoint') {
        const be = await createBackend({ backend: 'ref' });
        try {
          const model = new Transformer(be, config);
          model.init(3);
          const opt = new AdamW(be, be.arena, model.numParams, model.decaySize, defaultTrainOptions(1).adamw);
          const { tensors, metadata } = checkpointContents(model, opt, 1, { note: 'fuzz seed' });
          const name = checkpointName(1);
          saveSafetensors(join(tmp, name), tensors, metadata);
          seeds.push({ family, name: family, files: new Map([[name, new Uint8Array(readFileSync(join(tmp, name)))], ['tokenizer.json', tokText]]), entry: name });
        } finally {
          await be.dispose();
        }
      } else if (family === 'gguf') {
        for (const type of ['tq2_0', 'tq1_0', 'f16'] as const) {
          const p = join(tmp, `model-${type}.gguf`);
          writeGguf(p, source, { type, tokenizer: tok });
          seeds.push({ family, name: `gguf-${type}`, files: new Map([['model.gguf', new Uint8Array(readFileSync(p))]]), entry: 'model.gguf' });
        }
      } else {
        exportHF(dir, source, { tokenizer: tok, chatTemplate: '{{ messages }}' });
        seeds.push({ family, name: family, files: readTree(dir), entry: '.' });
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return seeds;
}
