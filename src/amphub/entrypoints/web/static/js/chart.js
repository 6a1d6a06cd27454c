// A small SVG line chart: a few series over a time window, with axes, a legend of the latest
// values, and data-* attributes that say what is drawn (tests read those).

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 640;
const HEIGHT = 240;
const PAD = { left: 44, right: 12, top: 12, bottom: 26 };

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

function niceStep(range, ticks) {
  const raw = range / ticks;
  const power = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / power;
  const nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10;
  return nice * power;
}

function clock(ms) {
  return new Date(ms).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
}

/**
 * series: [{key, label, color, points: [[ms, value|null], ...]}]; from/to: ms; unit: "A".
 */
export function renderChart(figure, { series, from, to, unit = "A", xLabel }) {
  const values = series.flatMap((s) => s.points.map((p) => p[1])).filter((v) => v !== null);
  const top = Math.max(1, ...values);
  const bottom = Math.min(0, ...values);
  const step = niceStep(top - bottom, 4);
  const yMax = Math.ceil(top / step) * step;
  const yMin = Math.floor(bottom / step) * step;
  const x = (ms) => PAD.left + ((ms - from) / Math.max(1, to - from)) * (WIDTH - PAD.left - PAD.right);
  const y = (v) => HEIGHT - PAD.bottom - ((v - yMin) / (yMax - yMin)) * (HEIGHT - PAD.top - PAD.bottom);

  const root = svg("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "img", class: "plot" });
  for (let v = yMin; v <= yMax + step / 2; v += step) {
    root.append(svg("line", { x1: PAD.left, x2: WIDTH - PAD.right, y1: y(v), y2: y(v), class: "grid" }));
    root.append(svg("text", { x: PAD.left - 6, y: y(v) + 4, class: "tick", "text-anchor": "end" }, `${+v.toFixed(1)}`));
  }
  const span = to - from;
  const xStep = [60e3, 300e3, 900e3, 1800e3, 3600e3, 6 * 3600e3].find((s) => span / s <= 6) ?? 86400e3;
  for (let t = Math.ceil(from / xStep) * xStep; t <= to; t += xStep) {
    root.append(svg("line", { x1: x(t), x2: x(t), y1: PAD.top, y2: HEIGHT - PAD.bottom, class: "grid" }));
    root.append(svg("text", { x: x(t), y: HEIGHT - 8, class: "tick", "text-anchor": "middle" }, clock(t)));
  }
  root.append(svg("text", { x: 4, y: PAD.top + 2, class: "tick" }, unit));
  if (xLabel) root.append(svg("text", { x: WIDTH - PAD.right, y: PAD.top + 2, class: "tick", "text-anchor": "end" }, xLabel));

  const legend = document.createElement("ul");
  legend.className = "legend";
  let drawn = 0;
  for (const s of series) {
    const inside = s.points.filter(([t]) => t >= from && t <= to);
    let d = "";
    let pen = "M";
    for (const [t, v] of inside) {
      if (v === null) {
        pen = "M";
        continue;
      }
      d += `${pen}${x(t).toFixed(1)},${y(v).toFixed(1)}`;
      pen = "L";
    }
    const last = [...inside].reverse().find(([, v]) => v !== null);
    drawn += inside.length;
    const path = svg("path", { d: d || "M0,0", fill: "none", stroke: s.color, "stroke-width": 2, class: `series ${s.key}` });
    path.dataset.series = s.key;
    path.dataset.count = String(inside.length);
    path.dataset.last = last ? String(last[1]) : "";
    root.append(path);
    const item = document.createElement("li");
    const swatch = svg("svg", { viewBox: "0 0 12 12", width: 12, height: 12 });
    swatch.append(svg("rect", { width: 12, height: 12, fill: s.color }));
    item.append(swatch, ` ${s.label}: ${last ? `${last[1].toFixed(1)} ${unit}` : "—"}`);
    item.dataset.series = s.key;
    legend.append(item);
  }
  figure.querySelector("svg.plot")?.remove();
  figure.querySelector("ul.legend")?.remove();
  figure.append(root, legend);
  figure.dataset.points = String(drawn);
}
