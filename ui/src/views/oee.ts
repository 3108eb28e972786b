// The planner's OEE from shift records: the fleet's loss waterfall over the range, OEE with its
// factors per machine type, and the ten machines that lost the most time. Every figure is made
// from sums of times and counts (never an average of percentages).

import type { OeeGroup } from "../bindings";
import { formatPercent, num } from "../domain/oee";
import { el } from "./dom";
import { tbodyWithMore } from "./long-table";
import { waterfallFigure } from "./waterfall";

function hours(seconds: number): string {
  return `${(seconds / 3600).toLocaleString(undefined, { maximumFractionDigits: 1 })} h`;
}

/** Planned busy time that did not become fully productive time. */
export function lostSeconds(group: OeeGroup): number {
  return Math.max(0, num(group.waterfall.planned_busy_s) - num(group.waterfall.fully_productive_s));
}

function figuresRow(name: string, group: OeeGroup): string[] {
  return [
    name,
    String(group.totals.shifts),
    formatPercent(group.figures.oee),
    formatPercent(group.figures.availability),
    formatPercent(group.figures.performance),
    formatPercent(group.figures.quality),
    hours(num(group.waterfall.planned_busy_s)),
    hours(lostSeconds(group)),
  ];
}

const HEAD = ["Shifts", "OEE", "Availability", "Performance", "Quality", "Planned busy", "Lost"];

function table(caption: string, first: string, rows: string[][], id: string): HTMLElement {
  const head = [first, ...HEAD];
  return el(
    "table",
    { class: "planner-table oee-table", id },
    el("caption", {}, caption),
    el("thead", {}, el("tr", {}, ...head.map((h, i) => el("th", { scope: "col", class: i > 0 ? "numeric" : "" }, h)))),
    tbodyWithMore(rows.length, head.length, (i) => el("tr", {}, ...(rows[i] ?? []).map((c, j) => el("td", { class: j > 0 ? "numeric" : "" }, c)))),
  );
}

export function renderOee(fleet: OeeGroup[], byType: OeeGroup[], byMachine: OeeGroup[]): HTMLElement {
  const section = el("section", { class: "planner-block", id: "oee", "aria-labelledby": "oee-title" }, el("h2", { id: "oee-title" }, "OEE from shift records"));
  const whole = fleet[0];
  if (!whole || whole.totals.shifts === 0) {
    section.append(el("p", { id: "oee-empty" }, "No shift records in this range. Operators enter them from the registry (the Shift button of a machine, or R)."));
    return section;
  }
  section.append(
    el(
      "p",
      { id: "oee-summary" },
      `Fleet OEE ${formatPercent(whole.figures.oee)} over ${whole.totals.shifts} shift${whole.totals.shifts === 1 ? "" : "s"}: availability ${formatPercent(whole.figures.availability)} × performance ${formatPercent(whole.figures.performance)} × quality ${formatPercent(whole.figures.quality)}. ` +
        "Made from the shifts' summed times and counts, so a long shift weighs more than a short one.",
    ),
    waterfallFigure("oee-waterfall", "Where the fleet's planned busy time went", whole.waterfall, whole.figures),
    table("By machine type", "Type", byType.map((g) => figuresRow(g.label, g)), "oee-by-type"),
    table(
      "Top 10 machines by lost time",
      "Machine",
      [...byMachine]
        .sort((a, b) => lostSeconds(b) - lostSeconds(a))
        .slice(0, 10)
        .map((g) => figuresRow(g.label, g)),
      "oee-top-lost",
    ),
  );
  return section;
}
