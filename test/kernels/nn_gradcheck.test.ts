// Gradient checks (f64 central differences) of every nn backward kernel against its forward.
import { describe, it } from 'node:test';
import * as K from '../../src/kernels/ref/nn.js';
import { Rng } from '../../src/tensor/rng.js';
import { gradcheck, randn } from '../helpers/check.js';

const z = (n: number): Float64Array => new Float64Array(n);

describe('nn gradcheck: norms', () => {
  for (const [M, C] of [[1, 1], [1, 7], [3, 5], [4, 16]] as const) {
    for (const withW of [true, false]) {
      it(`rmsnorm M=${M} C=${C} weight=${withW}`, () => {
        const rng = new Rng(M * 100 + C);
        const inputs: Record<string, Float64Array> = { inp: randn(rng, M * C) };
        if (withW) inputs.weight = randn(rng, C);
        const fwd = (x: Record<string, Float64Array>) => {
          const out = z(M * C);
          const rstd = z(M);
          K.rmsnormForward(out, rstd, x.inp!, x.weight ?? null, M, C, 1e-5);
          return { out, rstd };
        };
        gradcheck({
          inputs,
          forward: (x) => fwd(x).out,
          backward: (dout, x): Record<string, Float64Array> => {
            const { rstd } = fwd(x);
            const dinp = z(M * C);
            const dweight = withW ? z(C) : null;
            K.rmsnormBackward(dinp, dweight, dout, x.inp!, x.weight ?? null, rstd, M, C);
            return dweight ? { inp: dinp, weight: dweight } : { inp: dinp };
          },
        });
      });
      it(`layernorm M=${M} C=${C} affine=${withW}`, () => {
        const rng = new Rng(M * 100 + C + 7);
        const inputs: Record<string, Float64Array> = { inp: randn(rng, M * C) };
        if (withW) {
          inputs.weight = randn(rng, C);
          inputs.bias = randn(rng, C);
        }
        const fwd = (x: Record<string, Float64Array>) => {
          const out = z(M * C);
          const mean = z(M);
          const rstd = z(M);
          K.layernormForward(out, mean, rstd, x.inp!, x.weight ?? null, x.bias ?? null, M, C, 1e-5);
          return { out, mean, rstd };
        };
        gradcheck({
          inputs,
          forward: (x) => fwd(x).out,
          backward: (dout, x): Record<string, Float64Array> => {
            const { mean, rstd } = fwd(x);
            const dinp = z(M * C);
            const dweight = withW ? z(C) : null;
            const dbias = withW ? z(C) : null;
            K.layernormBackward(dinp, dweight, dbias, dout, x.inp!, x.weight ?? null, mean, rstd, M, C);
            return withW ? { inp: dinp, weight: dweight!, bias: dbias! } : { inp: dinp };
          },
          // C = 1 normalises to exactly 0: the gradient is ~0 and dominated by rounding.
          atol: 1e-6,
        });
      });
    }
  }
});

describe('nn gradcheck: softmax and cross-entropy', () => {
  for (const [M, C] of [[1, 1], [1, 5], [3, 7], [2, 33]] as const) {
    it(`softmax M=${M} C=${C}`, () => {
      const rng = new Rng(M + C);
      gradcheck({
        inputs: { inp: randn(rng, M * C, 2) },
        forward: (x) => {
          const out = z(M * C);
          K.softmaxForward(out, x.inp!, M, C);
          return out;
        },
        backward: (dout, x) => {
          const out = z(M * C);
          K.softmaxForward(out, x.inp!, M, C);
          const dinp = z(M * C);
          K.softmaxBackward(dinp, dout, out, M, C);
          return { inp: dinp };
        },
      });
    });
    it(`crossentropy M=${M} V=${C}`, () => {
      const rng = new Rng(10 + M + C);
      const targets = new Int32Array(M);
      for (let i = 0; i < M; i++) targets[i] = i === 1 ? -1 : rng.int(C);
      const fwd = (logits: Float64Array) => {
        const losses = z(M);
        const probs = z(M * C);
        K.crossentropyForward(losses, probs, logits, targets, M, C);
        return { losses, probs };
      };
      gradcheck({
        inputs: { logits: randn(rng, M * C, 2) },
        forward: (x) => fwd(x.logits!).losses,
        backward: (dlosses, x) => {
          const { probs } = fwd(x.logits!);
          const dlogits = z(M * C);
          K.crossentropyBackward(dlogits, dlosses, probs, targets, M, C);
          return { logits: dlogits };
        },
      });
    });
  }
});

