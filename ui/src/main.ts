// The operator's window: loads pages of machines, wires the toolbar, the table, the form and the
// database monitor together. All data goes through ./api (the generated bindings).

import "./locale-guard"; // first: before any library reads the locale
import type {
  Machine,
  MachineInput,
  MachinePage,
  OperationalStatus,
  OutboxEntry,
  QueuedWrite,
  RecordShift,
  SortColumn,
  StatusCount,
  WriteOutcome,
} from "./bindings";
import { api, onMachinesChanged, type ListQuery } from "./api/client";
import { describeError } from "./api/messages";
import { formatCount, formatLocalDateTime, formatPageRange } from "./domain/format";
import { describeConflict, overlay } from "./domain/outbox";
import { STATUSES } from "./domain/rules";
import { confirmDialog } from "./views/confirm";
import { showHistory } from "./views/history";
import { ConnectionMonitor } from "./views/connection";
import { byId, el, typingInField } from "./views/dom";
import { openMachineForm } from "./views/machine-form";
import { openShiftForm, type ShiftFormRequest } from "./views/shift-form";
import { STATUS_SYMBOL, statusClass } from "./views/status-badge";
import { MachineTable } from "./views/table";
import { setupTheme } from "./views/theme";
import { PlannerView } from "./views/planner";
import { AlertsView } from "./views/alerts";
import { exportButtons, openImport, SHIFT_IMPORT } from "./views/transfer";
import { renderSessionHeader, renderSessionNotes, showConnectionDialog, showSignInDialog } from "./views/session";
import type { Privileges, SessionInfo } from "./bindings";

const PAGE_SIZE = 100;
const SEARCH_DEBOUNCE_MS = 250;

const query: ListQuery = {
  sort: "machine_name",
  direction: "asc",
  statuses: [],
  machine_type: null,
  search: null,
  limit: PAGE_SIZE,
  offset: 0,
  after_id: null,
  before_id: null,
};

/** Back to the first page (a new sort or filter): by offset, no boundary row. */
function firstPage(): void {
  query.offset = 0;
  query.after_id = null;
  query.before_id = null;
}
let page: MachinePage | null = null;
let knownTypes: string[] = [];
let loadSequence = 0;
const busy = new Set<string>();
let outbox: OutboxEntry[] = [];

const search = byId<HTMLInputElement>("search");
const statusFilters = byId<HTMLDivElement>("status-filters");
const typeFilter = byId<HTMLSelectElement>("type-filter");
const emptyState = byId<HTMLParagraphElement>("empty-state");
const pageInfo = byId<HTMLSpanElement>("page-info");
const prevPage = byId<HTMLButtonElement>("prev-page");
const nextPage = byId<HTMLButtonElement>("next-page");
const machineDialog = byId<HTMLDialogElement>("machine-dialog");
const confirmBox = byId<HTMLDialogElement>("confirm-dialog");
const historyDialog = byId<HTMLDialogElement>("history-dialog");
const shiftDialog = el("dialog", { id: "shift-dialog", "aria-labelledby": "shift-dialog-title" });
document.body.append(shiftDialog);
const sessionDialog = el("dialog", { id: "session-dialog", "aria-labelledby": "signin-title" });
document.body.append(sessionDialog);
/** What the signed-in user may do; null while the server has not said (then nothing is hidden). */
let privileges: Privileges | null = null;
let session: SessionInfo | null = null;
const toast = el("div", { id: "toast", class: "toast", role: "status", "aria-live": "polite", hidden: "" });
document.body.append(toast);

const table = new MachineTable(byId("header-row"), byId("machine-rows"), {
  onSort: (column) => sortBy(column),
  onEdit: (machine) => editMachine(machine),
  onDelete: (machine) => void deleteMachine(machine),
  onHistory: (machine) => void showMachineHistory(machine),
  onShift: (machine) => void openShift(machine),
  onStatus: (machine, status) => void changeStatus(machine, status),
  onPage: (delta) => turnPage(delta),
});

