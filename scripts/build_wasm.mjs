// Build the WebAssembly kernels from wasm/assembly/*.ts with the npm-installed
// AssemblyScript compiler (Binaryen -O3). Runs at install/build time, never at import.
//
// Four modules, all importing one `env.memory`:
//   core.wasm            SIMD128, shared memory (threads)
//   core-unshared.wasm   SIMD128, plain memory (pages that are not cross-origin isolated)
//   relaxed.wasm         everything in core + relaxed-SIMD kernels (*_relaxed), shared memory
//   relaxed-unshared.wasm
// Relaxed ops live in their own module because an engine without relaxed SIMD
// rejects the whole module (docs/platform.md §3.2).
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const asc = join(root, 'node_modules', 'assemblyscript', 'bin', 'asc.js');
const outDir = join(root, 'wasm', 'build');
mkdirSync(outDir, { recursive: true });

// Must match MODULE_MAX_PAGES in src/kernels/wasm/context.ts (declared maximum; the JS side may create a smaller memory).
const MAX_PAGES = 65536;
const variants = [
  { entry: 'core.ts', out: 'core.wasm', features: ['simd'], shared: true },
  { entry: 'core.ts', out: 'core-unshared.wasm', features: ['simd'], shared: false },
  { entry: 'relaxed.ts', out: 'relaxed.wasm', features: ['simd', 'relaxed-simd'], shared: true },
  { entry: 'relaxed.ts', out: 'relaxed-unshared.wasm', features: ['simd', 'relaxed-simd'], shared: false },
];

const t0 = Date.now();
for (const v of variants) {
  const features = [...v.features, ...(v.shared ? ['threads'] : [])];
  const args = [
    asc,
    join(root, 'wasm', 'assembly', v.entry),
    '-o', join(outDir, v.out),
    '-O3', '--noAssert',
    '--runtime', 'stub',
    '--use', 'abort=',
    '--enable', features.join(','),
    '--importMemory', '--initialMemory', '17', '--maximumMemory', String(MAX_PAGES),
    ...(v.shared ? ['--sharedMemory'] : []),
  ];
  execFileSync(process.execPath, args, { stdio: 'inherit', cwd: root });
}
const sizes = readdirSync(outDir).filter((f) => f.endsWith('.wasm')).map((f) => `${f} ${statSync(join(outDir, f)).size} B`);
console.log(`build_wasm: ${sizes.join(', ')} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
