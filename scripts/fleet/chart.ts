/**
 * The latency-against-N chart, as a self-contained SVG written by hand: log-scaled N on x,
 * log-scaled seconds on y (the policies differ by orders of magnitude), one solid line per
 * p50 and a dashed one per p99.
 */

export interface Series {
  label: string;
  color: string;
  dashed?: boolean;
  /** [N, seconds] */
  points: [number, number][];
}

const W = 760;
const H = 440;
const M = { left: 70, right: 220, top: 40, bottom: 55 };

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * Math.pow(10, e);
      if (v >= lo * 0.999 && v <= hi * 1.001) out.push(v);
    }
  }
  return out;
}

export function renderChart(title: string, ns: number[], series: Series[]): string {
  const ys = series.flatMap((s) => s.points.map((p) => p[1])).filter((y) => y > 0 && isFinite(y));
  const yLo = Math.pow(10, Math.floor(Math.log10(Math.min(...ys)) - 0.1));
  const yHi = Math.pow(10, Math.ceil(Math.log10(Math.max(...ys))));
  const xLo = Math.min(...ns);
  const xHi = Math.max(...ns);
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const x = (n: number) => M.left + ((Math.log10(n) - Math.log10(xLo)) / (Math.log10(xHi) - Math.log10(xLo))) * pw;
  const y = (v: number) =>
    M.top + ph - ((Math.log10(Math.max(v, yLo)) - Math.log10(yLo)) / (Math.log10(yHi) - Math.log10(yLo))) * ph;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
  );
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${M.left}" y="22" font-size="15" font-weight="bold">${esc(title)}</text>`);
  for (const t of logTicks(yLo, yHi)) {
    parts.push(
      `<line x1="${M.left}" x2="${M.left + pw}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="#e5e5e5"/>`,
    );
    parts.push(
      `<text x="${M.left - 6}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end">${t >= 1 ? t : t.toString()}</text>`,
    );
  }
  for (const n of ns) {
    parts.push(
      `<line x1="${x(n).toFixed(1)}" x2="${x(n).toFixed(1)}" y1="${M.top}" y2="${M.top + ph}" stroke="#f0f0f0"/>`,
    );
    parts.push(`<text x="${x(n).toFixed(1)}" y="${M.top + ph + 18}" text-anchor="middle">${n}</text>`);
  }
  parts.push(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#444"/>`);
  parts.push(
    `<text x="${M.left + pw / 2}" y="${H - 12}" text-anchor="middle">instances requested (N, log scale)</text>`,
  );
  parts.push(
    `<text transform="translate(18 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">Succeeded → worker start (s, log scale)</text>`,
  );
  series.forEach((s, i) => {
    const pts = s.points.filter((p) => p[1] > 0 && isFinite(p[1]));
    const d = pts.map((p, j) => `${j ? "L" : "M"}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(" ");
    const dash = s.dashed ? ` stroke-dasharray="6 4"` : "";
    parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${dash}/>`);
    for (const p of pts)
      parts.push(`<circle cx="${x(p[0]).toFixed(1)}" cy="${y(p[1]).toFixed(1)}" r="3" fill="${s.color}"/>`);
    const ly = M.top + 10 + i * 20;
    parts.push(
      `<line x1="${W - M.right + 15}" x2="${W - M.right + 45}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"${dash}/>`,
    );
    parts.push(`<text x="${W - M.right + 52}" y="${ly + 4}">${esc(s.label)}</text>`);
  });
  parts.push(`</svg>`);
  return parts.join("\n") + "\n";
}