const cachedNote = el("p", { id: "cached-note", class: "cached-note", role: "status", hidden: "" });
const attentionPanel = el("section", { id: "attention", class: "attention-panel", "aria-label": "Changes that need attention", hidden: "" });
byId<HTMLElement>("banner").after(attentionPanel, cachedNote);

let lastPending = -1;
const monitor = new ConnectionMonitor(byId("db-pill"), byId("banner"), (status, wentOnline) => {
  // Reload when the database came back or the outbox moved (a write synced or was rejected).
  const outboxMoved = status.pending + status.needs_attention !== lastPending;
  lastPending = status.pending + status.needs_attention;
  if (wentOnline || outboxMoved) {
    void load();
    if (wentOnline) void loadTypes();
  }
}, byId("last-sync"), () => {
  // The server refused this user's login (password changed, role dropped): ask again.
  if (session && !sessionDialog.open) showSignInDialog(sessionDialog, session, "The database refused your user name or password. Sign in again.");
});

/** Says whether the role may do `action`; if not, tells the operator so. */
function allowed(action: "can_create" | "can_edit" | "can_delete" | "can_set_status" | "can_read_history" | "can_record_shifts"): boolean {
  if (!privileges || privileges[action]) return true;
  say(`Your database role (${privileges.groups.join(", ") || privileges.user}) may not do this.`, "error");
  return false;
}

let toastTimer: number | undefined;
function say(message: string, kind: "info" | "error" = "info"): void {
  toast.textContent = message;
  toast.className = `toast ${kind}`;
  toast.hidden = false;
  window.clearTimeout(toastTimer);
  toastTimer = window.setTimeout(() => (toast.hidden = true), kind === "error" ? 8000 : 4000);
}

async function load(): Promise<void> {
  const sequence = ++loadSequence;
  document.body.classList.add("loading");
  const [list, counts, queued] = await Promise.all([
    api.listMachines({ ...query }),
    api.statusCounts({ ...query }),
    api.outboxEntries(),
  ]);
  if (sequence !== loadSequence) return; // a newer request is under way: its answer wins
  document.body.classList.remove("loading");
  if (counts.ok) renderStatusFilters(counts.value);
  if (queued.ok) {
    outbox = queued.value;
    renderAttention();
  }
  if (!list.ok) {
    if (list.error.kind !== "DatabaseUnavailable" && list.error.kind !== "NeedsAttention") {
      say(describeError(list.error), "error");
    }
    if (!page) renderEmpty("The machine list could not be loaded yet.");
    return;
  }
  page = list.value;
  if (page.machines.length === 0 && page.total > 0 && query.offset > 0) {
    query.offset = Math.max(0, Math.floor((page.total - 1) / PAGE_SIZE) * PAGE_SIZE);
    query.after_id = null;
    query.before_id = null;
    return load();
  }
  table.renderHeader(query.sort, query.direction);
  renderRows();
  cachedNote.hidden = page.cached_at === null || page.cached_at === undefined;
  cachedNote.textContent = page.cached_at
    ? `Offline: showing the list as it was at ${formatLocalDateTime(page.cached_at)}, with your pending changes.`
    : "";
  const filtered = query.statuses.length > 0 || query.machine_type !== null || query.search !== null;
  if (page.total === 0) renderEmpty(filtered ? "No machine matches these filters." : "No machines yet. Press N to add the first one.");
  else emptyState.hidden = true;
  pageInfo.textContent = formatPageRange(query.offset, page.machines.length, page.total);
  prevPage.disabled = query.offset === 0;
  nextPage.disabled = query.offset + PAGE_SIZE >= page.total;
  document.body.dataset["loaded"] = "true";
}

/** The status select of a row, when the operator is in it (choosing a status). */
function statusBeingChosen(): HTMLSelectElement | null {
  const active = document.activeElement;
  return active instanceof HTMLSelectElement && active.closest("#machine-rows") ? active : null;
}

let renderWaiting = false;

