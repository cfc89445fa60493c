// A small inline SVG chart of one campaign's triggers per bucket (a minute unless the server says otherwise).
// The x axis is the whole window, so a series the UI has watched for a short time fills only its right end.
/* global document */

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 120;
const HEIGHT = 24;
const PAD = 2;

function svg(tag, attrs) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

function duration(ms) {
  return ms >= 60_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 1000)} s`;
}

function unit(bucketMs) {
  return bucketMs === 60_000 ? "minute" : `${bucketMs / 1000} s`;
}

/**
 * `rate` is the server's triggerRate (bucketMs, buckets, observed); `points` the campaign's series, oldest
 * first, `observed` long (zeros when the campaign had no trigger in the window).
 */
export function sparkline(rate, points) {
  const total = points.reduce((a, b) => a + b, 0);
  const peak = points.reduce((a, b) => Math.max(a, b), 0);
  const last = points.at(-1) ?? 0;
  const per = unit(rate.bucketMs);
  const watched = duration(points.length * rate.bucketMs);
  const title =
    points.length === 0
      ? "triggers per minute: no reading of the engines yet"
      : `${total} triggers in the ${points.length < rate.buckets ? `${watched} since the UI started` : `last ${watched}`}; ` +
        `peak ${peak} per ${per}, ${last} in this ${per} so far`;
  const chart = svg("svg", {
    class: "spark",
    width: WIDTH,
    height: HEIGHT,
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    role: "img",
    "aria-label": title,
    "data-total": total,
    "data-peak": peak,
    "data-last": last,
    "data-points": points.length,
  });
  const t = svg("title", {});
  t.textContent = title;
  chart.append(t);
  const bottom = HEIGHT - PAD;
  chart.append(svg("line", { class: "axis", x1: PAD, x2: WIDTH - PAD, y1: bottom, y2: bottom }));
  if (points.length === 0) return chart;
  const span = Math.max(1, rate.buckets - 1);
  const x = (i) => PAD + ((rate.buckets - points.length + i) / span) * (WIDTH - 2 * PAD);
  const y = (v) => bottom - (peak === 0 ? 0 : (v / peak) * (HEIGHT - 2 * PAD));
  const xy = points.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`);
  if (points.length > 1) chart.append(svg("polyline", { class: "line", points: xy.join(" ") }));
  chart.append(svg("circle", { class: "dot", cx: x(points.length - 1), cy: y(last), r: 2 }));
  return chart;
}
