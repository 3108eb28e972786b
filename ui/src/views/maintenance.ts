// The maintenance plan, inside the planner's view: what is overdue or due within a week, what is
// planned, every machine's interval (its own or its type's), and the types' default intervals.
// Recording maintenance done and planning a machine work offline too (they wait in the outbox).

import type { DueState, MaintenancePlan, MaintenanceRecord, PlannedMaintenance, WriteOutcome } from "../bindings";
import { api } from "../api/client";
import { describeError } from "../api/messages";
import { formatLocalDateTime } from "../domain/format";
import { parseInterval } from "../domain/maintenance";
import { localInputToUtc, utcToLocalInput } from "../domain/rules";
import { el } from "./dom";
import { tbodyWithMore } from "./long-table";

const STATE_LABEL: Record<DueState, string> = {
  overdue: "Overdue",
  due_soon: "Due soon",
  scheduled: "Scheduled",
  unscheduled: "No interval",
};

export interface MaintenanceActions {
  /** Tells the user how a write went (applied, or saved on this PC and pending sync). */
  report: (outcome: WriteOutcome, done: string) => void;
  /** Says something that went well. */
  say: (message: string) => void;
  /** Shows an error the user must read. */
  fail: (message: string) => void;
}

function intervalText(m: PlannedMaintenance): string {
  if (m.machine_interval_days !== null && m.machine_interval_days !== undefined) return `${m.machine_interval_days} d (own)`;
  if (m.type_interval_days !== null && m.type_interval_days !== undefined) return `${m.type_interval_days} d (type)`;
  return "—";
}

function dueText(m: PlannedMaintenance, now: Date): string {
  if (!m.next_due) return m.last_maintenance ? "no interval" : "no last maintenance";
  const days = Math.round((new Date(m.next_due).getTime() - now.getTime()) / 86_400_000);
  const when = formatLocalDateTime(m.next_due);
  if (days < 0) return `${when} (${-days} d ago)`;
  if (days === 0) return `${when} (today)`;
  return `${when} (in ${days} d)`;
}

export class MaintenanceSection {
  constructor(
    private readonly dialog: HTMLDialogElement,
    private readonly actions: MaintenanceActions,
    private readonly reload: () => void,
  ) {}

  /** The section for `plan` (or the reason it could not be read). */
  render(plan: MaintenancePlan | null, error: string | null): HTMLElement {
    const section = el("section", { class: "planner-block", id: "maintenance", "aria-labelledby": "maintenance-title" }, el("h2", { id: "maintenance-title" }, "Maintenance plan"));
    if (!plan) {
      section.append(el("p", { class: "form-message" }, `The maintenance plan is unavailable. ${error ?? ""}`));
      return section;
    }
    const now = new Date(plan.as_of);
    const count = (state: DueState): number => plan.machines.filter((m) => m.state === state).length;
    const planned = plan.machines.filter((m) => m.planned_for);
    section.append(
      el(
        "p",
        { id: "maintenance-summary" },
        `${count("overdue")} overdue · ${count("due_soon")} due within ${plan.due_soon_days} days · ${planned.length} planned · ${count("unscheduled")} without an interval.`,
      ),
    );
    if (plan.cached_at) {
      section.append(el("p", { class: "cached-note" }, `Offline: the plan as of ${formatLocalDateTime(plan.cached_at)}, with this PC's waiting changes.`));
    }
    section.append(
      el("p", { class: "hint" }, "Next due = last maintenance + the machine's interval, or its type's. Recording maintenance done moves the last maintenance on (never back) and clears a planned day it fulfils."),
    );
    const due = plan.machines.filter((m) => m.state === "overdue" || m.state === "due_soon");
    section.append(this.table(`Overdue and due within ${plan.due_soon_days} days (${due.length})`, due, now, "maintenance-due"));
    section.append(this.table(`Planned (${planned.length})`, [...planned].sort((a, b) => (a.planned_for ?? "").localeCompare(b.planned_for ?? "")), now, "maintenance-planned"));
    // Built when first opened: the whole fleet is not needed for the first paint.
    const all = el("details", { id: "maintenance-all" }, el("summary", {}, `Every machine (${plan.machines.length})`));
    all.addEventListener(
      "toggle",
      () => {
        if (all.open && !all.querySelector("table")) all.append(this.table("Every machine, most urgent first", plan.machines, now, "maintenance-every"));
      },
    );
    section.append(all, this.typeIntervals(plan));
    return section;
  }

