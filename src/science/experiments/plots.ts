/** Dependency-free SVG plots for experiment reports: lines/points (optionally log-x) and horizontal bars. */

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#7f7f7f'];

export interface Series {
  label: string;
  points: Array<[number, number]>;
  /** Draw as a dashed line (fits, predictions). */
  dashed?: boolean;
  /** Points only, no connecting line. */
  scatter?: boolean;
}

function esc(s: string): string {
  return s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
}

function fmt(v: number): string {
  const a = Math.abs(v);
  return a !== 0 && (a >= 1e4 || a < 1e-2) ? v.toExponential(1) : Number(v.toPrecision(3)).toString();
}

export function linePlotSvg(o: { title: string; xLabel: string; yLabel: string; logX?: boolean; series: Series[]; width?: number; height?: number }): string {
  const width = o.width ?? 640, height = o.height ?? 420;
  const pad = { l: 64, r: 16, t: 32, b: 48 };
  const tx = (x: number) => (o.logX ? Math.log10(x) : x);
  const pts = o.series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(tx(x)) && Number.isFinite(y));
  const xs = pts.map(([x]) => tx(x)), ys = pts.map(([, y]) => y);
  let x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.min(...ys), y1 = Math.max(...ys);
  if (!(x1 > x0)) (x0 -= 1), (x1 += 1);
  if (!(y1 > y0)) (y0 -= 1), (y1 += 1);
  const ym = 0.05 * (y1 - y0);
  (y0 -= ym), (y1 += ym);
  const X = (x: number) => pad.l + ((width - pad.l - pad.r) * (tx(x) - x0)) / (x1 - x0);
  const Y = (y: number) => pad.t + ((height - pad.t - pad.b) * (y1 - y)) / (y1 - y0);
  const out: string[] = [];
  for (let i = 0; i <= 4; i++) {
    const yv = y0 + ((y1 - y0) * i) / 4;
    out.push(`<line x1="${pad.l}" x2="${width - pad.r}" y1="${Y(yv).toFixed(1)}" y2="${Y(yv).toFixed(1)}" stroke="#ddd"/><text x="${pad.l - 6}" y="${(Y(yv) + 4).toFixed(1)}" font-size="11" text-anchor="end">${fmt(yv)}</text>`);
    const xv = x0 + ((x1 - x0) * i) / 4;
    const xr = o.logX ? 10 ** xv : xv;
    out.push(`<text x="${X(xr).toFixed(1)}" y="${height - pad.b + 16}" font-size="11" text-anchor="middle">${fmt(xr)}</text>`);
  }
  o.series.forEach((s, i) => {
    const c = COLORS[i % COLORS.length]!;
    const p = s.points.filter(([x, y]) => Number.isFinite(tx(x)) && Number.isFinite(y));
    if (!s.scatter && p.length > 1) out.push(`<path d="${p.map(([x, y], j) => `${j ? 'L' : 'M'}${X(x).toFixed(1)},${Y(y).toFixed(1)}`).join(' ')}" fill="none" stroke="${c}" stroke-width="1.5"${s.dashed ? ' stroke-dasharray="5,4"' : ''}/>`);
    if (!s.dashed) out.push(...p.map(([x, y]) => `<circle cx="${X(x).toFixed(1)}" cy="${Y(y).toFixed(1)}" r="3" fill="${c}"/>`));
    out.push(`<text x="${pad.l + 8}" y="${pad.t + 14 * (i + 1)}" fill="${c}" font-size="12">${esc(s.label)}</text>`);
  });
  return svg(width, height, o.title, o.xLabel + (o.logX ? ' (log scale)' : ''), o.yLabel, pad, out);
}

export function barChartSvg(o: { title: string; xLabel: string; bars: Array<{ label: string; value: number; group?: number }>; logX?: boolean; width?: number }): string {
  const rowH = 18;
  const width = o.width ?? 680;
  const pad = { l: 180, r: 70, t: 32, b: 40 };
  const height = pad.t + pad.b + rowH * o.bars.length;
  const v = (x: number) => (o.logX ? Math.log10(Math.max(x, 1e-12)) : x);
  const finite = o.bars.map((b) => b.value).filter(Number.isFinite);
  const lo = o.logX ? Math.min(...finite.map(v)) - 0.1 : 0, hi = Math.max(...finite.map(v));
  const W = (x: number) => ((width - pad.l - pad.r) * (v(x) - lo)) / Math.max(1e-12, hi - lo);
  const out = o.bars.map((b, i) => {
    const y = pad.t + i * rowH;
    const c = COLORS[(b.group ?? 0) % COLORS.length]!;
    const w = Number.isFinite(b.value) ? Math.max(1, W(b.value)) : 0;
    return `<text x="${pad.l - 6}" y="${y + 13}" font-size="11" text-anchor="end">${esc(b.label)}</text><rect x="${pad.l}" y="${y + 2}" width="${w.toFixed(1)}" height="${rowH - 4}" fill="${c}"/><text x="${pad.l + w + 4}" y="${y + 13}" font-size="11">${Number.isFinite(b.value) ? fmt(b.value) : 'n/a'}</text>`;
  });
  return svg(width, height, o.title, o.xLabel + (o.logX ? ' (log scale)' : ''), '', pad, out);
}

function svg(width: number, height: number, title: string, xLabel: string, yLabel: string, pad: { l: number; b: number }, body: string[]): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="${width / 2}" y="18" font-size="14" text-anchor="middle">${esc(title)}</text>
${body.join('\n')}
<text x="${(width + pad.l) / 2}" y="${height - 8}" font-size="12" text-anchor="middle">${esc(xLabel)}</text>
${yLabel ? `<text x="14" y="${height / 2}" font-size="12" transform="rotate(-90 14 ${height / 2})" text-anchor="middle">${esc(yLabel)}</text>` : ''}
</svg>
`;
}

/** A markdown table. */
export function mdTable(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}
