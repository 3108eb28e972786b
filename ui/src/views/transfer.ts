// Export buttons (CSV, XLSX) for a table the user is looking at, and the machine import dialog:
// a file read in the window (or text pasted), checked by a dry run that lists every bad row,
// then imported all or nothing.

import type { ExportFormat, ExportRequest, ImportReport } from "../bindings";
import { api, type Outcome } from "../api/client";
import { describeError } from "../api/messages";
import { el } from "./dom";
import { formatLocalDateTime } from "../domain/format";

/** The largest file read (the server refuses more too). */
const MAX_IMPORT_BYTES = 8 * 1024 * 1024;

/** A file's text: UTF-8 when it is valid UTF-8, else Windows-1252 (what spreadsheets on
 * Windows write as "CSV"), said so to the user. */
export function decodeCsv(bytes: ArrayBuffer): { content: string; encoding: "utf-8" | "windows-1252" } {
  try {
    return { content: new TextDecoder("utf-8", { fatal: true }).decode(bytes), encoding: "utf-8" };
  } catch {
    return { content: new TextDecoder("windows-1252").decode(bytes), encoding: "windows-1252" };
  }
}

export interface Say {
  info: (message: string) => void;
  error: (message: string) => void;
}

/** "Export CSV" and "Export XLSX" buttons for what `request()` names at the time of the click. */
export function exportButtons(what: string, request: () => ExportRequest, say: Say): HTMLElement {
  const button = (format: ExportFormat, label: string): HTMLButtonElement => {
    const b = el("button", { type: "button", class: "ghost small", "data-role": `export-${format}` }, label);
    b.addEventListener("click", () => {
      b.disabled = true;
      void api.exportTable(request(), format).then((answer) => {
        b.disabled = false;
        if (!answer.ok) {
          say.error(`${what} was not exported. ${describeError(answer.error)}`);
          return;
        }
        const where = answer.value.paths.join(", ");
        const stale = answer.value.cached_at ? ` (from the offline copy of ${formatLocalDateTime(answer.value.cached_at)}: the database did not answer)` : "";
        say.info(`${what}: ${answer.value.rows} rows written to ${where}${stale}`);
      });
    });
    return b;
  };
  return el("span", { class: "export-buttons", role: "group", "aria-label": `Export ${what}` }, button("csv", "Export CSV"), button("xlsx", "Export XLSX"));
}

