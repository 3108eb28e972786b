// The planner's OEE from shift records: the fleet's loss waterfall over the range, OEE with its
// factors per machine type, and the ten machines that lost the most time. Every figure is made
// from sums of times and counts (never an average of percentages).

import type { DowntimePareto, LossCategory, LossReason, OeeDay, OeeGroup, TimeRange, TypeCycleTime } from "../bindings";
import { CATEGORY_LABEL, DOWNTIME_CATEGORIES, formatPercent, num } from "../domain/oee";
import { oeeTrendChart, paretoChart } from "./charts";
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

/** One group the trend and the Pareto are shown for; `null`: the whole fleet. */
export type Focus = { grouping: "machine_type" | "machine"; key: string; label: string } | null;

/** Reads the trend and the Pareto of one group. */
export type FocusLoader = (focus: Focus) => Promise<HTMLElement[]>;

export function renderOee(
  fleet: OeeGroup[],
  byType: OeeGroup[],
  byMachine: OeeGroup[],
  focus: FocusLoader,
  exportsFor: (focus: Focus) => HTMLElement,
): HTMLElement {
  const print = el("button", { type: "button", class: "ghost small", id: "oee-print", title: "Print the planner's view (the registry and the buttons are left out)" }, "Print…");
  print.addEventListener("click", () => window.print());
  const section = el("section", { class: "planner-block", id: "oee", "aria-labelledby": "oee-title" }, el("h2", { id: "oee-title" }, "OEE from shift records"), print);
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
  // The trend and the Pareto, for the fleet or one type.
  const chooser = el("select", { id: "oee-focus", "aria-label": "OEE trend and downtime of" }, el("option", { value: "" }, "The whole fleet"));
  const choices = new Map<string, Focus>();
  const types = el("optgroup", { label: "Machine types" });
  for (const group of byType) {
    choices.set(`type:${group.key}`, { grouping: "machine_type", key: group.key, label: group.label });
    types.append(el("option", { value: `type:${group.key}` }, group.label));
  }
  const machines = el("optgroup", { label: "Machines (with shifts in the range)" });
  for (const group of [...byMachine].sort((a, b) => a.label.localeCompare(b.label))) {
    choices.set(`machine:${group.key}`, { grouping: "machine", key: group.key, label: group.label });
    machines.append(el("option", { value: `machine:${group.key}` }, group.label));
  }
  chooser.append(types, machines);
  const focused = el("div", { id: "oee-focused", "aria-live": "polite" }, el("p", { class: "hint" }, "Loading…"));
  const exportSlot = el("span", { class: "oee-exports" });
  let latest = 0;
  const show = async (): Promise<void> => {
    const ticket = ++latest;
    const chosen = choices.get(chooser.value) ?? null;
    // The export holds the range's tables, and the trend and downtime of what is chosen.
    exportSlot.replaceChildren(exportsFor(chosen));
    const parts = await focus(chosen);
    if (ticket === latest) focused.replaceChildren(...parts); // a later choice's answer wins
  };
  chooser.addEventListener("change", () => void show());
  section.append(el("div", { class: "planner-controls" }, el("label", { for: "oee-focus" }, "Trend and downtime of "), chooser, exportSlot), focused);
  void show();
  return section;
}

function share(part: number, whole: number): string {
  return whole > 0 ? `${((100 * part) / whole).toFixed(1)} %` : "—";
}

/** OEE day by day against the target: chart and table. */
export function renderTrend(days: OeeDay[], target: number, what: string, range: TimeRange): HTMLElement {
  const block = el("div", { class: "oee-trend", id: "oee-trend" }, el("h3", {}, `OEE per day · ${what}`));
  if (days.length === 0) {
    block.append(el("p", { class: "hint" }, "No shifts on these days."));
    return block;
  }
  block.append(
    oeeTrendChart(days.map((d) => ({ day: d.day, oee: d.figures.oee ?? null })), target, range),
    table(
      "Per day (UTC, the day the shifts began)",
      "Day",
      days.map((d) => [d.day, String(d.totals.shifts), formatPercent(d.figures.oee), formatPercent(d.figures.availability), formatPercent(d.figures.performance), formatPercent(d.figures.quality), hours(num(d.totals.planned_busy_s)), hours(Math.max(0, num(d.totals.planned_busy_s) - (num(d.totals.ideal_produced_s) - num(d.totals.ideal_startup_rejects_s) - num(d.totals.ideal_production_rejects_s))))]),
      "oee-trend-table",
    ),
  );
  return block;
}

/** Downtime by reason (bars and table, with the running share) and by loss category. */
export function renderPareto(pareto: DowntimePareto, what: string): HTMLElement {
  const block = el("div", { class: "oee-pareto", id: "downtime-pareto" }, el("h3", {}, `Downtime by reason · ${what}`));
  const total = pareto.reasons.reduce((sum, r) => sum + num(r.seconds), 0);
  if (pareto.reasons.length === 0) {
    block.append(el("p", { class: "hint" }, "No downtime recorded in this range."));
    return block;
  }
  let running = 0;
  const rows = pareto.reasons.map((r) => {
    running += num(r.seconds);
    return [r.name, CATEGORY_LABEL[r.category], String(r.events), hours(num(r.seconds)), share(num(r.seconds), total), share(running, total)];
  });
  const head = ["Reason", "Loss", "Events", "Downtime", "Share", "Running share"];
  block.append(
    paretoChart(pareto.reasons.map((r) => ({ name: r.name, seconds: num(r.seconds) }))),
    el(
      "table",
      { class: "planner-table oee-table", id: "pareto-by-reason" },
      el("caption", {}, "By reason, largest first"),
      el("thead", {}, el("tr", {}, ...head.map((h, i) => el("th", { scope: "col", class: i > 1 ? "numeric" : "" }, h)))),
      tbodyWithMore(rows.length, head.length, (i) => el("tr", {}, ...(rows[i] ?? []).map((c, j) => el("td", { class: j > 1 ? "numeric" : "" }, c)))),
    ),
    el(
      "table",
      { class: "planner-table oee-table", id: "pareto-by-category" },
      el("caption", {}, "By loss category"),
      el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Loss"), el("th", { scope: "col", class: "numeric" }, "Events"), el("th", { scope: "col", class: "numeric" }, "Downtime"), el("th", { scope: "col", class: "numeric" }, "Share"))),
      el(
        "tbody",
        {},
        ...pareto.categories.map((c) =>
          el("tr", {}, el("td", {}, CATEGORY_LABEL[c.category]), el("td", { class: "numeric" }, String(c.events)), el("td", { class: "numeric" }, hours(num(c.seconds))), el("td", { class: "numeric" }, share(num(c.seconds), total))),
        ),
      ),
    ),
  );
  return block;
}