function renderRows(): void {
  if (!page) return;
  const choosing = statusBeingChosen();
  if (choosing) {
    // Re-drawing the rows now would take the list from under the operator (a reload that was
    // already on its way when they opened it): the rows are drawn once they chose or left it.
    if (!renderWaiting) {
      renderWaiting = true;
      const later = (): void => {
        renderWaiting = false;
        choosing.removeEventListener("change", later);
        choosing.removeEventListener("blur", later);
        renderRows();
      };
      choosing.addEventListener("change", later);
      choosing.addEventListener("blur", later);
    }
    return;
  }
  const shown = overlay(page.machines, outbox, query.offset === 0, query);
  table.render(shown.rows, new Date(), busy, shown.marks);
}

/** Says what happened to a write: applied, or kept on this PC until the database is back. */
function reportWrite(outcome: WriteOutcome, done: string): void {
  if (outcome.outcome === "applied") say(done);
  else say(`${done.replace(/\.$/, "")} — saved on this PC, pending sync (${outcome.pending} waiting).`);
}

function renderAttention(): void {
  const rejected = outbox.filter((e) => e.conflict !== null);
  attentionPanel.hidden = rejected.length === 0;
  attentionPanel.replaceChildren(
    el("h2", {}, `⚠ ${rejected.length} change${rejected.length === 1 ? "" : "s"} could not be applied`),
    el(
      "ul",
      {},
      ...rejected.map((entry) => {
        const write = entry.write;
        const machineUid = write.kind === "record_shift" ? write.write.shift.machine_uid : write.write.uid;
        const known = page?.machines.find((m) => m.uid === machineUid)?.machine_name;
        const name = write.kind === "create" || write.kind === "update" ? write.write.machine.machine_name : (known ?? "a machine");
        const what = {
          create: "Create",
          update: "Edit of",
          set_status: "Status change of",
          delete: "Deletion of",
          plan_maintenance: "Maintenance plan of",
          record_shift: "Shift record of",
          record_maintenance: "Maintenance record of",
        }[write.kind];
        const reason = entry.conflict ? describeConflict(entry.conflict) : "";
        const item = el("li", { "data-seq": String(entry.seq) }, `${what} ${name}: ${reason}.`);
        if (write.kind === "create" || write.kind === "update" || write.kind === "record_shift") {
          const edit = el("button", { type: "button", class: "ghost small", "data-role": "retry" }, "Edit and retry");
          edit.addEventListener("click", () => (write.kind === "record_shift" ? void retryShift(entry, write.write) : retryEntry(entry)));
          item.append(edit);
        }
        const discard = el("button", { type: "button", class: "ghost small danger", "data-role": "discard" }, "Discard");
        discard.addEventListener("click", () => void discardEntry(entry, `${what} ${name}`));
        item.append(discard);
        return item;
      }),
    ),
  );
}