function reportTable(report: ImportReport): HTMLElement {
  if (report.problems.length === 0) {
    return el("p", { id: "import-summary" }, report.applied ? `Imported ${report.created} machines.` : `${report.rows} machines, no problems: ready to import.`);
  }
  return el(
    "div",
    {},
    el(
      "p",
      { id: "import-summary", class: "form-message" },
      `${report.problems.length + report.more_problems} problem${report.problems.length + report.more_problems === 1 ? "" : "s"} in ${report.rows} rows: nothing was imported.` +
        (report.more_problems > 0 ? ` The first ${report.problems.length} are listed.` : ""),
    ),
    el(
      "table",
      { class: "planner-table", id: "import-problems" },
      el("thead", {}, el("tr", {}, ...["Line", "Field", "Reason"].map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, ...report.problems.map((p) => el("tr", {}, el("td", {}, String(p.line)), el("td", {}, p.field), el("td", {}, p.reason)))),
    ),
  );
}

/** What is imported: machines (the registry's import) or shift counts. */
export interface ImportKind {
  title: string;
  hint: string;
  placeholder: string;
  /** Plural noun for the button and the toast ("machines", "shifts"). */
  noun: string;
  run(csv: string, apply: boolean): Promise<Outcome<ImportReport>>;
}

export const MACHINE_IMPORT: ImportKind = {
  title: "Import machines from CSV",
  hint: "Columns: machine_name, machine_type, operational_status, efficiency, last_maintenance (UTC, ending in Z) — as an export writes them. Other columns are ignored. Check lists every bad row; Import creates all the machines or none. Needs the database.",
  placeholder: "machine_name,machine_type,operational_status,efficiency,last_maintenance\nCNC-101,Milling Machine,Running,85.5,2024-01-10T08:00:00Z",
  noun: "machines",
  run: (csv, apply) => api.importMachines(csv, apply),
};

export const SHIFT_IMPORT: ImportKind = {
  title: "Import shift counts from CSV",
  hint: "One shift per row. Columns: machine_name, start, end (date and time with its offset, e.g. 2026-11-27T06:00:00Z), ideal_cycle_s, total_count; optional: startup_rejects, production_rejects, planned_stop_min, downtime_min with downtime_reason (a name from the reason list), performance_reason. Check lists every bad row (the shift form's rules, overlaps in the file and with recorded shifts); Import records all the shifts or none. Needs the database.",
  placeholder: "machine_name,start,end,ideal_cycle_s,total_count,production_rejects,downtime_min,downtime_reason\nCNC-001,2026-11-27T06:00:00Z,2026-11-27T14:00:00Z,60,400,12,35,Motor failure",
  noun: "shifts",
  run: (csv, apply) => api.importShifts(csv, apply),
};

/** The import dialog: pick a file (or paste), Check (a dry run), then Import (all or nothing). */
export function openImport(dialog: HTMLDialogElement, say: Say, onImported: () => void, kind: ImportKind = MACHINE_IMPORT): void {
  const file = el("input", { id: "import-file", type: "file", accept: ".csv,text/csv" });
  const text = el("textarea", {
    id: "import-text",
    rows: "8",
    spellcheck: "false",
    placeholder: kind.placeholder,
  });
  const check = el("button", { type: "button", "data-role": "check" }, "Check");
  const apply = el("button", { type: "button", class: "primary", "data-role": "import", disabled: "" }, "Import");
  const close = el("button", { type: "button", class: "ghost", "data-role": "close" }, "Close");
  const result = el("div", { id: "import-result", "aria-live": "polite" });
  // Import is offered only for exactly the text the last clean check saw.
  let checked: string | null = null;
  const invalidate = (): void => {
    checked = null;
    apply.disabled = true;
    apply.textContent = "Import";
  };
  text.addEventListener("input", invalidate);
  file.addEventListener("change", () => {
    const chosen = file.files?.[0];
    if (!chosen) return;
    if (chosen.size > MAX_IMPORT_BYTES) {
      result.replaceChildren(el("p", { class: "form-message" }, `${chosen.name} is larger than ${MAX_IMPORT_BYTES / 1024 / 1024} MB: split it.`));
      return;
    }
    void chosen.arrayBuffer().then((bytes) => {
      const { content, encoding } = decodeCsv(bytes);
      text.value = content;
      invalidate();
      result.replaceChildren(
        el("p", { class: "hint" }, `${chosen.name} read${encoding === "windows-1252" ? " as Windows-1252 (it is not UTF-8: check the names)" : ""}: check it next.`),
      );
    });
  });
  const run = async (commit: boolean): Promise<void> => {
    const content = text.value;
    check.disabled = true;
    apply.disabled = true;
    const answer = await kind.run(content, commit);
    check.disabled = false;
    if (!answer.ok) {
      result.replaceChildren(el("p", { class: "form-message" }, describeError(answer.error)));
      return;
    }
    result.replaceChildren(reportTable(answer.value));
    if (answer.value.applied) {
      say.info(`Imported ${answer.value.created} ${kind.noun}.`);
      onImported();
      invalidate();
      return;
    }
    // Offered only for the text this answer is about (it may have been edited meanwhile).
    if (!commit && answer.value.problems.length === 0 && answer.value.rows > 0 && content === text.value) {
      checked = content;
      apply.disabled = false;
      apply.textContent = `Import ${answer.value.rows} ${kind.noun}`;
    }
  };
  check.addEventListener("click", () => void run(false));
  apply.addEventListener("click", () => {
    if (checked !== null && checked === text.value) void run(true);
  });
  close.addEventListener("click", () => dialog.close());
  dialog.setAttribute("aria-labelledby", "import-title");
  dialog.replaceChildren(
    el("h2", { id: "import-title" }, kind.title),
    el("p", { class: "hint" }, kind.hint),
    el("label", { for: "import-file" }, "File "),
    file,
    el("label", { for: "import-text" }, "Or paste the CSV"),
    text,
    result,
    el("div", { class: "dialog-actions" }, close, check, apply),
  );
  dialog.showModal();
  file.focus();
}
