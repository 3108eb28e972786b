// The maintenance planner's view: the fleet's efficiency as a median and a distribution (never a
// plain average of percentages), the machines below target, and reliability over a range (time
// per status, Down periods, MTTR, MTBF) per type and per machine, from the status history that
// every change by anyone feeds. Tables are the text of the figures; the bars only draw them.

import { saveTarget, TARGET_KEY } from "./alerts";
import type { FleetEfficiency, MachineTimeline, ReliabilityReport, StatusTimes, TimeRange } from "../bindings";
import { api } from "../api/client";
import { describeError } from "../api/messages";
import { formatDuration, formatEfficiency, formatLocalDateTime } from "../domain/format";
import { customRange, lastDays, type Range } from "../domain/ranges";
import { statusClass } from "./status-badge";
import { el } from "./dom";
import { MaintenanceSection, type MaintenanceActions } from "./maintenance";
import { efficiencyHistogram, efficiencyOverTime } from "./charts";
import { exportButtons } from "./transfer";
import { tbodyWithMore } from "./long-table";
import { renderCycleTimes, renderOee, renderPareto, renderReasons, renderTrend, type Focus } from "./oee";

const RANGES: [string, number][] = [
  ["7 days", 7],
  ["30 days", 30],
  ["90 days", 90],
];

function storedTarget(): number {
  const value = Number(window.localStorage.getItem(TARGET_KEY) ?? "85");
  return Number.isFinite(value) && value >= 0 && value <= 100 ? value : 85;
}

const seconds = (value: number | null | undefined): number => value ?? 0;

function availability(times: StatusTimes): string {
  const observed = seconds(times.running_s) + seconds(times.idle_s) + seconds(times.maintenance_s) + seconds(times.down_s);
  return observed > 0 ? `${((100 * seconds(times.running_s)) / observed).toFixed(1)} %` : "—";
}

function table(caption: string, head: string[], rows: (string | HTMLElement)[][], id: string): HTMLElement {
  // (cells are text or a control)
  return el(
    "table",
    { class: "planner-table", id },
    el("caption", {}, caption),
    el("thead", {}, el("tr", {}, ...head.map((h) => el("th", { scope: "col" }, h)))),
    tbodyWithMore(rows.length, head.length, (i) => el("tr", {}, ...(rows[i] ?? []).map((c) => el("td", {}, c)))),
  );
}

function renderEfficiency(fleet: FleetEfficiency): HTMLElement {
  const bands = fleet.histogram.map((count, i) => [`${i * 10}–${i === 9 ? 100 : i * 10 + 10} %`, String(count)]);
  return el(
    "section",
    { class: "planner-block", "aria-labelledby": "fleet-title" },
    el("h2", { id: "fleet-title" }, "Fleet efficiency"),
    el(
      "p",
      { id: "fleet-median" },
      fleet.median === null || fleet.median === undefined
        ? "No machine has an efficiency on record."
        : `Median ${formatEfficiency(fleet.median ?? null)} across ${fleet.machines} machines. ` +
            "A median, not an average: one machine's number never outweighs the rest, and percentages of machines planned for different hours do not add up.",
    ),
    el(
      "div",
      { class: "planner-tables" },
      efficiencyHistogram(fleet.histogram),
      table("Machines per efficiency band", ["Band", "Machines"], bands, "efficiency-histogram"),
      table(
      `Below the target of ${formatEfficiency(fleet.target ?? null)} (${fleet.below_target.length}), lowest first`,
      ["Machine", "Type", "Efficiency"],
      fleet.below_target.map((m) => [m.machine_name, m.machine_type, formatEfficiency(m.efficiency ?? null)]),
      "below-target",
      ),
      table(
        "Median by type",
        ["Type", "Machines", "Median"],
        fleet.by_type.map((t) => [t.machine_type, String(t.machines), formatEfficiency(t.median ?? null)]),
        "efficiency-by-type",
      ),
    ),
  );
}

