// The OEE loss waterfall: planned busy time, less each loss in turn, down to the fully
// productive time. Drawn as SVG bars (attributes only: the window's CSP allows no inline
// styles), with a table beside it holding the same figures as text.

import type { OeeFigures, Waterfall } from "../bindings";
import { formatPercent, num } from "../domain/oee";
import { el } from "./dom";

const SVG = "http://www.w3.org/2000/svg";

interface Step {
  label: string;
  /** Seconds: a level (a bar from zero) or a loss (a bar hanging from the level before). */
  seconds: number;
  kind: "level" | "loss";
  detail?: string;
}

function hours(seconds: number): string {
  // Rounding noise of the sums must not show as "-0 h".
  const h = Math.abs(seconds) < 18 ? 0 : seconds / 3600;
  return `${h.toLocaleString(undefined, { maximumFractionDigits: Math.abs(h) < 10 ? 2 : 1 })} h`;
}

export function waterfallSteps(w: Waterfall): Step[] {
  return [
    { label: "Planned busy time", seconds: num(w.planned_busy_s), kind: "level" },
    {
      label: "Availability loss",
      seconds: num(w.availability_loss_s),
      kind: "loss",
      detail: `breakdowns ${hours(num(w.breakdown_s))}, set-up and adjustment ${hours(num(w.setup_adjustment_s))}`,
    },
    { label: "Actual production time", seconds: num(w.actual_production_s), kind: "level" },
    {
      label: "Performance loss",
      seconds: num(w.performance_loss_s),
      kind: "loss",
      detail: `small stops ${hours(num(w.small_stop_s))}, reduced speed ${hours(num(w.reduced_speed_s))}`,
    },
    { label: "Net run time", seconds: num(w.net_run_s), kind: "level" },
    {
      label: "Quality loss",
      seconds: num(w.quality_loss_s),
      kind: "loss",
      detail: `start-up rejects ${hours(num(w.startup_reject_s))}, production rejects ${hours(num(w.production_reject_s))}`,
    },
    { label: "Fully productive time", seconds: num(w.fully_productive_s), kind: "level" },
  ];
}

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attributes: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** The waterfall of `w` as a figure (`id` names it for tests and print). */
export function waterfallFigure(id: string, title: string, w: Waterfall, figures: OeeFigures): HTMLElement {
  const steps = waterfallSteps(w);
  const width = 640;
  const labelWidth = 170;
  const valueWidth = 80;
  const rowHeight = 26;
  const plotWidth = width - labelWidth - valueWidth;
  const top = Math.max(num(w.planned_busy_s), num(w.actual_production_s), 1);
  const scale = (seconds: number): number => (Math.max(0, seconds) / top) * plotWidth;
  const chart = svg("svg", {
    viewBox: `0 0 ${width} ${steps.length * rowHeight + 4}`,
    class: "waterfall",
    role: "img",
    "aria-label": `${title}: OEE ${formatPercent(figures.oee)}; the table below holds the same figures.`,
  });
  let level = 0;
  steps.forEach((step, i) => {
    const y = i * rowHeight + 2;
    let x = labelWidth;
    let barWidth = scale(step.seconds);
    if (step.kind === "level") {
      level = step.seconds;
    } else {
      // A loss hangs from the level before it, at its right end.
      barWidth = scale(Math.abs(step.seconds));
      x = labelWidth + scale(level) - (step.seconds >= 0 ? barWidth : 0);
    }
    chart.append(
      svg("text", { x: 0, y: y + rowHeight * 0.65, class: "wf-label" }, step.label),
      svg("rect", { x, y: y + 3, width: Math.max(barWidth, 1), height: rowHeight - 8, class: `wf-${step.kind}` }),
      svg("text", { x: width - valueWidth + 6, y: y + rowHeight * 0.65, class: "wf-value" }, hours(step.seconds)),
    );
  });
  const table = el(
    "table",
    { class: "waterfall-table" },
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Step"), el("th", { scope: "col", class: "numeric" }, "Time"), el("th", { scope: "col" }, "Made of"))),
    el(
      "tbody",
      {},
      ...steps.map((step) =>
        el(
          "tr",
          { class: `wf-row-${step.kind}` },
          el("td", {}, step.kind === "loss" ? `− ${step.label}` : step.label),
          el("td", { class: "numeric" }, hours(step.seconds)),
          el("td", {}, step.detail ?? ""),
        ),
      ),
    ),
  );
  return el(
    "figure",
    { class: "chart-figure waterfall-figure", id },
    chart,
    el(
      "figcaption",
      { class: "hint" },
      `${title}. OEE ${formatPercent(figures.oee)} = availability ${formatPercent(figures.availability)} × performance ${formatPercent(figures.performance)} × quality ${formatPercent(figures.quality)}.`,
    ),
    table,
  );
}
