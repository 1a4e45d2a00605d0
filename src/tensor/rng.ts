/**
 * The one source of randomness in the library: a seeded xoshiro128** generator
 * (Blackman & Vigna), seeded through splitmix32. 32-bit integer arithmetic only,
 * so it is fast in plain JS and gives the same stream on every platform.
 *
 *   const rng = new Rng(42);
 *   rng.uniform();          // [0, 1)
 *   rng.normal(0, 0.02);    // Box–Muller
 *   rng.fork('layer.3');    // independent, deterministic sub-stream
 *
 * Same seed → same numbers, always. Nothing else in the library may call Math.random.
 */
import { ArgumentError } from '../errors.js';

function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** FNV-1a over a string, to turn names into fork salts. */
function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare: number | undefined = undefined;
  readonly seed: number;

  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new ArgumentError(`Rng: seed must be a finite number, got ${seed}`);
    this.seed = seed;
    // Mix both 32-bit halves of the seed so 2^32+1 and 1 differ.
    const st = { s: (seed >>> 0) ^ Math.imul(Math.floor(seed / 4294967296) | 0, 0x27d4eb2d) };
    this.a = splitmix32(st);
    this.b = splitmix32(st);
    this.c = splitmix32(st);
    this.d = splitmix32(st);
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  /** Next 32-bit unsigned integer. */
  nextU32(): number {
    const r = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return r;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0) throw new ArgumentError(`Rng.int: n must be a positive integer, got ${n}`);
    return Math.floor(this.uniform() * n);
  }

  /** Standard normal via Box–Muller (the second value of each pair is cached). */
  normal(mean = 0, std = 1): number {
    let z: number;
    if (this.spare !== undefined) {
      z = this.spare;
      this.spare = undefined;
    } else {
      let u = 0;
      while (u === 0) u = this.uniform();
      const v = this.uniform();
      const r = Math.sqrt(-2 * Math.log(u));
      z = r * Math.cos(2 * Math.PI * v);
      this.spare = r * Math.sin(2 * Math.PI * v);
    }
    return mean + std * z;
  }

  /** Fill with uniform values in [lo, hi). */
  fillUniform(out: Float32Array | Float64Array, lo = 0, hi = 1): typeof out {
    for (let i = 0; i < out.length; i++) out[i] = lo + (hi - lo) * this.uniform();
    return out;
  }

  /** Fill with normal values. */
  fillNormal(out: Float32Array | Float64Array, mean = 0, std = 1): typeof out {
    for (let i = 0; i < out.length; i++) out[i] = this.normal(mean, std);
    return out;
  }

  /** Fill an integer array with uniform integers in [lo, hi] (inclusive). */
  fillInt(out: Int8Array | Uint8Array | Int16Array | Int32Array | Uint32Array, lo: number, hi: number): typeof out {
    const n = hi - lo + 1;
    for (let i = 0; i < out.length; i++) out[i] = lo + this.int(n);
    return out;
  }

  /** A deterministic, independent generator derived from this seed and a name/index. Does not advance this stream. */
  fork(salt: string | number): Rng {
    const h = typeof salt === 'number' ? Math.imul(salt | 0, 0x9e3779b1) ^ 0x5bd1e995 : hashString(salt);
    return new Rng(((this.seed >>> 0) ^ h) + Math.floor(this.seed / 4294967296) * 4294967296 + (h >>> 0) * 0x10000);
  }

  /** Fisher–Yates shuffle in place. */
  shuffle<T>(arr: T[]): T[] {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = arr[i]!;
      arr[i] = arr[j]!;
      arr[j] = t;
    }
    return arr;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