  private table(caption: string, machines: PlannedMaintenance[], now: Date, id: string): HTMLElement {
    const row = (index: number): HTMLTableRowElement => {
      const m = machines[index];
      if (!m) return el("tr", {});
      const record = el("button", { type: "button", class: "ghost small record-only", "data-role": "record-done" }, "Record done…");
      record.addEventListener("click", () => this.openRecord(m));
      const planIt = el("button", { type: "button", class: "ghost small plan-only", "data-role": "plan" }, "Plan…");
      planIt.addEventListener("click", () => this.openPlan(m));
      const log = el("button", { type: "button", class: "ghost small", "data-role": "log" }, "Log");
      log.addEventListener("click", () => void this.openLog(m));
      return el(
        "tr",
        { "data-uid": m.uid, class: `due-${m.state}` },
        el("td", {}, m.machine_name),
        el("td", {}, m.machine_type),
        el("td", {}, STATE_LABEL[m.state]),
        el("td", {}, m.last_maintenance ? formatLocalDateTime(m.last_maintenance) : "—"),
        el("td", {}, intervalText(m)),
        el("td", {}, dueText(m, now)),
        el("td", {}, m.planned_for ?? "—"),
        el("td", { class: "row-actions" }, record, planIt, log),
      );
    };
    const body =
      machines.length === 0 ? el("tbody", {}, el("tr", {}, el("td", { colspan: "8", class: "hint" }, "None."))) : tbodyWithMore(machines.length, 8, row);
    return el(
      "table",
      { class: "planner-table", id },
      el("caption", {}, caption),
      el(
        "thead",
        {},
        el("tr", {}, ...["Machine", "Type", "State", "Last maintenance", "Interval", "Next due", "Planned for", ""].map((h) => el("th", { scope: "col" }, h))),
      ),
      body,
    );
  }

  private typeIntervals(plan: MaintenancePlan): HTMLElement {
    const types = new Map<string, number | null>();
    for (const m of plan.machines) types.set(m.machine_type, null);
    for (const t of plan.type_intervals) types.set(t.machine_type, t.interval_days);
    const rows = [...types.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([type, days]) => {
        const input = el("input", { type: "number", min: "1", max: "3650", step: "1", class: "interval-input", "aria-label": `Default interval for ${type} (days)` });
        input.value = days === null ? "" : String(days);
        const save = el("button", { type: "button", class: "ghost small plan-only", "data-role": "save-type-interval" }, "Save");
        const problem = el("span", { class: "field-error", role: "alert" });
        save.addEventListener("click", () => void this.saveTypeInterval(type, input.value, problem));
        input.addEventListener("keydown", (event) => {
          if (event.key === "Enter") void this.saveTypeInterval(type, input.value, problem);
        });
        return el("tr", { "data-type": type }, el("td", {}, type), el("td", {}, input, problem), el("td", {}, save));
      });
    return el(
      "table",
      { class: "planner-table", id: "maintenance-types" },
      el("caption", {}, "Default interval per type (days; blank: none). Needs the database."),
      el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Type"), el("th", { scope: "col" }, "Interval"), el("th", { scope: "col" }, ""))),
      el("tbody", {}, ...rows),
    );
  }

  private async saveTypeInterval(type: string, raw: string, problem: HTMLElement): Promise<void> {
    const days = parseInterval(raw);
    if (typeof days === "string") {
      problem.textContent = days;
      return;
    }
    problem.textContent = "";
    const answer = await api.setTypeInterval(type, days);
    if (!answer.ok) {
      this.actions.fail(`The interval for ${type} was not saved. ${describeError(answer.error)}`);
      return;
    }
    this.actions.say(days === null ? `${type}: no default interval.` : `${type}: maintenance every ${days} days by default.`);
    this.reload();
  }