function reliabilityRow(name: string, kind: string, times: StatusTimes, mttr: number | null | undefined, mtbf: number | null | undefined): string[] {
  return [
    name,
    kind,
    availability(times),
    formatDuration(times.running_s),
    formatDuration(times.idle_s),
    formatDuration(times.maintenance_s),
    formatDuration(times.down_s),
    String(times.down_periods),
    formatDuration(mttr),
    formatDuration(mtbf),
  ];
}

/** A machine's status bands over the range as a bar (each band as wide as its share of the
 * range), with the bands and efficiency changes as tables: the text of the same figures. */
export function showTimeline(dialog: HTMLDialogElement, name: string, timeline: MachineTimeline, target: number): void {
  const start = new Date(timeline.range.from).getTime();
  const span = Math.max(1, new Date(timeline.range.to).getTime() - start);
  const bar = el("div", { class: "timeline-bar", role: "img", "aria-label": `Status of ${name} over the range` });
  for (const band of timeline.bands) {
    const from = new Date(band.from).getTime();
    const to = new Date(band.to).getTime();
    const segment = el("span", { class: `timeline-band ${statusClass(band.status as never)}`, title: `${band.status}: ${formatLocalDateTime(band.from)} – ${formatLocalDateTime(band.to)}` });
    // Through the style object: the CSP refuses inline style attributes.
    segment.style.left = `${(100 * (from - start)) / span}%`;
    segment.style.width = `${Math.max(0.2, (100 * (to - from)) / span)}%`;
    bar.append(segment);
  }
  const close = el("button", { type: "button", class: "ghost", "data-role": "close" }, "Close");
  dialog.setAttribute("aria-labelledby", "timeline-title");
  dialog.replaceChildren(
    el("h2", { id: "timeline-title" }, `${name}: status and efficiency`),
    el("p", { class: "hint" }, `${formatLocalDateTime(timeline.range.from)} – ${formatLocalDateTime(timeline.range.to)}`),
    bar,
    efficiencyOverTime(timeline.efficiency, timeline.range, target),
    table(
      "Status",
      ["Status", "From", "To", "Lasted"],
      timeline.bands.map((b) => [
        b.status,
        formatLocalDateTime(b.from),
        b.open ? "now" : formatLocalDateTime(b.to),
        formatDuration((new Date(b.to).getTime() - new Date(b.from).getTime()) / 1000),
      ]),
      "timeline-bands",
    ),
    table(
      "Efficiency",
      ["Since", "Efficiency"],
      timeline.efficiency.map((p) => [formatLocalDateTime(p.at), formatEfficiency(p.efficiency ?? null)]),
      "timeline-efficiency",
    ),
    el("div", { class: "dialog-actions" }, close),
  );
  close.addEventListener("click", () => dialog.close());
  dialog.showModal();
  close.focus();
}

function renderReliability(report: ReliabilityReport, onTimeline: (uid: string, name: string) => void, exports: HTMLElement): HTMLElement {
  const head = ["", "", "Running share", "Running", "Idle", "Maintenance", "Down", "Down periods", "MTTR", "MTBF"];
  const byDown = [...report.machines].sort(
    (a, b) => seconds(b.times.down_s) - seconds(a.times.down_s) || a.machine_name.localeCompare(b.machine_name),
  );
  return el(
    "section",
    { class: "planner-block", "aria-labelledby": "reliability-title" },
    el("h2", { id: "reliability-title" }, "Reliability"),
    exports,
    el(
      "p",
      { class: "hint" },
      "From every status change by anyone. Periods crossing the range's edges count for their part inside it; a machine Down now counts up to now. MTTR = Down time ÷ Down periods; MTBF = Running time ÷ failures (Down periods that began in the range).",
    ),
    table(
      "By type",
      ["Type", "Machines", ...head.slice(2)],
      report.types.map((t) => reliabilityRow(t.machine_type, String(t.machines), t.times, t.mttr_s, t.mtbf_s)),
      "reliability-by-type",
    ),
    table(
      "By machine, most Down time first",
      ["Machine", "Type", ...head.slice(2), ""],
      byDown.map((m) => {
        const name = m.deleted ? `${m.machine_name} (deleted)` : m.machine_name;
        const open = el("button", { type: "button", class: "ghost small", "data-role": "timeline" }, "Timeline");
        open.addEventListener("click", () => onTimeline(m.uid, name));
        return [...reliabilityRow(name, m.machine_type, m.times, m.mttr_s, m.mtbf_s), open];
      }),
      "reliability-by-machine",
    ),
  );
}

