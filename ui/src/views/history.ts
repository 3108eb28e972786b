// A machine's change history, as the database recorded it: who, when, through what program, and
// each field old → new, including changes other tools made. Read only; Esc or Close ends it.

import type { CommandError, HistoryEntry } from "../bindings";
import { describeError } from "../api/messages";
import { formatLocalDateTime } from "../domain/format";
import { el } from "./dom";

const FIELD_LABEL: Record<string, string> = {
  machine_name: "Name",
  machine_type: "Type",
  operational_status: "Status",
  efficiency: "Efficiency",
  last_maintenance: "Last maintenance",
};

function describe(entry: HistoryEntry): string {
  if (entry.operation === "delete") return "Deleted";
  const changes = entry.changes.map((c) =>
    entry.operation === "insert"
      ? `${FIELD_LABEL[c.field] ?? c.field}: ${c.new ?? "—"}`
      : `${FIELD_LABEL[c.field] ?? c.field}: ${c.old ?? "—"} → ${c.new ?? "—"}`,
  );
  return `${entry.operation === "insert" ? "Created" : "Changed"}: ${changes.join("; ")}`;
}

export function showHistory(
  dialog: HTMLDialogElement,
  name: string,
  history: { ok: true; value: HistoryEntry[] } | { ok: false; error: CommandError },
  exportButtons?: HTMLElement,
): void {
  const close = el("button", { type: "button", class: "ghost", "data-role": "close" }, "Close");
  const body = !history.ok
    ? el("p", { class: "form-message" }, `The history could not be read. ${describeError(history.error)}`)
    : history.value.length === 0
      ? el("p", {}, "No changes recorded yet.")
      : el(
          "table",
          { class: "history" },
          el("thead", {}, el("tr", {}, el("th", {}, "When"), el("th", {}, "Who"), el("th", {}, "Through"), el("th", {}, "What"))),
          el(
            "tbody",
            {},
            ...history.value.map((entry) =>
              el(
                "tr",
                { "data-operation": entry.operation },
                el("td", { title: entry.at }, formatLocalDateTime(entry.at)),
                el("td", {}, entry.user),
                el("td", {}, entry.write_id ? `${entry.application} (this app)` : entry.application || "—"),
                el("td", {}, describe(entry)),
              ),
            ),
          ),
        );
  dialog.replaceChildren(el("h2", { id: "history-title" }, `History of ${name}`), body, el("div", { class: "dialog-actions" }, exportButtons ?? null, close));
  close.addEventListener("click", () => dialog.close());
  dialog.showModal();
  close.focus();
}