  private dialogFrame(title: string, body: HTMLElement[], submit: string, onSubmit: () => Promise<boolean>): void {
    // The app's own checks say why at the field; the browser's would only block the submit.
    const form = el("form", { method: "dialog", class: "maintenance-form", novalidate: "" });
    const message = el("p", { class: "form-message", role: "alert", hidden: "" });
    const save = el("button", { type: "submit", "data-role": "save" }, submit);
    const cancel = el("button", { type: "button", class: "ghost", "data-role": "cancel" }, "Cancel");
    form.append(el("h2", { id: "maintenance-dialog-title" }, title), ...body, message, el("div", { class: "dialog-actions" }, cancel, save));
    let saving = false;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (saving) return;
      saving = true;
      save.disabled = true;
      void onSubmit().then((done) => {
        saving = false;
        save.disabled = false;
        if (done) this.dialog.close();
      });
    });
    cancel.addEventListener("click", () => this.dialog.close());
    this.dialog.setAttribute("aria-labelledby", "maintenance-dialog-title");
    this.dialog.replaceChildren(form);
    this.dialog.showModal();
    form.querySelector<HTMLElement>("input, textarea")?.focus();
  }

  private openRecord(m: PlannedMaintenance): void {
    const when = el("input", { id: "record-done-at", type: "datetime-local", required: "" });
    when.value = utcToLocalInput(new Date().toISOString());
    const note = el("textarea", { id: "record-note", rows: "3", maxlength: "2000" });
    const whenError = el("span", { class: "field-error", id: "record-done-at-error" });
    this.dialogFrame(
      `Record maintenance done: ${m.machine_name}`,
      [
        el("label", { for: "record-done-at" }, "Done at (local time)"),
        when,
        whenError,
        el("label", { for: "record-note" }, "What was done (optional)"),
        note,
      ],
      "Record",
      async () => {
        const doneAt = localInputToUtc(when.value);
        if (!doneAt) {
          whenError.textContent = "A date and time";
          return false;
        }
        if (Date.parse(doneAt) > Date.now() + 5 * 60_000) {
          whenError.textContent = "Maintenance that has not happened yet cannot be recorded";
          return false;
        }
        whenError.textContent = "";
        const answer = await api.recordMaintenance(m.uid, doneAt, note.value);
        if (!answer.ok) {
          this.showDialogError(describeError(answer.error));
          return false;
        }
        this.actions.report(answer.value, `Maintenance of ${m.machine_name} recorded.`);
        this.reload();
        return true;
      },
    );
  }

  private openPlan(m: PlannedMaintenance): void {
    const interval = el("input", { id: "plan-interval", type: "number", min: "1", max: "3650", step: "1" });
    interval.value = m.machine_interval_days === null || m.machine_interval_days === undefined ? "" : String(m.machine_interval_days);
    const intervalError = el("span", { class: "field-error", id: "plan-interval-error" });
    const day = el("input", { id: "plan-day", type: "date" });
    day.value = m.planned_for ?? "";
    const typeNote = m.type_interval_days ? `blank: the type's ${m.type_interval_days} days` : "blank: none (the type has no interval)";
    this.dialogFrame(
      `Plan maintenance: ${m.machine_name}`,
      [
        el("label", { for: "plan-interval" }, `Interval in days (${typeNote})`),
        interval,
        intervalError,
        el("label", { for: "plan-day" }, "Planned for (blank: not planned)"),
        day,
      ],
      "Save plan",
      async () => {
        const days = parseInterval(interval.value);
        if (typeof days === "string") {
          intervalError.textContent = days;
          return false;
        }
        intervalError.textContent = "";
        // Only what the planner changed is sent: another planner's change of the other field
        // since this view was read stays.
        const planned = day.value === "" ? null : day.value;
        const newInterval = days === (m.machine_interval_days ?? null) ? undefined : days;
        const newDay = planned === (m.planned_for ?? null) ? undefined : planned;
        if (newInterval === undefined && newDay === undefined) {
          this.actions.say(`Nothing changed in the plan for ${m.machine_name}.`);
          return true;
        }
        const answer = await api.planMaintenance(m.uid, newInterval, newDay);
        if (!answer.ok) {
          this.showDialogError(describeError(answer.error));
          return false;
        }
        this.actions.report(answer.value, `Plan for ${m.machine_name} saved.`);
        this.reload();
        return true;
      },
    );
  }

  private showDialogError(text: string): void {
    const message = this.dialog.querySelector<HTMLElement>(".form-message");
    if (message) {
      message.textContent = text;
      message.hidden = false;
    }
  }

  private async openLog(m: PlannedMaintenance): Promise<void> {
    const answer = await api.maintenanceLog(m.uid);
    const close = el("button", { type: "button", class: "ghost", "data-role": "close" }, "Close");
    const content: HTMLElement = answer.ok
      ? logTable(answer.value)
      : el("p", { class: "form-message" }, `The log could not be read. ${describeError(answer.error)}`);
    this.dialog.setAttribute("aria-labelledby", "maintenance-dialog-title");
    this.dialog.replaceChildren(el("h2", { id: "maintenance-dialog-title" }, `Maintenance log: ${m.machine_name}`), content, el("div", { class: "dialog-actions" }, close));
    close.addEventListener("click", () => this.dialog.close());
    this.dialog.showModal();
    close.focus();
  }
}

function logTable(records: MaintenanceRecord[]): HTMLElement {
  if (records.length === 0) return el("p", { class: "hint", id: "maintenance-log" }, "No maintenance recorded yet.");
  return el(
    "table",
    { class: "planner-table", id: "maintenance-log" },
    el("thead", {}, el("tr", {}, ...["Done at", "By", "Note", "Recorded"].map((h) => el("th", { scope: "col" }, h)))),
    el(
      "tbody",
      {},
      ...records.map((r) =>
        el("tr", {}, el("td", {}, formatLocalDateTime(r.done_at)), el("td", {}, r.done_by), el("td", {}, r.note || "—"), el("td", {}, formatLocalDateTime(r.recorded_at))),
      ),
    ),
  );
}