export class PlannerView {
  private days = 30;
  /** Whole days chosen by the planner; `null`: the last `days` days. */
  private custom: Range | null = null;
  private target = storedTarget();
  private readonly maintenance: MaintenanceSection;
  private body: HTMLElement | null = null;

  constructor(
    private readonly root: HTMLElement,
    private readonly dialog: HTMLDialogElement,
    private readonly actions: MaintenanceActions,
  ) {
    this.maintenance = new MaintenanceSection(dialog, actions, () => {
      if (this.body) void this.load(this.body);
    });
  }

  private range(): TimeRange {
    return this.custom ?? lastDays(this.days, new Date());
  }

  private async timeline(uid: string, name: string): Promise<void> {
    const answer = await api.machineTimeline(uid, this.range());
    if (answer.ok) showTimeline(this.dialog, name, answer.value, this.target);
    else {
      this.dialog.replaceChildren(el("p", { class: "form-message" }, `The timeline could not be read. ${describeError(answer.error)}`));
      this.dialog.showModal();
    }
  }

  async show(): Promise<void> {
    const range = el("select", { id: "planner-range", "aria-label": "Range" });
    for (const [label, days] of RANGES) {
      const option = el("option", { value: String(days) }, label);
      if (days === this.days && !this.custom) option.selected = true;
      range.append(option);
    }
    const customOption = el("option", { value: "custom" }, "Custom…");
    if (this.custom) customOption.selected = true;
    range.append(customOption);
    const first = el("input", { id: "planner-first", type: "date", "aria-label": "First day" });
    const last = el("input", { id: "planner-last", type: "date", "aria-label": "Last day" });
    const apply = el("button", { type: "button", id: "planner-apply" }, "Apply");
    const problem = el("span", { id: "planner-range-problem", class: "field-error", role: "alert" });
    const customControls = el("span", { class: "planner-custom" }, first, " to ", last, apply, problem);
    customControls.hidden = !this.custom;
    const target = el("input", { id: "planner-target", type: "number", min: "0", max: "100", step: "0.1", "aria-label": "Efficiency target (%)" });
    target.value = String(this.target);
    const body = el("div", { id: "planner-body", "aria-live": "polite" }, el("p", { class: "hint" }, "Loading…"));
    this.body = body;
    range.addEventListener("change", () => {
      if (range.value === "custom") {
        customControls.hidden = false;
        first.focus();
        return;
      }
      customControls.hidden = true;
      this.custom = null;
      this.days = Number(range.value);
      void this.load(body);
    });
    apply.addEventListener("click", () => {
      const chosen = customRange(first.value, last.value);
      if (typeof chosen === "string") {
        problem.textContent = chosen;
        return;
      }
      problem.textContent = "";
      this.custom = chosen;
      void this.load(body);
    });
    target.addEventListener("change", () => {
      const value = Number(target.value);
      if (!Number.isFinite(value) || value < 0 || value > 100) {
        target.setCustomValidity("A percentage from 0 to 100");
        target.reportValidity();
        return;
      }
      target.setCustomValidity("");
      this.target = value;
      window.localStorage.setItem(TARGET_KEY, String(value));
      void saveTarget(value);
      void this.load(body);
    });
    this.root.replaceChildren(
      el(
        "div",
        { class: "planner-controls" },
        el("label", { for: "planner-range" }, "Range "),
        range,
        customControls,
        el("label", { for: "planner-target" }, " Efficiency target (%) "),
        target,
      ),
      body,
    );
    this.root.hidden = false;
    range.focus();
    await this.load(body);
  }

