// The shift production form in a modal dialog: when the shift ran, its planned stops, its
// downtime with a reason each, the ideal cycle time and the counts. A, P, Q and OEE are worked
// out as the operator types (by the same Rust code that checks the entry, on this PC: offline
// too), each explained on hover. Enter saves, Esc cancels (asking first when something was
// typed). The rules the entry breaks show at their fields once the operator has been there.

import type { CommandError, FieldError, LossReason, Machine, RecordShift, ShiftPreview, StopInput, WriteOutcome } from "../bindings";
import type { Outcome } from "../api/client";
import { describeError } from "../api/messages";
import { CATEGORY_LABEL, DOWNTIME_CATEGORIES, explain, formatPercent } from "../domain/oee";
import { localInputToUtc, utcToLocalInput } from "../domain/rules";
import { el } from "./dom";
import { waterfallFigure } from "./waterfall";

export interface ShiftFormRequest {
  machine: Machine;
  /** The reasons to offer (retired ones are not); `cachedAt` when it is the offline copy. */
  reasons: LossReason[];
  reasonsCachedAt: string | null;
  /** The machine type's ideal cycle time (the field's default), if a planner set one. */
  typeCycleTime: number | null;
  preview(write: RecordShift): Promise<ShiftPreview>;
  save(write: RecordShift): Promise<Outcome<WriteOutcome>>;
  onSaved(outcome: WriteOutcome): void;
  confirm(title: string, message: string, yes: string): Promise<boolean>;
  /** A refused entry to correct: its values fill the form, its record id is kept. */
  initial?: RecordShift;
  /** Shown above the fields (why a queued entry was refused). */
  notice?: string;
}

const TOP_FIELDS = ["start", "end", "ideal_cycle_s", "total_count", "startup_rejects", "production_rejects", "performance_reason"] as const;
type TopField = (typeof TOP_FIELDS)[number];

interface StopRow {
  row: HTMLElement;
  minutes: HTMLInputElement;
  /** Wall-clock times (HH:MM) on the shift's days, instead of the minutes. */
  from: HTMLInputElement;
  to: HTMLInputElement;
  reason: HTMLSelectElement | null;
  error: HTMLElement;
}

/** A whole number from a count field; NaN when it is not one (the server's check names it). */
function countOf(raw: string): number {
  const text = raw.trim();
  return /^-?\d+$/.test(text) ? Number(text) : Number.NaN;
}

function numberOf(raw: string): number {
  const text = raw.trim().replace(",", ".");
  return text === "" ? Number.NaN : Number(text);
}

