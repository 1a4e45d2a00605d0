/**
 * The CLI's progress bar (cli-progress on stderr) for synchronous work — conversion, packing, loading —
 * rendered explicitly and throttled (every 100 ms on a terminal, every 10 s otherwise; stop() draws the end),
 * and only once the work has run for `delayMs` (default 1 s), so quick loads print nothing.
 */
import cliProgress from 'cli-progress';

export interface ProgressBar {
  onProgress(done: number, total: number, name?: string): void;
  stop(): void;
}

export function progressBar(label: string, unit: 'tensors' | 'MB', delayMs = 1000): ProgressBar {
  const scale = unit === 'MB' ? 1e-6 : 1;
  const bar = new cliProgress.SingleBar(
    { format: `${label} |{bar}| {value}/{total} ${unit}{name}`, hideCursor: true, stream: process.stderr, noTTYOutput: true, notTTYSchedule: 10000 },
    cliProgress.Presets.shades_classic,
  );
  const t0 = performance.now();
  let started = false;
  let last = 0;
  const every = process.stderr.isTTY ? 100 : 10_000;
  return {
    onProgress(done, total, name) {
      const now = performance.now();
      const d = Math.round(done * scale), t = Math.round(total * scale), n = name ? ` · ${name}` : '';
      if (!started) {
        if (now - t0 < delayMs) return; // quick work (finished before the delay) shows no bar at all
        bar.start(t, d, { name: n });
        started = true;
      }
      bar.update(d, { name: n });
      if (now - last >= every) { // the final state is drawn by stop()
        bar.render();
        last = now;
      }
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
