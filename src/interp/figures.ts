/**
 * Figures for the interpretability toolkit, dependency-free: raster grids of signed images
 * (eigenvectors: blue = positive, red = negative, white = 0, as in Pearce et al. Fig. 2–3) for
 * the PNG encoder, and SVG line plots / heatmaps built as strings.
 */
import { ArgumentError } from '../errors.js';

export interface RgbImage {
  width: number;
  height: number;
  rgb: Uint8Array;
}

/** Diverging colour for v in [−1, 1]: blue (+), white (0), red (−). */
export function diverging(v: number): [number, number, number] {
  const t = Math.max(-1, Math.min(1, Number.isFinite(v) ? v : 0));
  if (t >= 0) return [Math.round(255 * (1 - t)), Math.round(255 * (1 - 0.6 * t)), 255];
  return [255, Math.round(255 * (1 + 0.8 * t)), Math.round(255 * (1 + t))];
}

export interface Tile {
  /** (h, w) values, row-major. */
  data: ArrayLike<number>;
  w: number;
  h: number;
  /** Greyscale (0…1, white background) instead of the diverging map. */
  grey?: boolean;
}

/**
 * Grid of tiles (rows × cols, undefined = empty), each upscaled by `scale` and normalised by its
 * own max |value|, separated by `gap` light-grey pixels.
 */
export function tileGrid(tiles: Array<Array<Tile | undefined>>, scale = 3, gap = 2): RgbImage {
  if (tiles.length === 0) throw new ArgumentError('tileGrid: no rows');
  const cols = Math.max(...tiles.map((r) => r.length));
  const th = Math.max(1, ...tiles.flat().map((t) => t?.h ?? 0));
  const tw = Math.max(1, ...tiles.flat().map((t) => t?.w ?? 0));
  const width = cols * (tw * scale + gap) + gap, height = tiles.length * (th * scale + gap) + gap;
  const rgb = new Uint8Array(width * height * 3).fill(220);
  tiles.forEach((r, ri) => r.forEach((t, ci) => {
    if (!t) return;
    if (t.data.length !== t.w * t.h) throw new ArgumentError(`tileGrid: tile (${ri}, ${ci}) has ${t.data.length} values, expected ${t.w}×${t.h}`);
    let mx = 0;
    for (let i = 0; i < t.data.length; i++) mx = Math.max(mx, Math.abs(t.data[i]!));
    const inv = mx > 0 ? 1 / mx : 0;
    const x0 = gap + ci * (tw * scale + gap), y0 = gap + ri * (th * scale + gap);
    for (let y = 0; y < t.h * scale; y++) for (let x = 0; x < t.w * scale; x++) {
      const v = t.data[Math.floor(y / scale) * t.w + Math.floor(x / scale)]! * inv;
      const c: [number, number, number] = t.grey ? [255 - Math.round(255 * Math.max(0, v)), 255 - Math.round(255 * Math.max(0, v)), 255 - Math.round(255 * Math.max(0, v))] : diverging(v);
      const o = ((y0 + y) * width + x0 + x) * 3;
      rgb[o] = c[0];
      rgb[o + 1] = c[1];
      rgb[o + 2] = c[2];
    }
  }));
  return { width, height, rgb };
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];

export function escapeXml(s: string): string {
  return s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
}

export interface Series {
  label: string;
  x: number[];
  y: number[];
  dashed?: boolean;
}

