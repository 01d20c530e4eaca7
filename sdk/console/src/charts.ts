// Charts as plain SVG: a step line of a balance over time and a bar chart of
// volumes. Amounts stay bigint until the last step, where they are scaled to
// pixels (a chart may round; the tables next to it never do). Each chart is
// an image with a text alternative; the numbers are also in a table.

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 640;
const HEIGHT = 220;
const PAD = { top: 12, right: 12, bottom: 28, left: 104 };

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

function frame(label: string): SVGSVGElement {
  const root = svg("svg", {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    role: "img",
    "aria-label": label,
    class: "chart",
    preserveAspectRatio: "xMidYMid meet",
  });
  const title = svg("title", {});
  title.textContent = label;
  root.appendChild(title);
  return root;
}

function text(x: number, y: number, content: string, anchor: "start" | "middle" | "end", cls: string): SVGTextElement {
  const el = svg("text", { x, y, "text-anchor": anchor, class: cls });
  el.textContent = content;
  return el;
}

/** Scales bigint values in [min, max] to [pixelLow, pixelHigh]. */
function scaler(min: bigint, max: bigint, pixelLow: number, pixelHigh: number): (v: bigint) => number {
  const span = max - min === 0n ? 1n : max - min;
  return (v) => pixelLow + (Number(((v - min) * 10_000n) / span) / 10_000) * (pixelHigh - pixelLow);
}

export interface Point {
  /** Milliseconds since the epoch. */
  time: number;
  value: bigint;
}

/** A step line: the balance holds until the next entry changes it. */
export function lineChart(label: string, points: Point[], format: (v: bigint) => string): SVGSVGElement {
  const root = frame(label);
  if (points.length === 0) {
    root.appendChild(text(WIDTH / 2, HEIGHT / 2, "No entries", "middle", "chart-empty"));
    return root;
  }
  let min = points[0]!.value;
  let max = min;
  for (const p of points) {
    if (p.value < min) min = p.value;
    if (p.value > max) max = p.value;
  }
  if (min > 0n) min = 0n;
  const t0 = points[0]!.time;
  const t1 = Math.max(points[points.length - 1]!.time, t0 + 1);
  const x = (t: number) => PAD.left + ((t - t0) / (t1 - t0)) * (WIDTH - PAD.left - PAD.right);
  const y = scaler(min, max, HEIGHT - PAD.bottom, PAD.top);
  root.appendChild(svg("line", { x1: PAD.left, y1: y(0n), x2: WIDTH - PAD.right, y2: y(0n), class: "chart-axis" }));
  let d = `M ${x(points[0]!.time).toFixed(1)} ${y(points[0]!.value).toFixed(1)}`;
  for (let i = 1; i < points.length; i++) {
    const p = points[i]!;
    d += ` H ${x(p.time).toFixed(1)} V ${y(p.value).toFixed(1)}`;
  }
  root.appendChild(svg("path", { d, class: "chart-line" }));
  for (const p of points) {
    root.appendChild(svg("circle", { cx: x(p.time).toFixed(1), cy: y(p.value).toFixed(1), r: 3, class: "chart-dot" }));
  }
  root.appendChild(text(PAD.left - 6, y(max) + 4, format(max), "end", "chart-label"));
  if (max !== min) root.appendChild(text(PAD.left - 6, y(min) + 4, format(min), "end", "chart-label"));
  const day = (t: number) => new Date(t).toISOString().slice(0, 10);
  root.appendChild(text(PAD.left, HEIGHT - 8, day(t0), "start", "chart-label"));
  root.appendChild(text(WIDTH - PAD.right, HEIGHT - 8, day(t1), "end", "chart-label"));
  return root;
}

export interface Bar {
  label: string;
  value: bigint;
}

/** Bars of non-negative values, one per label. */
export function barChart(label: string, bars: Bar[], format: (v: bigint) => string): SVGSVGElement {
  const root = frame(label);
  if (bars.length === 0) {
    root.appendChild(text(WIDTH / 2, HEIGHT / 2, "No data yet", "middle", "chart-empty"));
    return root;
  }
  let max = 0n;
  for (const b of bars) if (b.value > max) max = b.value;
  const y = scaler(0n, max, HEIGHT - PAD.bottom, PAD.top);
  const slot = (WIDTH - PAD.left - PAD.right) / bars.length;
  const width = Math.max(1, Math.min(slot * 0.7, 48));
  root.appendChild(svg("line", { x1: PAD.left, y1: y(0n), x2: WIDTH - PAD.right, y2: y(0n), class: "chart-axis" }));
  bars.forEach((b, i) => {
    const x = PAD.left + i * slot + (slot - width) / 2;
    const top = y(b.value);
    const rect = svg("rect", { x: x.toFixed(1), y: top.toFixed(1), width: width.toFixed(1), height: (y(0n) - top).toFixed(1), class: "chart-bar", "data-value": b.value.toString() });
    const title = svg("title", {});
    title.textContent = `${b.label}: ${format(b.value)}`;
    rect.appendChild(title);
    root.appendChild(rect);
  });
  root.appendChild(text(PAD.left - 6, y(max) + 4, format(max), "end", "chart-label"));
  root.appendChild(text(PAD.left, HEIGHT - 8, bars[0]!.label, "start", "chart-label"));
  if (bars.length > 1) root.appendChild(text(WIDTH - PAD.right, HEIGHT - 8, bars[bars.length - 1]!.label, "end", "chart-label"));
  return root;
}