/** Saves a type's ideal cycle time (`null`: none); answers an error to show, or null. */
export type SaveCycleTime = (machineType: string, seconds: number | null) => Promise<string | null>;

/** The types' ideal cycle times, each editable (the shift form's default for the type). */
export function renderCycleTimes(types: string[], cycles: TypeCycleTime[], save: SaveCycleTime): HTMLElement {
  const known = new Map<string, number | null>();
  for (const t of types) known.set(t, null);
  for (const c of cycles) known.set(c.machine_type, num(c.ideal_cycle_s));
  const rows = [...known.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([type, seconds]) => {
      const input = el("input", { type: "text", inputmode: "decimal", class: "interval-input", "aria-label": `Ideal cycle time of ${type} (seconds per part)` });
      input.value = seconds === null ? "" : String(seconds);
      const problem = el("span", { class: "field-error", role: "alert" });
      const store = async (): Promise<void> => {
        const text = input.value.trim().replace(",", ".");
        const value = text === "" ? null : Number(text);
        if (value !== null && !(Number.isFinite(value) && value > 0 && value <= 86_400)) {
          problem.textContent = "Seconds per part: more than 0, at most 86,400.";
          return;
        }
        problem.textContent = (await save(type, value)) ?? "";
      };
      const button = el("button", { type: "button", class: "ghost small plan-only", "data-role": "save-cycle-time" }, "Save");
      button.addEventListener("click", () => void store());
      input.addEventListener("keydown", (event) => {
        if (event.key === "Enter") void store();
      });
      return el("tr", { "data-type": type }, el("td", {}, type), el("td", {}, input, problem), el("td", {}, button));
    });
  return el(
    "table",
    { class: "planner-table", id: "cycle-times" },
    el("caption", {}, "Ideal cycle time per type (seconds per part; blank: none): the shift form's default. Needs the database."),
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Type"), el("th", { scope: "col" }, "Ideal cycle time"), el("th", { scope: "col" }, ""))),
    el("tbody", {}, ...rows),
  );
}

export interface ReasonActions {
  add(name: string, category: LossCategory): Promise<string | null>;
  retire(reason: LossReason): Promise<string | null>;
}

/** The reason list a planner keeps: every reason by loss, retired ones marked; add, retire. */
export function renderReasons(reasons: LossReason[], actions: ReasonActions): HTMLElement {
  const rows = [...reasons]
    .filter((r) => DOWNTIME_CATEGORIES.includes(r.category))
    .sort((a, b) => DOWNTIME_CATEGORIES.indexOf(a.category) - DOWNTIME_CATEGORIES.indexOf(b.category) || a.name.localeCompare(b.name))
    .map((r) => {
      const problem = el("span", { class: "field-error", role: "alert" });
      const retire = el("button", { type: "button", class: "ghost small plan-only", "data-role": "retire-reason" }, "Retire");
      retire.addEventListener("click", () => {
        retire.disabled = true;
        void actions.retire(r).then((error) => {
          problem.textContent = error ?? "";
          retire.disabled = error === null;
        });
      });
      return el(
        "tr",
        { "data-reason": r.name, class: r.retired ? "retired" : "" },
        el("td", {}, r.name),
        el("td", {}, CATEGORY_LABEL[r.category]),
        el("td", {}, r.retired ? "retired (kept for its records)" : r.built_in ? "built in" : "added"),
        el("td", {}, r.retired ? "" : retire, problem),
      );
    });
  const name = el("input", { type: "text", id: "reason-name", maxlength: "80", "aria-label": "New reason", placeholder: "New reason, e.g. Hydraulic leak" });
  const category = el("select", { id: "reason-category", "aria-label": "Its loss" });
  for (const c of DOWNTIME_CATEGORIES) category.append(el("option", { value: c }, CATEGORY_LABEL[c]));
  const problem = el("span", { class: "field-error", id: "reason-problem", role: "alert" });
  const add = el("button", { type: "button", class: "ghost small plan-only", id: "add-reason" }, "Add reason");
  const submit = async (): Promise<void> => {
    const error = await actions.add(name.value, category.value as LossCategory);
    problem.textContent = error ?? "";
    if (error === null) name.value = "";
  };
  add.addEventListener("click", () => void submit());
  name.addEventListener("keydown", (event) => {
    if (event.key === "Enter") void submit();
  });
  return el(
    "div",
    { id: "reason-list" },
    el(
      "table",
      { class: "planner-table", id: "reasons" },
      el("caption", {}, "Downtime reasons (the shift form offers those not retired; a reason used by a record is kept, retired)"),
      el("thead", {}, el("tr", {}, ...["Reason", "Loss", "", ""].map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, ...rows),
    ),
    el("div", { class: "planner-controls plan-only" }, name, category, add, problem),
  );
}
