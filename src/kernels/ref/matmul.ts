/**
 * Reference f32/f64 matmuls: the definition the WASM GEMM is checked against.
 * Weights are PyTorch-layout (N, K) = (out, in). Plain loops, f64 accumulation.
 *
 *   matmul               out(M,N)  = x(M,K) · w(N,K)ᵀ
 *   matmulBackwardInput  dx(M,K)  += dy(M,N) · w(N,K)
 *   matmulBackwardWeight dw(N,K)  += dy(M,N)ᵀ · x(M,K)
 */
import type { FloatArray } from '../../tensor/dtype.js';
import { checkMatmul } from '../checks.js';

/** out(M,N) = x(M,K) · w(N,K)ᵀ */
export function matmul(out: FloatArray, x: FloatArray, w: FloatArray, M: number, K: number, N: number): void {
  checkMatmul('matmul', { out, x, w }, { out: M * N, x: M * K, w: N * K }, M, K, N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let acc = 0;
      for (let k = 0; k < K; k++) acc += x[m * K + k]! * w[n * K + k]!;
      out[m * N + n] = acc;
    }
  }
}

/** dx(M,K) += dy(M,N) · w(N,K); with accumulate false, dx = dy · w (dx's old values are not read). */
export function matmulBackwardInput(dx: FloatArray, dy: FloatArray, w: FloatArray, M: number, K: number, N: number, accumulate = true): void {
  checkMatmul('matmulBackwardInput', { dx, dy, w }, { dx: M * K, dy: M * N, w: N * K }, M, K, N);
  for (let m = 0; m < M; m++) {
    for (let k = 0; k < K; k++) {
      let acc = 0;
      for (let n = 0; n < N; n++) acc += dy[m * N + n]! * w[n * K + k]!;
      dx[m * K + k] = accumulate ? dx[m * K + k]! + acc : acc;
    }
  }
}

/** dw(N,K) += dy(M,N)ᵀ · x(M,K) */
export function matmulBackwardWeight(dw: FloatArray, dy: FloatArray, x: FloatArray, M: number, K: number, N: number): void {
  checkMatmul('matmulBackwardWeight', { dw, dy, x }, { dw: N * K, dy: M * N, x: M * K }, M, K, N);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      let acc = 0;
      for (let m = 0; m < M; m++) acc += dy[m * N + n]! * x[m * K + k]!;
      dw[n * K + k]! += acc;
    }
  }
}