function retryEntry(entry: OutboxEntry): void {
  const write = entry.write;
  if (write.kind !== "create" && write.kind !== "update") return;
  const current = entry.conflict?.reason === "changed_since" ? entry.conflict.current : undefined;
  // A maintenance recorded since (by anyone) moved the last maintenance on: the retry keeps the
  // later of the two, so correcting an edit never undoes a record.
  const queued = write.write.machine;
  const theirs = current?.last_maintenance ?? null;
  const mine: MachineInput =
    theirs !== null && Date.parse(theirs) > Date.parse(queued.last_maintenance) ? { ...queued, last_maintenance: theirs } : queued;
  const base: Machine = {
    id: current?.id ?? 0,
    uid: write.write.uid,
    machine_name: mine.machine_name,
    machine_type: mine.machine_type,
    operational_status: (mine.operational_status as OperationalStatus) ?? "Running",
    efficiency: mine.efficiency ?? null,
    last_maintenance: mine.last_maintenance,
    version: current?.version ?? (write.kind === "update" ? write.write.expected_version : 1),
    created_at: entry.queued_at,
    updated_at: entry.queued_at,
    problems: [],
  };
  openMachineForm(machineDialog, {
    machine: base,
    knownTypes,
    title: `Retry: ${mine.machine_name}`,
    notice: `Not applied: ${entry.conflict ? describeConflict(entry.conflict) : ""}. ${
      current
        ? `Their values: ${current.machine_name}, ${current.operational_status}, ${current.efficiency ?? "—"} %, last maintenance ${
            current.last_maintenance ? formatLocalDateTime(current.last_maintenance) : "—"
          } (the later last maintenance is kept). Saving applies yours on top of theirs.`
        : "Correct it and save to retry."
    }`,
    save: async (input) => {
      const retried: QueuedWrite =
        write.kind === "create"
          ? { kind: "create", write: { write_id: api.newId(), uid: write.write.uid, machine: input } }
          : {
              kind: "update",
              write: { write_id: api.newId(), uid: write.write.uid, expected_version: base.version, machine: input },
            };
      const outcome = await api.retryWrite(entry.seq, retried);
      if (outcome.ok && !outcome.value) {
        void load();
        return {
          ok: false,
          error: { kind: "Internal", data: { message: "this change was no longer waiting (already sent or discarded), so nothing was retried" } },
        };
      }
      return outcome.ok ? { ok: true, value: { outcome: "queued", pending: monitor.current()?.pending ?? 1 } } : outcome;
    },
    onSaved: () => {
      say("Retrying: the change is queued again.");
      void load();
    },
    onGone: () => void load(),
    confirm: (title, message, yes) => confirmDialog(confirmBox, title, message, yes),
  });
}

async function discardEntry(entry: OutboxEntry, label: string): Promise<void> {
  const yes = await confirmDialog(confirmBox, "Discard this change?", `${label} will be dropped and never applied.`, "Discard change");
  if (!yes) return;
  const outcome = await api.discardWrite(entry.seq);
  if (!outcome.ok) say(`${label} was not discarded. ${describeError(outcome.error)}`, "error");
  else if (outcome.value) say(`${label}: discarded.`);
  else say(`${label} was no longer waiting (already sent or discarded): nothing to discard.`, "error");
  void load();
}

function renderEmpty(text: string): void {
  emptyState.textContent = text;
  emptyState.hidden = false;
}

async function loadTypes(): Promise<void> {
  const types = await api.machineTypes();
  if (!types.ok) return;
  knownTypes = types.value;
  const selected = query.machine_type ?? "";
  typeFilter.replaceChildren(
    el("option", { value: "" }, "All types"),
    ...knownTypes.map((t) => el("option", { value: t }, t)),
  );
  typeFilter.value = knownTypes.includes(selected) ? selected : "";
}

function renderStatusFilters(counts: StatusCount[]): void {
  statusFilters.replaceChildren(
    ...STATUSES.map((status) => {
      const count = counts.find((c) => c.status === status)?.count ?? 0;
      const active = query.statuses.includes(status);
      const chip = el(
        "button",
        {
          type: "button",
          class: `chip ${statusClass(status)}`,
          "aria-pressed": String(active),
          "data-status": status,
          title: `Show only ${status} machines (toggle)`,
        },
        `${STATUS_SYMBOL[status]} ${formatCount(count)} ${status}`,
      );
      chip.addEventListener("click", () => toggleStatus(status));
      return chip;
    }),
  );
}

function toggleStatus(status: OperationalStatus): void {
  query.statuses = query.statuses.includes(status)
    ? query.statuses.filter((s) => s !== status)
    : [...query.statuses, status];
  firstPage();
  void load();
}

function sortBy(column: SortColumn): void {
  if (query.sort === column) query.direction = query.direction === "asc" ? "desc" : "asc";
  else {
    query.sort = column;
    query.direction = "asc";
  }
  firstPage();
  void load();
}

/** Next or previous page by keyset: after the last row shown, or before the first, so a page
 * deep in the list costs what the first does. The offset goes along (for "101–200 of N", and as
 * the fallback should that row be gone). */
