// Charts drawn by uPlot (a small, kept library), in the current theme's colours. Each chart is a
// figure whose caption says that the table beside it holds the same figures: the table is the
// text alternative, the chart only draws it.

import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { EfficiencyPoint, TimeRange } from "../bindings";
import { el } from "./dom";

interface Palette {
  text: string;
  muted: string;
  grid: string;
  accent: string;
  target: string;
}

/** The theme's colours, read from the CSS variables at drawing time (light or dark). */
function palette(): Palette {
  const css = getComputedStyle(document.documentElement);
  const get = (name: string, fallback: string): string => css.getPropertyValue(name).trim() || fallback;
  return {
    text: get("--text", "#1b1f24"),
    muted: get("--muted", "#5a6470"),
    grid: get("--border", "#d5dae1"),
    accent: get("--accent", "#1565c0"),
    target: get("--danger", "#b3261e"),
  };
}

function axis(colours: Palette, extra: Partial<uPlot.Axis> = {}): uPlot.Axis {
  return {
    stroke: colours.muted,
    grid: { stroke: colours.grid, width: 1 },
    ticks: { stroke: colours.grid, width: 1 },
    font: "12px system-ui, sans-serif",
    ...extra,
  };
}

function figure(id: string, caption: string, chart: (target: HTMLElement) => void): HTMLElement {
  const plot = el("div", { class: "chart", role: "img", "aria-label": caption });
  chart(plot);
  return el("figure", { class: "chart-figure", id }, plot, el("figcaption", { class: "hint" }, caption));
}

/** Machines per 10-point efficiency band, as bars. */
export function efficiencyHistogram(counts: number[]): HTMLElement {
  const colours = palette();
  const bands = counts.map((_, i) => i);
  return figure("efficiency-histogram-chart", "Machines per efficiency band (the table holds the same counts).", (target) => {
    new uPlot(
      {
        width: 420,
        height: 200,
        legend: { show: false },
        cursor: { show: false },
        scales: { x: { time: false, range: [-0.5, counts.length - 0.5] }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
        axes: [
          axis(colours, { values: (_u, ticks) => ticks.map((t) => (Number.isInteger(t) ? `${t * 10}–${t === 9 ? 100 : t * 10 + 10}` : "")) }),
          axis(colours, { values: (_u, ticks) => ticks.map((t) => (Number.isInteger(t) ? String(t) : "")) }),
        ],
        series: [
          {},
          {
            label: "Machines",
            stroke: colours.accent,
            fill: colours.accent,
            paths: uPlot.paths.bars?.({ size: [0.7, 60] }),
            points: { show: false },
          },
        ],
      },
      [bands, counts],
      target,
    );
  });
}

/** A machine's efficiency over the range as steps (each value holds until the next change),
 * with the target as a line. */
export function efficiencyOverTime(points: EfficiencyPoint[], range: TimeRange, target: number): HTMLElement {
  const colours = palette();
  const start = Date.parse(range.from) / 1000;
  const end = Date.parse(range.to) / 1000;
  const xs: number[] = [];
  const ys: (number | null)[] = [];
  for (const point of points) {
    xs.push(Math.max(start, Date.parse(point.at) / 1000));
    ys.push(point.efficiency ?? null);
  }
  if (xs.length > 0) {
    // The last value holds to the range's end.
    xs.push(end);
    ys.push(ys[ys.length - 1] ?? null);
  }
  const targets = xs.map(() => target);
  return figure("efficiency-over-time-chart", `Efficiency over the range, with the target of ${target} % (the table holds the same changes).`, (host) => {
    new uPlot(
      {
        width: 640,
        height: 200,
        legend: { show: false },
        scales: { x: { time: true, range: [start, end] }, y: { range: [0, 100] } },
        axes: [axis(colours), axis(colours, { values: (_u, ticks) => ticks.map((t) => `${t} %`) })],
        series: [
          {},
          { label: "Efficiency", stroke: colours.accent, width: 2, paths: uPlot.paths.stepped?.({ align: 1 }), points: { show: true, size: 5 } },
          { label: "Target", stroke: colours.target, width: 1, dash: [6, 4], points: { show: false } },
        ],
      },
      [xs, ys, targets],
      host,
    );
  });
}

/** OEE day by day (percent) as points joined by a line over the whole range, with the target
 * as a dashed line across it. */
export function oeeTrendChart(days: { day: string; oee: number | null }[], target: number, range: TimeRange): HTMLElement {
  const colours = palette();
  const start = Date.parse(range.from) / 1000;
  const end = Date.parse(range.to) / 1000;
  // The range's edges carry no OEE, only the target's line.
  // Each day at its middle, kept inside the range (today's middle may be still to come).
  const xs = [start, ...days.map((d) => Math.min(end, Math.max(start, Date.parse(`${d.day}T12:00:00Z`) / 1000))), end];
  const ys = [null, ...days.map((d) => (d.oee === null ? null : d.oee * 100)), null];
  const targets = xs.map(() => target);
  return figure("oee-trend-chart", `OEE per day, with the target of ${target} % (the table holds the same figures).`, (host) => {
    new uPlot(
      {
        width: 640,
        height: 200,
        legend: { show: false },
        scales: { x: { time: true, range: [start, end] }, y: { range: [0, 100] } },
        axes: [axis(colours), axis(colours, { values: (_u, ticks) => ticks.map((t) => `${t} %`) })],
        series: [
          {},
          { label: "OEE", stroke: colours.accent, width: 2, spanGaps: true, points: { show: true, size: 6 } },
          { label: "Target", stroke: colours.target, width: 1, dash: [6, 4], points: { show: false } },
        ],
      },
      [xs, ys, targets],
      host,
    );
  });
}

/** Downtime per reason (hours) as bars, largest first: the Pareto. */
export function paretoChart(reasons: { name: string; seconds: number }[]): HTMLElement {
  const colours = palette();
  const xs = reasons.map((_, i) => i);
  const ys = reasons.map((r) => r.seconds / 3600);
  return figure("downtime-pareto-chart", "Downtime per reason in hours, largest first (the table holds the same figures).", (host) => {
    new uPlot(
      {
        width: 640,
        height: 220,
        legend: { show: false },
        cursor: { show: false },
        scales: { x: { time: false, range: [-0.5, Math.max(0, reasons.length - 0.5)] }, y: { range: (_u, _min, max) => [0, Math.max(0.1, max)] } },
        axes: [
          axis(colours, { values: (_u, ticks) => ticks.map((t) => (Number.isInteger(t) ? (reasons[t]?.name ?? "") : "")) }),
          axis(colours, { values: (_u, ticks) => ticks.map((t) => `${t} h`) }),
        ],
        series: [{}, { label: "Downtime", stroke: colours.target, fill: colours.target, paths: uPlot.paths.bars?.({ size: [0.7, 60] }), points: { show: false } }],
      },
      [xs, ys],
      host,
    );
  });
}