/** Multi-series SVG line plot with axes, ticks and a legend. */
export function linePlotSvg(series: Series[], o: { title: string; xlabel: string; ylabel: string; width?: number; height?: number; yMin?: number; yMax?: number }): string {
  const width = o.width ?? 640, height = o.height ?? 400;
  const pad = { l: 60, r: 170, t: 30, b: 42 };
  const xs = series.flatMap((s) => s.x), ys = series.flatMap((s) => s.y).filter(Number.isFinite);
  if (xs.length === 0) throw new ArgumentError('linePlotSvg: no points');
  const xMin = Math.min(...xs), xMax = Math.max(...xs);
  let yMin = o.yMin ?? Math.min(...ys), yMax = o.yMax ?? Math.max(...ys);
  if (yMax - yMin < 1e-12) {
    yMin -= 0.5;
    yMax += 0.5;
  }
  const X = (v: number) => pad.l + ((width - pad.l - pad.r) * (v - xMin)) / Math.max(1e-12, xMax - xMin);
  const Y = (v: number) => pad.t + ((height - pad.t - pad.b) * (yMax - v)) / (yMax - yMin);
  const parts: string[] = [];
  for (let i = 0; i <= 4; i++) {
    const yv = yMin + (i / 4) * (yMax - yMin);
    parts.push(`<line x1="${pad.l}" x2="${width - pad.r}" y1="${Y(yv).toFixed(1)}" y2="${Y(yv).toFixed(1)}" stroke="#ddd"/><text x="${pad.l - 6}" y="${(Y(yv) + 4).toFixed(1)}" font-size="11" text-anchor="end">${fmt(yv)}</text>`);
    const xv = xMin + (i / 4) * (xMax - xMin);
    parts.push(`<text x="${X(xv).toFixed(1)}" y="${height - pad.b + 16}" font-size="11" text-anchor="middle">${fmt(xv)}</text>`);
  }
  if (yMin < 0 && yMax > 0) parts.push(`<line x1="${pad.l}" x2="${width - pad.r}" y1="${Y(0).toFixed(1)}" y2="${Y(0).toFixed(1)}" stroke="#888"/>`);
  series.forEach((s, i) => {
    const c = COLORS[i % COLORS.length]!;
    const d = s.x.map((x, j) => `${j ? 'L' : 'M'}${X(x).toFixed(1)},${Y(clamp(s.y[j]!, yMin, yMax)).toFixed(1)}`).join(' ');
    parts.push(`<path d="${d}" fill="none" stroke="${c}" stroke-width="1.8"${s.dashed ? ' stroke-dasharray="5,3"' : ''}/>`);
    parts.push(`<text x="${width - pad.r + 8}" y="${pad.t + 16 * (i + 1)}" fill="${c}" font-size="12">${escapeXml(s.label)}</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="${(width - pad.r + pad.l) / 2}" y="18" font-size="14" text-anchor="middle">${escapeXml(o.title)}</text>
${parts.join('\n')}
<text x="${(width - pad.r + pad.l) / 2}" y="${height - 6}" font-size="12" text-anchor="middle">${escapeXml(o.xlabel)}</text>
<text x="14" y="${height / 2}" font-size="12" transform="rotate(-90 14 ${height / 2})" text-anchor="middle">${escapeXml(o.ylabel)}</text>
</svg>
`;
}

/** Grid of square heatmaps (symmetric diverging colour scale per panel) with values printed when small. */
export function heatmapsSvg(panels: Array<{ title: string; data: ArrayLike<number>; n: number }>, labels: string[], cell = 34): string {
  const cols = Math.min(3, panels.length);
  const n = panels[0]?.n ?? 0;
  const pw = n * cell + 50, ph = n * cell + 50;
  const width = cols * pw + 10, height = Math.ceil(panels.length / cols) * ph + 10;
  const parts: string[] = [];
  panels.forEach((p, k) => {
    const x0 = 10 + (k % cols) * pw + 30, y0 = 10 + Math.floor(k / cols) * ph + 24;
    let mx = 0;
    for (let i = 0; i < p.data.length; i++) mx = Math.max(mx, Math.abs(p.data[i]!));
    parts.push(`<text x="${x0 + (n * cell) / 2}" y="${y0 - 8}" font-size="12" text-anchor="middle">${escapeXml(p.title)}</text>`);
    for (let i = 0; i < p.n; i++) {
      parts.push(`<text x="${x0 - 4}" y="${y0 + i * cell + cell / 2 + 4}" font-size="10" text-anchor="end">${escapeXml(labels[i] ?? String(i))}</text>`);
      for (let j = 0; j < p.n; j++) {
        const v = p.data[i * p.n + j]!;
        const [r, g, b] = diverging(mx > 0 ? v / mx : 0);
        parts.push(`<rect x="${x0 + j * cell}" y="${y0 + i * cell}" width="${cell}" height="${cell}" fill="rgb(${r},${g},${b})" stroke="#eee"/><text x="${x0 + j * cell + cell / 2}" y="${y0 + i * cell + cell / 2 + 4}" font-size="9" text-anchor="middle">${v.toFixed(2)}</text>`);
      }
    }
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
${parts.join('\n')}
</svg>
`;
}

function clamp(v: number, lo: number, hi: number): number {
  return Number.isFinite(v) ? Math.max(lo, Math.min(hi, v)) : lo;
}

function fmt(v: number): string {
  const a = Math.abs(v);
  return a !== 0 && (a < 0.01 || a >= 1e4) ? v.toExponential(1) : v.toFixed(a < 1 ? 3 : a < 100 ? 2 : 0);
}