function turnPage(delta: number): void {
  if (!page || page.machines.length === 0) return;
  const next = query.offset + delta * PAGE_SIZE;
  if (next < 0 || next >= page.total) return;
  query.offset = next;
  if (next === 0) {
    query.after_id = null;
    query.before_id = null;
  } else if (delta > 0) {
    query.after_id = page.machines[page.machines.length - 1]!.id;
    query.before_id = null;
  } else {
    query.before_id = page.machines[0]!.id;
    query.after_id = null;
  }
  void load().then(() => table.focusActive());
}

// Machines changed by anyone (another PC, psql): the page and counts shown are read again, in
// place (the same page, sort, filters and row); types too when machines came or went. A form
// open on a machine that changed says so.
let editing: { uid: string; version: number } | null = null;
let liveReload: number | undefined;
onMachinesChanged((changes) => {
  if (session?.state.state !== "signed_in") return;
  const comesOrGoes = changes.some((c) => c.kind !== "update");
  scheduleLiveReload(comesOrGoes);
  const mine = editing;
  const changed = mine && changes.find((c) => c.uid === mine.uid && (c.kind === "delete" || (c.version ?? 0) > mine.version));
  if (machineDialog.open && mine && changed) {
    const note =
      machineDialog.querySelector<HTMLElement>("#live-note") ??
      el("p", { id: "live-note", class: "banner attention", role: "status" });
    note.textContent =
      changed.kind === "delete"
        ? "This machine was just deleted elsewhere; saving will say so."
        : "This machine was just changed elsewhere; saving checks your edit against that change (Cancel and open it again to see it).";
    if (!note.isConnected) machineDialog.querySelector("form")?.prepend(note);
  }
});

/** Machines came or went since the last live reload: the type list is read again too. */
let typesDue = false;

/** Reads the page again shortly (changes arriving together are one reload). */
function scheduleLiveReload(comesOrGoes: boolean): void {
  typesDue ||= comesOrGoes;
  window.clearTimeout(liveReload);
  liveReload = window.setTimeout(reloadLive, 150);
}

function reloadLive(): void {
  if (document.body.classList.contains("planning")) return;
  const active = document.activeElement;
  if (active instanceof HTMLSelectElement && active.closest("#machine-rows")) {
    // The operator is choosing a row's status: re-drawing the rows now would take the list
    // from under them. The reload waits until they chose or left it.
    const later = (): void => scheduleLiveReload(false);
    active.addEventListener("change", later, { once: true });
    active.addEventListener("blur", later, { once: true });
    return;
  }
  void load();
  if (typesDue) {
    typesDue = false;
    void loadTypes();
  }
}

function openForm(machine?: Machine): void {
  if (!allowed(machine ? "can_edit" : "can_create")) return;
  editing = machine ? { uid: machine.uid, version: machine.version } : null;
  openMachineForm(machineDialog, {
    ...(machine ? { machine } : {}),
    knownTypes,
    save: (input, base) =>
      machine && base !== undefined
        ? api.updateMachine(machine.uid, base.version, input, base.efficiency ?? null)
        : api.createMachine(input),
    onSaved: (outcome) => {
      const name = outcome.outcome === "applied" ? outcome.machine.machine_name : "the machine";
      reportWrite(outcome, machine ? `Saved ${name}.` : `Created ${name}.`);
      void load().then(() => table.focusActive());
      void loadTypes();
    },
    onGone: () => void load(),
    confirm: (title, message, yes) => confirmDialog(confirmBox, title, message, yes),
  });
}

/** A shift form is being opened (its reasons are on their way): a second R waits for it. */
let openingShift = false;