  private async load(body: HTMLElement): Promise<void> {
    const range = this.range();
    const [plan, fleet, reliability, oeeFleet, oeeTypes, oeeMachines, types, lists] = await Promise.all([
      api.maintenancePlan(),
      api.fleetEfficiency(this.target),
      api.reliability(range),
      api.oeeReport(range, "fleet"),
      api.oeeReport(range, "machine_type"),
      api.oeeReport(range, "machine"),
      api.machineTypes(),
      api.shiftFormLists(),
    ]);
    const parts: HTMLElement[] = [];
    const focus = async (chosen: Focus): Promise<HTMLElement[]> => {
      const grouping = chosen?.grouping ?? "fleet";
      const key = chosen?.key ?? null;
      const what = chosen?.label ?? "the whole fleet";
      const [trend, pareto] = await Promise.all([api.oeeTrend(range, grouping, key), api.downtimePareto(range, grouping, key)]);
      return [
        trend.ok ? renderTrend(trend.value, this.target, what, range) : el("p", { class: "form-message" }, `The OEE trend is unavailable. ${describeError(trend.error)}`),
        pareto.ok ? renderPareto(pareto.value, what) : el("p", { class: "form-message" }, `The downtime Pareto is unavailable. ${describeError(pareto.error)}`),
      ];
    };
    const oeeExports = (chosen: Focus): HTMLElement =>
      exportButtons(
        `The OEE tables (${chosen?.label ?? "fleet"})`,
        () => ({
          kind: "oee",
          range,
          machine_type: chosen?.grouping === "machine_type" ? chosen.key : null,
          machine: chosen?.grouping === "machine" ? chosen.key : null,
        }),
        { info: this.actions.say, error: this.actions.fail },
      );
    if (oeeFleet.ok && oeeTypes.ok && oeeMachines.ok) {
      const section = renderOee(oeeFleet.value, oeeTypes.value, oeeMachines.value, focus, oeeExports);
      const saveCycle = async (machineType: string, seconds: number | null): Promise<string | null> => {
        const answer = await api.setIdealCycleTime(machineType, seconds);
        if (!answer.ok) return describeError(answer.error);
        this.actions.say(seconds === null ? `${machineType}: no ideal cycle time.` : `${machineType}: ${seconds} s per part by default.`);
        return null;
      };
      if (types.ok && lists.ok) section.append(renderCycleTimes(types.value, lists.value.ideal_cycle_times, saveCycle));
      if (lists.ok) {
        section.append(
          renderReasons(lists.value.reasons, {
            add: async (name, category) => {
              const answer = await api.addLossReason({ name, category });
              if (!answer.ok) return answer.error.kind === "Validation" ? answer.error.data.fields.map((f) => f.message).join(" ") : describeError(answer.error);
              this.actions.say(`Reason “${answer.value.name}” added.`);
              void this.load(body);
              return null;
            },
            retire: async (reason) => {
              const answer = await api.retireLossReason(reason.id);
              if (!answer.ok) return describeError(answer.error);
              this.actions.say(`Reason “${reason.name}” retired: no longer offered, kept for its records.`);
              void this.load(body);
              return null;
            },
          }),
        );
      }
      parts.push(section);
    }
    else {
      const failed = [oeeFleet, oeeTypes, oeeMachines].find((answer) => !answer.ok);
      parts.push(el("p", { class: "form-message", id: "oee-unavailable" }, `OEE unavailable. ${failed && !failed.ok ? describeError(failed.error) : ""}`));
    }
    parts.push(fleet.ok ? renderEfficiency(fleet.value) : el("p", { class: "form-message" }, `Fleet efficiency unavailable. ${describeError(fleet.error)}`));
    parts.push(plan.ok ? this.maintenance.render(plan.value, null) : this.maintenance.render(null, describeError(plan.error)));
    const exports = exportButtons("The reliability table", () => ({ kind: "reliability", range }), { info: this.actions.say, error: this.actions.fail });
    parts.push(reliability.ok ? renderReliability(reliability.value, (uid, name) => void this.timeline(uid, name), exports) : el("p", { class: "form-message" }, `Reliability unavailable. ${describeError(reliability.error)}`));
    body.replaceChildren(...parts);
  }
}
