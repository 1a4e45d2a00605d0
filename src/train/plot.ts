/** A small dependency-free SVG line plot of training/validation loss against step. */
import type { StepLog } from './loop.js';

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e'];

export function lossCurveSvg(runs: Array<{ label: string; history: StepLog[] }>, width = 640, height = 400): string {
  const pad = { l: 56, r: 16, t: 20, b: 40 };
  const pts = runs.flatMap((r) => r.history);
  const maxStep = Math.max(1, ...pts.map((p) => p.step));
  const ys = pts.flatMap((p) => [p.loss, ...(p.valLoss !== undefined ? [p.valLoss] : [])]).filter(Number.isFinite);
  const yMin = Math.min(...ys), yMax = Math.max(...ys);
  const X = (s: number) => pad.l + ((width - pad.l - pad.r) * s) / maxStep;
  const Y = (y: number) => pad.t + ((height - pad.t - pad.b) * (yMax - y)) / Math.max(1e-9, yMax - yMin);
  const lines: string[] = [];
  runs.forEach((r, i) => {
    const c = COLORS[i % COLORS.length]!;
    const d = r.history.map((p, j) => `${j ? 'L' : 'M'}${X(p.step).toFixed(1)},${Y(p.loss).toFixed(1)}`).join(' ');
    lines.push(`<path d="${d}" fill="none" stroke="${c}" stroke-width="1.5" opacity="0.6"/>`);
    const val = r.history.filter((p) => p.valLoss !== undefined);
    lines.push(...val.map((p) => `<circle cx="${X(p.step).toFixed(1)}" cy="${Y(p.valLoss!).toFixed(1)}" r="3.5" fill="${c}"/>`));
    lines.push(`<text x="${width - pad.r - 150}" y="${pad.t + 16 * (i + 1)}" fill="${c}" font-size="12">${escape(r.label)} (line: train, dots: val)</text>`);
  });
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => yMin + f * (yMax - yMin));
  const axis = ticks.map((t) => `<text x="${pad.l - 6}" y="${Y(t) + 4}" font-size="11" text-anchor="end">${t.toFixed(2)}</text><line x1="${pad.l}" x2="${width - pad.r}" y1="${Y(t)}" y2="${Y(t)}" stroke="#ddd"/>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
${axis.join('\n')}
<text x="${(width + pad.l) / 2}" y="${height - 8}" font-size="12" text-anchor="middle">step (max ${maxStep})</text>
<text x="14" y="${height / 2}" font-size="12" transform="rotate(-90 14 ${height / 2})" text-anchor="middle">loss (nats/token)</text>
${lines.join('\n')}
</svg>
`;
}

function escape(s: string): string {
  return s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
}