describe('nn gradcheck: rope', () => {
  for (const [B, T, NH, HS, pos0] of [[1, 1, 1, 2, 0], [2, 3, 2, 6, 0], [1, 5, 3, 8, 4]] as const) {
    it(`rope B=${B} T=${T} NH=${NH} HS=${HS} pos0=${pos0}`, () => {
      const rng = new Rng(B * 1000 + T * 100 + NH * 10 + HS);
      const maxT = pos0 + T;
      const cos = z(maxT * (HS / 2));
      const sin = z(maxT * (HS / 2));
      K.ropeTables(cos, sin, maxT, HS, 10000);
      const n = B * T * NH * HS;
      gradcheck({
        inputs: { inp: randn(rng, n) },
        forward: (x) => {
          const out = z(n);
          K.ropeForward(out, x.inp!, cos, sin, B, T, NH, HS, pos0);
          return out;
        },
        backward: (dout) => {
          const dinp = z(n);
          K.ropeBackward(dinp, dout, cos, sin, B, T, NH, HS, pos0);
          return { inp: dinp };
        },
      });
    });
  }
});

describe('nn gradcheck: attention', () => {
  for (const [B, T, H, KVH, HS] of [[1, 1, 1, 1, 1], [1, 1, 4, 2, 3], [2, 3, 2, 2, 4], [1, 4, 4, 2, 5], [2, 5, 4, 1, 3], [1, 3, 3, 3, 8]] as const) {
    it(`attention B=${B} T=${T} H=${H} KVH=${KVH} HS=${HS}`, () => {
      const rng = new Rng(B * 10000 + T * 1000 + H * 100 + KVH * 10 + HS);
      const nq = B * T * H * HS;
      const nkv = B * T * KVH * HS;
      const na = B * H * T * T;
      const fwd = (x: Record<string, Float64Array>) => {
        const out = z(nq);
        const att = z(na);
        K.attentionForward(out, att, x.q!, x.k!, x.v!, B, T, H, KVH, HS);
        return { out, att };
      };
      gradcheck({
        inputs: { q: randn(rng, nq), k: randn(rng, nkv), v: randn(rng, nkv) },
        forward: (x) => fwd(x).out,
        backward: (dout, x) => {
          const { att } = fwd(x);
          const dq = z(nq);
          const dk = z(nkv);
          const dv = z(nkv);
          K.attentionBackward(dq, dk, dv, z(na), dout, x.q!, x.k!, x.v!, att, B, T, H, KVH, HS);
          return { q: dq, k: dk, v: dv };
        },
      });
    });
  }
});

describe('nn gradcheck: activations', () => {
  const unary = [
    ['silu', K.siluForward, K.siluBackward],
    ['relu2', K.relu2Forward, K.relu2Backward],
    ['gelu', K.geluForward, K.geluBackward],
  ] as const;
  const glu = [
    ['swiglu', K.swigluForward, K.swigluBackward],
    ['relu2glu', K.relu2gluForward, K.relu2gluBackward],
    ['bilinear', K.bilinearForward, K.bilinearBackward],
  ] as const;
  for (const n of [1, 7, 40]) {
    for (const [name, f, b] of unary) {
      it(`${name} n=${n}`, () => {
        const rng = new Rng(n);
        gradcheck({
          inputs: { inp: randn(rng, n, 2) },
          forward: (x) => {
            const out = z(n);
            f(out, x.inp!, n);
            return out;
          },
          backward: (dout, x) => {
            const dinp = z(n);
            b(dinp, dout, x.inp!, n);
            return { inp: dinp };
          },
        });
      });
    }
    for (const [name, f, b] of glu) {
      it(`${name} n=${n}`, () => {
        const rng = new Rng(n + 1);
        gradcheck({
          inputs: { gate: randn(rng, n, 2), up: randn(rng, n) },
          forward: (x) => {
            const out = z(n);
            f(out, x.gate!, x.up!, n);
            return out;
          },
          backward: (dout, x) => {
            const dgate = z(n);
            const dup = z(n);
            b(dgate, dup, dout, x.gate!, x.up!, n);
            return { gate: dgate, up: dup };
          },
        });
      });
    }
  }
});

describe('nn gradcheck: hadamard', () => {
  for (const [M, n] of [[1, 1], [1, 2], [3, 8], [2, 64]] as const) {
    it(`hadamard M=${M} n=${n}`, () => {
      const rng = new Rng(M * 10 + n);
      gradcheck({
        inputs: { inp: randn(rng, M * n) },
        forward: (x) => {
          const out = z(M * n);
          K.hadamardForward(out, x.inp!, M, n);
          return out;
        },
        backward: (dout) => {
          const dinp = z(M * n);
          K.hadamardBackward(dinp, dout, M, n);
          return { inp: dinp };
        },
      });
    });
  }
});