async function openShift(machine: Machine, retry?: Pick<ShiftFormRequest, "initial" | "notice" | "save">): Promise<void> {
  if (shiftDialog.open || openingShift || !allowed("can_record_shifts")) return;
  openingShift = true;
  const lists = await api.shiftFormLists().finally(() => {
    openingShift = false;
  });
  if (!lists.ok) {
    say(`The reason list is unavailable: ${describeError(lists.error)}`, "error");
    return;
  }
  openShiftForm(shiftDialog, {
    machine,
    reasons: lists.value.reasons,
    reasonsCachedAt: lists.value.cached_at ?? null,
    typeCycleTime: lists.value.ideal_cycle_times.find((t) => t.machine_type === machine.machine_type)?.ideal_cycle_s ?? null,
    preview: (write) => api.previewShift(write),
    save: (write) => api.recordShift(write),
    ...retry,
    onSaved: (outcome) => {
      reportWrite(outcome, `Recorded a shift of ${machine.machine_name}.`);
      void load().then(() => table.focusActive());
    },
    confirm: (title, message, yes) => confirmDialog(confirmBox, title, message, yes),
  });
  shiftDialog.addEventListener("close", () => table.focusActive(), { once: true });
}

/** A refused shift entry, back in its form: corrected, it is queued again in its place. */
async function retryShift(entry: OutboxEntry, refused: RecordShift): Promise<void> {
  const machine = await api.getMachine(refused.shift.machine_uid);
  if (!machine.ok) {
    say(`The machine of this shift record cannot be read: ${describeError(machine.error)}`, "error");
    return;
  }
  await openShift(machine.value, {
    initial: refused,
    notice: `Not recorded: ${entry.conflict ? describeConflict(entry.conflict) : ""}. Correct it and save to retry.`,
    save: async (write) => {
      const outcome = await api.retryWrite(entry.seq, { kind: "record_shift", write });
      if (outcome.ok && !outcome.value) {
        void load();
        return { ok: false, error: { kind: "Internal", data: { message: "this entry was no longer waiting (already sent or discarded), so nothing was retried" } } };
      }
      return outcome.ok ? { ok: true, value: { outcome: "queued", pending: monitor.current()?.pending ?? 1 } } : outcome;
    },
  });
}

async function showMachineHistory(machine: Machine): Promise<void> {
  if (!allowed("can_read_history")) return;
  const history = await api.machineHistory(machine.uid);
  const exports = history.ok ? exportButtons(`The history of ${machine.machine_name}`, () => ({ kind: "history", uid: machine.uid }), sayTo) : undefined;
  showHistory(historyDialog, machine.machine_name, history, exports);
  historyDialog.addEventListener("close", () => table.focusActive(), { once: true });
}

function editMachine(machine: Machine): void {
  if (busy.has(machine.uid)) return; // its status change is on its way; the row is about to move on
  openForm(machine);
}

async function changeStatus(machine: Machine, status: OperationalStatus): Promise<void> {
  // Chosen: the keyboard goes back to the row, which is drawn again with the change on its way.
  statusBeingChosen()?.closest("tr")?.focus();
  if (!allowed("can_set_status")) {
    renderRows();
    return;
  }
  busy.add(machine.uid);
  const outcome = await api.setMachineStatus(machine.uid, status);
  busy.delete(machine.uid);
  if (outcome.ok && outcome.value.outcome === "applied" && page) {
    // The row shows the new status and version at once: an edit opened before the list
    // reloads starts from them, not from what was there before.
    const applied = outcome.value.machine;
    page.machines = page.machines.map((m) => (m.uid === applied.uid ? applied : m));
    renderRows();
  }
  if (outcome.ok) reportWrite(outcome.value, `${machine.machine_name} is now ${status}.`);
  else say(`${machine.machine_name}: status not changed. ${describeError(outcome.error)}`, "error");
  await load();
  table.focusActive();
}

async function deleteMachine(machine: Machine): Promise<void> {
  if (!allowed("can_delete")) return;
  const yes = await confirmDialog(
    confirmBox,
    `Delete ${machine.machine_name}?`,
    `${machine.machine_name} (${machine.machine_type}) will be removed from the registry for everyone. This cannot be undone.`,
    `Delete ${machine.machine_name}`,
  );
  if (!yes) {
    table.focusActive();
    return;
  }
  const outcome = await api.deleteMachine(machine.uid, machine.version);
  if (outcome.ok) reportWrite(outcome.value, `Deleted ${machine.machine_name}.`);
  else if (outcome.error.kind === "StaleVersion") {
    say(`${machine.machine_name} was changed by someone else meanwhile and was not deleted. Review it and try again.`, "error");
  } else say(`${machine.machine_name} was not deleted. ${describeError(outcome.error)}`, "error");
  await load();
  void loadTypes();
  table.focusActive();
}

