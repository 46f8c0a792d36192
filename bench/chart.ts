/**
 * The SVG chart of `npm run bench`: multiplications per second against layer width, both
 * on log scales, one polyline per configuration (parties × security), from the networked
 * single-layer rows. Hand-written SVG, no dependencies. Optional horizontal reference lines
 * mark MP-SPDZ's figures for comparison.
 * @module
 */

export interface ChartPoint {
  width: number;
  gatesPerSecond: number;
}

export interface ChartSeries {
  label: string;
  points: ChartPoint[];
  /** Drawn dashed (e.g. malicious security). */
  dashed?: boolean;
  /** Widths where the configuration failed: named in the legend. */
  failedWidths?: number[];
}

export interface ChartReference {
  label: string;
  gatesPerSecond: number;
}

export interface ChartOptions {
  title: string;
  /** One or more lines (separated by newlines). */
  subtitle?: string;
  series: ChartSeries[];
  references?: ChartReference[];
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** `10^4` as a tick label, with a superscript. */
const pow10 = (e: number): string => `10<tspan dy="-6" font-size="10">${e}</tspan>`;

/** The decade range [lo, hi] (exponents) covering `values`, at least one decade wide. */
function decades(values: number[], fallback: [number, number]): [number, number] {
  const good = values.filter((v) => v > 0 && Number.isFinite(v));
  if (good.length === 0) return fallback;
  const lo = Math.floor(Math.log10(Math.min(...good)));
  let hi = Math.ceil(Math.log10(Math.max(...good)));
  if (hi <= lo) hi = lo + 1;
  return [lo, hi];
}

/** The chart as a standalone SVG document. */
export function renderChart(opts: ChartOptions): string {
  // The legend sits right of the plot: wide enough for the longest label (~6.7 px a character).
  const longest = Math.max(0, ...opts.series.map((s) => s.label.length));
  const m = { left: 80, right: Math.max(220, Math.ceil(60 + longest * 6.7)), top: 84, bottom: 56 };
  const W = 540 + m.right;
  const H = 500;
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  const points = opts.series.flatMap((s) => s.points);
  const [x0, x1] = decades(points.map((p) => p.width), [4, 7]);
  const refs = opts.references ?? [];
  const [y0, y1] = decades([...points.map((p) => p.gatesPerSecond), ...refs.map((r) => r.gatesPerSecond)], [4, 7]);
  const X = (w: number) => m.left + ((Math.log10(w) - x0) / (x1 - x0)) * pw;
  const Y = (g: number) => m.top + ph - ((Math.log10(g) - y0) / (y1 - y0)) * ph;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="16" y="24" font-size="16" font-weight="bold">${esc(opts.title)}</text>`);
  (opts.subtitle ?? '').split('\n').filter(Boolean).forEach((line, i) => out.push(`<text x="16" y="${42 + i * 14}" font-size="11" fill="#555">${esc(line)}</text>`));

  // Grid, ticks and labels: decades, with faint minor lines at 2..9 × 10^k.
  for (let e = x0; e <= x1; e++) {
    const x = X(10 ** e);
    out.push(`<line x1="${x}" y1="${m.top}" x2="${x}" y2="${m.top + ph}" stroke="#ddd"/>`);
    out.push(`<line x1="${x}" y1="${m.top + ph}" x2="${x}" y2="${m.top + ph + 6}" stroke="#333"/>`);
    out.push(`<text x="${x}" y="${m.top + ph + 22}" text-anchor="middle">${pow10(e)}</text>`);
    if (e < x1) for (let k = 2; k <= 9; k++) out.push(`<line x1="${X(k * 10 ** e)}" y1="${m.top}" x2="${X(k * 10 ** e)}" y2="${m.top + ph}" stroke="#f2f2f2"/>`);
  }
  for (let e = y0; e <= y1; e++) {
    const y = Y(10 ** e);
    out.push(`<line x1="${m.left}" y1="${y}" x2="${m.left + pw}" y2="${y}" stroke="#ddd"/>`);
    out.push(`<line x1="${m.left - 6}" y1="${y}" x2="${m.left}" y2="${y}" stroke="#333"/>`);
    out.push(`<text x="${m.left - 10}" y="${y + 4}" text-anchor="end">${pow10(e)}</text>`);
    if (e < y1) for (let k = 2; k <= 9; k++) out.push(`<line x1="${m.left}" y1="${Y(k * 10 ** e)}" x2="${m.left + pw}" y2="${Y(k * 10 ** e)}" stroke="#f2f2f2"/>`);
  }
  out.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  out.push(`<text x="${m.left + pw / 2}" y="${H - 14}" text-anchor="middle">multiplications per layer (layer width)</text>`);
  out.push(`<text transform="translate(20 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">multiplications per second (online)</text>`);

  // Reference lines (MP-SPDZ), grey, dotted, labelled at the right end of the plot.
  for (const r of refs) {
    const y = Y(r.gatesPerSecond);
    out.push(`<line x1="${m.left}" y1="${y}" x2="${m.left + pw}" y2="${y}" stroke="#888" stroke-dasharray="2 3"/>`);
    out.push(`<text x="${m.left + 4}" y="${y - 4}" font-size="10" fill="#666">${esc(r.label)}</text>`);
  }

  // Series and legend.
  opts.series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const pts = s.points.filter((p) => p.width > 0 && p.gatesPerSecond > 0).sort((a, b) => a.width - b.width);
    const dash = s.dashed ? ' stroke-dasharray="7 4"' : '';
    if (pts.length > 1) {
      out.push(`<polyline fill="none" stroke="${color}" stroke-width="2"${dash} points="${pts.map((p) => `${X(p.width).toFixed(1)},${Y(p.gatesPerSecond).toFixed(1)}`).join(' ')}"/>`);
    }
    for (const p of pts) out.push(`<circle cx="${X(p.width).toFixed(1)}" cy="${Y(p.gatesPerSecond).toFixed(1)}" r="3.5" fill="${color}"><title>${esc(`${s.label}: ${p.width} → ${Math.round(p.gatesPerSecond)} mult/s`)}</title></circle>`);
    const ly = m.top + 10 + i * 30;
    const lx = m.left + pw + 16;
    out.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 28}" y2="${ly}" stroke="${color}" stroke-width="2"${dash}/>`);
    out.push(`<circle cx="${lx + 14}" cy="${ly}" r="3.5" fill="${color}"/>`);
    out.push(`<text x="${lx + 36}" y="${ly + 4}">${esc(s.label)}${pts.length === 0 ? ' (no data)' : ''}</text>`);
    if (s.failedWidths?.length) {
      const list = s.failedWidths.map((w) => (Number.isInteger(Math.log10(w)) ? `10^${Math.log10(w)}` : String(w))).join(', ');
      out.push(`<text x="${lx + 36}" y="${ly + 16}" font-size="10" fill="#b00">failed at ${esc(list)}</text>`);
    }
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