export function openShiftForm(dialog: HTMLDialogElement, request: ShiftFormRequest): void {
  const { machine } = request;
  const writeId = crypto.randomUUID();
  const recordId = request.initial?.uid ?? crypto.randomUUID();
  // The last full hour as the end, eight hours before as the start: a shift just over.
  const end = new Date();
  end.setMinutes(0, 0, 0);
  const start = new Date(end.getTime() - 8 * 3600_000);

  const input = (id: string, type: string, value: string, extra: Record<string, string> = {}): HTMLInputElement => {
    const node = el("input", { id, name: id, type, autocomplete: "off", ...extra });
    node.value = value;
    return node;
  };
  const controls: Record<TopField, HTMLInputElement> = {
    start: input("s-start", "datetime-local", utcToLocalInput(start.toISOString())),
    end: input("s-end", "datetime-local", utcToLocalInput(end.toISOString())),
    ideal_cycle_s: input("s-cycle", "text", request.typeCycleTime === null ? "" : String(request.typeCycleTime), {
      inputmode: "decimal",
      placeholder: "seconds per part",
      title: request.typeCycleTime === null ? "No default for this type yet (a planner sets one in the planner's view)" : `The default of ${machine.machine_type}; change it for this shift if it ran another part`,
    }),
    total_count: input("s-total", "text", "", { inputmode: "numeric" }),
    startup_rejects: input("s-startup", "text", "0", { inputmode: "numeric" }),
    production_rejects: input("s-production", "text", "0", { inputmode: "numeric" }),
    performance_reason: input("s-performance-reason", "text", "", { placeholder: "only if performance is above 100 %" }),
  };
  const labels: Record<TopField, string> = {
    start: "Shift start",
    end: "Shift end",
    ideal_cycle_s: "Ideal cycle time (s)",
    total_count: "Parts made (total)",
    startup_rejects: "Start-up rejects",
    production_rejects: "Production rejects",
    performance_reason: "Why performance is above 100 %",
  };
  const errors = {} as Record<TopField, HTMLElement>;
  const touched = new Set<string>();
  const field = (key: TopField): HTMLElement => {
    errors[key] = el("span", { class: "field-error", id: `${controls[key].id}-error`, "aria-live": "polite" });
    controls[key].setAttribute("aria-describedby", errors[key].id);
    controls[key].addEventListener("blur", () => {
      touched.add(key);
      void refresh();
    });
    return el("label", { class: "field", for: controls[key].id }, el("span", {}, labels[key]), controls[key], errors[key]);
  };

  const plannedRows: StopRow[] = [];
  const downtimeRows: StopRow[] = [];
  const plannedList = el("div", { class: "stop-list", id: "s-planned" });
  const downtimeList = el("div", { class: "stop-list", id: "s-downtime" });
  const plannedError = el("span", { class: "field-error", id: "s-planned-error", "aria-live": "polite" });
  const downtimeError = el("span", { class: "field-error", id: "s-downtime-error", "aria-live": "polite" });
  const offered = request.reasons.filter((r) => !r.retired && DOWNTIME_CATEGORIES.includes(r.category));

  const addStop = (planned: boolean): StopRow => {
    const rows = planned ? plannedRows : downtimeRows;
    const index = rows.length;
    const prefix = planned ? "s-planned" : "s-downtime";
    const minutes = el("input", { type: "text", inputmode: "decimal", class: "stop-minutes", "aria-label": `${planned ? "Planned stop" : "Downtime"} ${index + 1}, minutes`, "data-role": "minutes" });
    let reason: HTMLSelectElement | null = null;
    if (!planned) {
      reason = el("select", { class: "stop-reason", "aria-label": `Downtime ${index + 1}, reason`, "data-role": "reason" }, el("option", { value: "" }, "Choose a reason…"));
      for (const category of DOWNTIME_CATEGORIES) {
        const group = el("optgroup", { label: CATEGORY_LABEL[category] });
        for (const r of offered.filter((o) => o.category === category)) group.append(el("option", { value: r.id }, r.name));
        if (group.children.length > 0) reason.append(group);
      }
      reason.addEventListener("change", () => {
        touched.add(`${prefix}-${index}`);
        void refresh();
      });
    }
    const what = `${planned ? "Planned stop" : "Downtime"} ${index + 1}`;
    const from = el("input", { type: "time", class: "stop-time", "aria-label": `${what}, from (time of day)`, "data-role": "from" });
    const to = el("input", { type: "time", class: "stop-time", "aria-label": `${what}, to (time of day)`, "data-role": "to" });
    const error = el("span", { class: "field-error", "aria-live": "polite" });
    const remove = el("button", { type: "button", class: "ghost small", "aria-label": `Remove ${planned ? "planned stop" : "downtime"} ${index + 1}` }, "Remove");
    const row = el(
      "div",
      { class: "stop-row", id: `${prefix}-${index}` },
      minutes,
      el("span", { class: "unit" }, "min, or from"),
      from,
      el("span", { class: "unit" }, "to"),
      to,
      reason,
      remove,
      error,
    );
    const entry: StopRow = { row, minutes, from, to, reason, error };
    for (const time of [from, to]) {
      time.addEventListener("input", () => void refresh());
      time.addEventListener("blur", () => {
        touched.add(`${prefix}-${index}`);
        void refresh();
      });
    }
    remove.addEventListener("click", () => {
      const at = rows.indexOf(entry);
      if (at >= 0) rows.splice(at, 1);
      row.remove();
      void refresh();
    });
    minutes.addEventListener("blur", () => {
      touched.add(`${prefix}-${index}`);
      void refresh();
    });
    minutes.addEventListener("input", () => void refresh());
    rows.push(entry);
    (planned ? plannedList : downtimeList).append(row);
    return entry;
  };
  const addPlanned = el("button", { type: "button", class: "ghost small", id: "s-add-planned" }, "+ Planned stop");
  addPlanned.addEventListener("click", () => addStop(true).minutes.focus());
  const addDowntime = el("button", { type: "button", class: "ghost small", id: "s-add-downtime" }, "+ Downtime");
  addDowntime.addEventListener("click", () => addStop(false).minutes.focus());

  const figureCell = (id: string, label: string): { cell: HTMLElement; value: HTMLElement } => {
    const value = el("strong", { id, "data-figure": label }, "—");
    const cell = el("div", { class: "figure", tabindex: "0" }, el("span", { class: "figure-label" }, label), value);
    return { cell, value };
  };
  const figures = {
    availability: figureCell("s-availability", "Availability"),
    performance: figureCell("s-performance", "Performance"),
    quality: figureCell("s-quality", "Quality"),
    oee: figureCell("s-oee", "OEE"),
  };
  const figureRow = el("div", { class: "figures", "aria-live": "polite" }, figures.availability.cell, figures.performance.cell, figures.quality.cell, figures.oee.cell);
  const waterfallSlot = el("div", { class: "shift-waterfall" });
  const waterfallBox = el("details", { class: "shift-waterfall-box", id: "s-waterfall-box" }, el("summary", {}, "Loss waterfall of this shift"), waterfallSlot);
  const formMessage = el("p", { class: "form-message", role: "alert" });
  formMessage.hidden = true;

  const save = el("button", { type: "submit", class: "primary", "data-role": "save" }, "Save (Enter)");
  const cancel = el("button", { type: "button", class: "ghost", "data-role": "cancel" }, "Cancel (Esc)");
  const form = el(
    "form",
    { class: "machine-form shift-form", novalidate: "" },
    el("h2", { id: "shift-dialog-title" }, `Shift record · ${machine.machine_name}`),
    request.notice ? el("p", { class: "form-message", id: "shift-notice" }, request.notice) : null,
    request.reasonsCachedAt ? el("p", { class: "cached-note" }, "Offline: the reasons as last seen. The record waits on this PC and is sent when the database is back.") : null,
    el("div", { class: "form-grid" }, field("start"), field("end"), field("ideal_cycle_s"), field("total_count"), field("startup_rejects"), field("production_rejects")),
    el("fieldset", { class: "stops" }, el("legend", {}, "Planned stops (breaks, planned maintenance)"), plannedList, addPlanned, plannedError),
    el("fieldset", { class: "stops" }, el("legend", {}, "Downtime (unplanned), with its reason"), downtimeList, addDowntime, downtimeError),
    field("performance_reason"),
    figureRow,
    waterfallBox,
    formMessage,
    el("div", { class: "form-actions" }, cancel, save),
  );

  /** A time of day on the shift's days: the first such instant at or after the shift's start
   * (a stop after midnight in a night shift falls on the next day; a daylight-saving change
   * is the wall clock's). */
  const onShiftDay = (hhmm: string): string | null => {
    const start = localInputToUtc(controls.start.value);
    const match = /^(\d{2}):(\d{2})$/.exec(hhmm);
    if (!start || !match) return null;
    const shiftStart = new Date(start);
    const at = new Date(shiftStart);
    at.setHours(Number(match[1]), Number(match[2]), 0, 0);
    if (at < shiftStart) at.setDate(at.getDate() + 1);
    return at.toISOString();
  };
  const stopOf = (row: StopRow): StopInput => {
    const reasonId = row.reason?.value ? row.reason.value : null;
    const reason = reasonId ? request.reasons.find((r) => r.id === reasonId) : undefined;
    const from = row.from.value ? onShiftDay(row.from.value) : null;
    let to = row.to.value ? onShiftDay(row.to.value) : null;
    // A stop across midnight: its end is the first such time after its start.
    if (from && to && to <= from) to = new Date(Date.parse(to) + 86_400_000).toISOString();
    const timed = from !== null && to !== null;
    return {
      start: timed ? from : null,
      end: timed ? to : null,
      minutes: timed ? null : numberOf(row.minutes.value),
      reason_id: reasonId,
      category: reason ? reason.category : null,
    };
  };
  const read = (): RecordShift => ({
    write_id: writeId,
    uid: recordId,
    shift: {
      machine_uid: machine.uid,
      start: localInputToUtc(controls.start.value) ?? controls.start.value,
      end: localInputToUtc(controls.end.value) ?? controls.end.value,
      planned_stops: plannedRows.map(stopOf),
      downtime: downtimeRows.map(stopOf),
      ideal_cycle_s: numberOf(controls.ideal_cycle_s.value),
      total_count: countOf(controls.total_count.value),
      startup_rejects: countOf(controls.startup_rejects.value),
      production_rejects: countOf(controls.production_rejects.value),
      performance_reason: controls.performance_reason.value.trim() === "" ? null : controls.performance_reason.value,
    },
  });
  // NaN does not travel as JSON: an empty or unreadable number goes as a value the server's
  // rule refuses with the field's own message.
  const sendable = (write: RecordShift): RecordShift => {
    const fix = (n: number | null, bad: number): number => (n !== null && Number.isFinite(n) ? n : bad);
    return {
      ...write,
      shift: {
        ...write.shift,
        ideal_cycle_s: fix(write.shift.ideal_cycle_s, 0),
        total_count: fix(write.shift.total_count, -1),
        startup_rejects: fix(write.shift.startup_rejects, -1),
        production_rejects: fix(write.shift.production_rejects, -1),
        planned_stops: write.shift.planned_stops.map((s) => (s.start ? s : { ...s, minutes: fix(s.minutes ?? Number.NaN, 0) })),
        downtime: write.shift.downtime.map((s) => (s.start ? s : { ...s, minutes: fix(s.minutes ?? Number.NaN, 0) })),
      },
    };
  };

  /** Shows each error at its field; answers the messages that belong to no field. */
  const showErrors = (fields: FieldError[], all: boolean): string[] => {
    const unplaced: string[] = [];
    for (const key of TOP_FIELDS) {
      errors[key].textContent = "";
      controls[key].setAttribute("aria-invalid", "false");
    }
    plannedError.textContent = "";
    downtimeError.textContent = "";
    for (const row of [...plannedRows, ...downtimeRows]) row.error.textContent = "";
    for (const f of fields) {
      const stop = /^(planned_stops|downtime)\[(\d+)\]/.exec(f.field);
      if (stop) {
        const planned = stop[1] === "planned_stops";
        const index = Number(stop[2]);
        const row = (planned ? plannedRows : downtimeRows)[index];
        if (row && (all || touched.has(`${planned ? "s-planned" : "s-downtime"}-${row.row.id.split("-").pop()}`))) row.error.textContent = f.message;
        else if (!row) unplaced.push(f.message);
        continue;
      }
      if (f.field === "planned_stops" || f.field === "downtime") {
        (f.field === "downtime" ? downtimeError : plannedError).textContent = f.message;
        continue;
      }
      if ((TOP_FIELDS as readonly string[]).includes(f.field)) {
        const key = f.field as TopField;
        // A performance above 100 % is said at the cycle time once the counts are in, and the
        // reason is asked for as soon as the figures call for it.
        const due = all || touched.has(key) || key === "performance_reason" || (key === "ideal_cycle_s" && touched.has("total_count"));
        if (due) {
          errors[key].textContent = f.message;
          controls[key].setAttribute("aria-invalid", "true");
        }
      } else {
        unplaced.push(f.message);
      }
    }
    return unplaced;
  };

  let latest = 0;
  const refresh = async (write: RecordShift = sendable(read())): Promise<ShiftPreview> => {
    const ticket = ++latest;
    const preview = await request.preview(write);
    if (ticket !== latest) return preview; // a newer keystroke's answer is on its way
    showErrors(preview.errors, false);
    if (preview.figures && preview.totals && preview.waterfall) {
      const words = explain(preview.totals, preview.figures, preview.waterfall);
      for (const key of ["availability", "performance", "quality", "oee"] as const) {
        figures[key].value.textContent = formatPercent(preview.figures[key]);
        figures[key].cell.title = words[key];
      }
      waterfallSlot.replaceChildren(waterfallFigure("shift-waterfall", "This shift", preview.waterfall, preview.figures));
    } else {
      for (const key of ["availability", "performance", "quality", "oee"] as const) {
        figures[key].value.textContent = "—";
        figures[key].cell.title = "Shown once the shift's times and counts are complete and valid.";
      }
      waterfallSlot.replaceChildren();
    }
    return preview;
  };
  for (const key of TOP_FIELDS) controls[key].addEventListener("input", () => void refresh());

  let saving = false;
  const typedSomething = (): boolean =>
    controls.total_count.value.trim() !== "" || controls.ideal_cycle_s.value.trim() !== "" || plannedRows.length + downtimeRows.length > 0;
  const close = (): void => {
    dialog.removeEventListener("cancel", onCancel);
    if (dialog.open) dialog.close();
  };
  const attemptClose = async (): Promise<void> => {
    if (saving) return;
    if (typedSomething() && !(await request.confirm("Discard this shift record?", "What you typed for this shift is not saved. Discard it?", "Discard"))) {
      controls.total_count.focus();
      return;
    }
    close();
  };
  const onCancel = (event: Event): void => {
    event.preventDefault();
    void attemptClose();
  };
  const showMessage = (text: string): void => {
    formMessage.textContent = text;
    formMessage.hidden = text === "";
  };
  const focusFirstError = (fields: FieldError[]): void => {
    const first = fields[0]?.field ?? "";
    if ((TOP_FIELDS as readonly string[]).includes(first)) controls[first as TopField].focus();
    else if (first.startsWith("downtime")) (downtimeRows[0]?.minutes ?? addDowntime).focus();
    else if (first.startsWith("planned_stops")) (plannedRows[0]?.minutes ?? addPlanned).focus();
  };
  const handleError = (error: CommandError): void => {
    if (error.kind === "Validation") {
      const unplaced = showErrors(error.data.fields, true);
      showMessage(["Please correct the highlighted fields.", ...unplaced].join(" "));
      focusFirstError(error.data.fields);
    } else {
      showMessage(describeError(error));
    }
  };
  const submit = async (): Promise<void> => {
    if (saving) return;
    saving = true;
    // What was checked is what is sent.
    const write = sendable(read());
    const preview = await refresh(write);
    if (preview.errors.length > 0) {
      saving = false;
      const unplaced = showErrors(preview.errors, true);
      showMessage(["Please correct the highlighted fields.", ...unplaced].join(" "));
      focusFirstError(preview.errors);
      return;
    }
    showMessage("");
    save.disabled = true;
    save.textContent = "Saving…";
    const outcome = await request.save(write);
    saving = false;
    save.disabled = false;
    save.textContent = "Save (Enter)";
    if (outcome.ok) {
      close();
      request.onSaved(outcome.value);
    } else {
      handleError(outcome.error);
    }
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void submit();
  });
  cancel.addEventListener("click", () => void attemptClose());
  dialog.addEventListener("cancel", onCancel);
  const initial = request.initial?.shift;
  if (initial) {
    controls.start.value = utcToLocalInput(initial.start);
    controls.end.value = utcToLocalInput(initial.end);
    controls.ideal_cycle_s.value = String(initial.ideal_cycle_s ?? "");
    controls.total_count.value = String(initial.total_count);
    controls.startup_rejects.value = String(initial.startup_rejects);
    controls.production_rejects.value = String(initial.production_rejects);
    controls.performance_reason.value = initial.performance_reason ?? "";
    const fill = (row: StopRow, stop: StopInput): void => {
      if (stop.start && stop.end) {
        row.from.value = utcToLocalInput(stop.start).slice(11, 16);
        row.to.value = utcToLocalInput(stop.end).slice(11, 16);
      } else if (stop.minutes !== null && stop.minutes !== undefined) {
        row.minutes.value = String(stop.minutes);
      }
    };
    for (const stop of initial.planned_stops) fill(addStop(true), stop);
    for (const stop of initial.downtime) {
      const row = addStop(false);
      fill(row, stop);
      if (row.reason && stop.reason_id) row.reason.value = stop.reason_id; // empty when retired since
    }
    for (const key of TOP_FIELDS) touched.add(key);
  }
  dialog.replaceChildren(form);
  dialog.showModal();
  void refresh();
  controls.total_count.focus();
}