// Toolbar.
let searchTimer: number | undefined;
search.addEventListener("input", () => {
  window.clearTimeout(searchTimer);
  searchTimer = window.setTimeout(() => {
    const text = search.value.trim();
    query.search = text === "" ? null : text;
    firstPage();
    void load();
  }, SEARCH_DEBOUNCE_MS);
});
search.addEventListener("keydown", (event) => {
  if (event.key === "Escape") {
    search.value = "";
    search.dispatchEvent(new Event("input"));
    table.focusActive();
  } else if (event.key === "ArrowDown" || event.key === "Enter") {
    event.preventDefault();
    table.focusActive();
  }
});
typeFilter.addEventListener("change", () => {
  query.machine_type = typeFilter.value === "" ? null : typeFilter.value;
  firstPage();
  void load();
});
byId<HTMLButtonElement>("new-machine").addEventListener("click", () => openForm());
prevPage.addEventListener("click", () => turnPage(-1));
nextPage.addEventListener("click", () => turnPage(1));

// The planner's view, in place of the registry (P, or the header button; P or Esc again returns).
const timelineDialog = el("dialog", { id: "timeline-dialog", "aria-labelledby": "timeline-title" });
document.body.append(timelineDialog);

// Export of the list as filtered and sorted now (every page), and the machine import.
const sayTo = { info: (m: string) => say(m), error: (m: string) => say(m, "error") };
const importDialog = el("dialog", { id: "import-dialog", "aria-labelledby": "import-title" });
document.body.append(importDialog);
const importButton = el("button", { type: "button", id: "import-machines", class: "ghost create-only", title: "Import machines from CSV" }, "Import CSV…");
importButton.addEventListener("click", () => {
  if (!allowed("can_create")) return;
  openImport(importDialog, sayTo, () => {
    void load();
    void loadTypes();
  });
});
const importShiftsButton = el("button", { type: "button", id: "import-shifts", class: "ghost shift-only", title: "Import shift counts (from a PLC or historian export) from CSV" }, "Import shifts…");
importShiftsButton.addEventListener("click", () => {
  if (!allowed("can_record_shifts")) return;
  openImport(importDialog, sayTo, () => void load(), SHIFT_IMPORT);
});
importDialog.addEventListener("close", () => table.focusActive());
byId("new-machine").after(exportButtons("The machine list", () => ({ kind: "machines", query: { ...query, offset: 0, after_id: null, before_id: null } }), sayTo), importButton, importShiftsButton);
const planner = new PlannerView(byId("planner"), timelineDialog, {
  report: reportWrite,
  say: (message) => say(message),
  fail: (message) => say(message, "error"),
});
const alertsDialog = byId<HTMLDialogElement>("alerts-dialog");
const alerts = new AlertsView(byId<HTMLButtonElement>("alerts-toggle"), alertsDialog);
alertsDialog.addEventListener("close", () => {
  if (!document.body.classList.contains("planning")) table.focusActive();
});
const plannerToggle = byId<HTMLButtonElement>("planner-toggle");
function setPlanning(on: boolean): void {
  document.body.classList.toggle("planning", on);
  plannerToggle.setAttribute("aria-pressed", String(on));
  plannerToggle.textContent = on ? "Registry" : "Planner";
  byId<HTMLElement>("planner").hidden = !on;
  if (on) void planner.show();
  else {
    void load().then(() => table.focusActive());
  }
}
plannerToggle.addEventListener("click", () => setPlanning(!document.body.classList.contains("planning")));

// Global shortcuts (not while typing, not while a dialog is open).
document.addEventListener("keydown", (event) => {
  if (machineDialog.open || confirmBox.open || historyDialog.open || sessionDialog.open || timelineDialog.open || importDialog.open || alertsDialog.open || shiftDialog.open) return;
  const planning = document.body.classList.contains("planning");
  if ((event.key === "a" || event.key === "A") && !typingInField() && !event.ctrlKey && !event.metaKey && !event.altKey) {
    event.preventDefault();
    if (!event.repeat && session?.state.state === "signed_in") void alerts.open();
    return;
  }
  if ((event.key === "p" || event.key === "P") && !typingInField() && !event.ctrlKey && !event.metaKey) {
    event.preventDefault();
    setPlanning(!planning);
    return;
  }
  if (planning) {
    if (event.key === "Escape") setPlanning(false);
    return;
  }
  if (event.key === "/" && !typingInField()) {
    event.preventDefault();
    search.focus();
    search.select();
  } else if ((event.key === "n" || event.key === "N") && !typingInField() && !event.ctrlKey && !event.metaKey) {
    event.preventDefault();
    openForm();
  } else if (event.key === "n" && event.ctrlKey) {
    event.preventDefault();
    openForm();
  }
});

// Refresh the "how long ago" column once a minute.
window.setInterval(() => {
  if (page && !machineDialog.open) renderRows();
}, 60_000);

/** Reads who is signed in; shows the connection or sign-in screen when needed. True when the
 * window can work (signed in). */
async function startSession(): Promise<boolean> {
  const info = await api.sessionInfo();
  if (!info.ok) {
    say(describeError(info.error), "error");
    return false;
  }
  session = info.value;
  renderSessionHeader(byId("session-slot"), sessionDialog, session);
  renderSessionNotes(byId("session-notes"), session);
  const note = window.sessionStorage.getItem("mes-note");
  if (note) {
    window.sessionStorage.removeItem("mes-note");
    say(note, "error");
  }
  if (session.state.state !== "signed_in") {
    const pill = byId<HTMLElement>("db-pill");
    pill.textContent = session.state.state === "signed_out" ? "Not signed in" : "Not connected";
    pill.className = "db-pill offline";
  }
  switch (session.state.state) {
    case "not_configured":
      showConnectionDialog(sessionDialog, session, true);
      return false;
    case "broken":
      showConnectionDialog(sessionDialog, session, true, session.state.problem);
      return false;
    case "signed_out":
      showSignInDialog(sessionDialog, session);
      return false;
    case "signed_in":
      break;
  }
  privileges = session.privileges ?? null;
  if (privileges) {
    document.body.classList.toggle("no-create", !privileges.can_create);
    document.body.classList.toggle("no-edit", !privileges.can_edit);
    document.body.classList.toggle("no-delete", !privileges.can_delete);
    document.body.classList.toggle("no-status", !privileges.can_set_status);
    document.body.classList.toggle("no-history", !privileges.can_read_history);
    document.body.classList.toggle("no-plan", !privileges.can_plan_maintenance);
    document.body.classList.toggle("no-record", !privileges.can_record_maintenance);
    document.body.classList.toggle("no-shift", !privileges.can_record_shifts);
    byId<HTMLButtonElement>("new-machine").disabled = !privileges.can_create;
    alerts.historyReadable = privileges.can_read_history;
  }
  return true;
}

// A connection to a remote host that is not verified TLS (allowed by allow_insecure): said
// for as long as the app runs so.
function warnIfInsecure(): void {
  void api.databaseStatus().then((status) => {
    if (!status.ok || !status.value.health.target.insecure) return;
    const warning = el(
      "p",
      { id: "insecure-warning", class: "banner attention", role: "alert" },
      `Insecure connection: the database at ${status.value.health.target.display} is reached without verified TLS (allow_insecure is set), so passwords and changes can be read or altered on the way.`,
    );
    byId<HTMLElement>("banner").before(warning);
  });
}

setupTheme(byId("theme-toggle"));
table.renderHeader(query.sort, query.direction);
void startSession().then((signedIn) => {
  if (!signedIn) return;
  warnIfInsecure();
  void alerts.start();
  void monitor.start();
  void load().then(() => table.focusActive());
  void loadTypes();
});
