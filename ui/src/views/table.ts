// The machine table: sortable headers, one focusable row at a time (arrow keys move it), a status
// select in each row for the quick change.

import type { Machine, OperationalStatus, SortColumn, SortDirection } from "../bindings";
import { formatAge, formatEfficiency, formatLocalDateTime } from "../domain/format";
import { STATUSES } from "../domain/rules";
import { el } from "./dom";
import { STATUS_SYMBOL, statusClass } from "./status-badge";

interface Column {
  key: SortColumn;
  label: string;
  numeric?: boolean;
}

const COLUMNS: Column[] = [
  { key: "machine_name", label: "Name" },
  { key: "machine_type", label: "Type" },
  { key: "operational_status", label: "Status" },
  { key: "efficiency", label: "Efficiency (OEE)", numeric: true },
  { key: "last_maintenance", label: "Last maintenance" },
];

export interface TableHandlers {
  onSort(column: SortColumn): void;
  onEdit(machine: Machine): void;
  onDelete(machine: Machine): void;
  onHistory(machine: Machine): void;
  onShift(machine: Machine): void;
  onStatus(machine: Machine, status: OperationalStatus): void;
  onPage(delta: number): void;
}

export class MachineTable {
  private machines: Machine[] = [];
  private active = 0;

  constructor(
    private readonly headerRow: HTMLTableRowElement,
    private readonly body: HTMLTableSectionElement,
    private readonly handlers: TableHandlers,
  ) {
    body.addEventListener("keydown", (event) => this.onKey(event));
    body.addEventListener("focusin", (event) => {
      const row = (event.target as HTMLElement).closest("tr");
      const index = row ? Number(row.dataset["index"]) : NaN;
      if (Number.isInteger(index)) this.setActive(index, false);
    });
  }

  renderHeader(sort: SortColumn, direction: SortDirection): void {
    this.headerRow.replaceChildren(
      ...COLUMNS.map((column) => {
        const sorted = column.key === sort;
        const arrow = sorted ? (direction === "asc" ? " ▲" : " ▼") : "";
        const button = el("button", { type: "button", class: "sort", "data-sort": column.key }, column.label + arrow);
        button.addEventListener("click", () => this.handlers.onSort(column.key));
        const ariaSort = sorted ? (direction === "asc" ? "ascending" : "descending") : "none";
        return el("th", { scope: "col", "aria-sort": ariaSort, class: column.numeric ? "numeric" : "" }, button);
      }),
      el("th", { scope: "col", class: "actions" }, el("span", { class: "visually-hidden" }, "Actions")),
    );
  }

  render(machines: Machine[], now: Date, busy: ReadonlySet<string>, marks: ReadonlyMap<string, string>): void {
    const focusWasInside = this.body.contains(document.activeElement);
    this.machines = machines;
    this.active = Math.min(this.active, Math.max(0, machines.length - 1));
    this.body.replaceChildren(...machines.map((m, i) => this.row(m, i, now, busy.has(m.uid), marks.get(m.uid))));
    if (focusWasInside) this.focusActive();
  }

  focusActive(): void {
    this.rowAt(this.active)?.focus();
  }

  activeMachine(): Machine | undefined {
    return this.machines[this.active];
  }

  private row(machine: Machine, index: number, now: Date, busy: boolean, mark: string | undefined): HTMLTableRowElement {
    const select = el("select", {
      class: `status-select ${statusClass(machine.operational_status)}`,
      "aria-label": `Status of ${machine.machine_name}`,
      "data-role": "status",
    });
    for (const status of STATUSES) {
      const option = el("option", { value: status }, `${STATUS_SYMBOL[status]} ${status}`);
      option.selected = status === machine.operational_status;
      select.append(option);
    }
    if (busy) select.disabled = true;
    select.addEventListener("change", () => {
      const status = select.value as OperationalStatus;
      if (status !== machine.operational_status) this.handlers.onStatus(machine, status);
    });
    select.addEventListener("keydown", (event) => event.stopPropagation());

    const edit = el("button", { type: "button", class: "ghost small", "data-role": "edit" }, "Edit");
    edit.addEventListener("click", () => this.handlers.onEdit(machine));
    const remove = el("button", { type: "button", class: "ghost small danger", "data-role": "delete" }, "Delete");
    remove.addEventListener("click", () => this.handlers.onDelete(machine));
    const history = el("button", { type: "button", class: "ghost small", "data-role": "history" }, "History");
    history.addEventListener("click", () => this.handlers.onHistory(machine));
    const shift = el("button", { type: "button", class: "ghost small shift-only", "data-role": "shift", title: "Enter a shift record (R)" }, "Shift");
    shift.addEventListener("click", () => this.handlers.onShift(machine));
    // While its status change is on its way, the row's version is about to move on.
    if (busy) {
      edit.disabled = true;
      remove.disabled = true;
    }

    const row = el(
      "tr",
      {
        tabindex: index === this.active ? "0" : "-1",
        "data-index": String(index),
        "data-uid": machine.uid,
        class: mark ?? "",
        ...(mark ? { "data-mark": mark } : {}),
        ...(machine.problems.length > 0 ? { "data-problem": "true", title: machine.problems.join("\n") } : {}),
      },
      el(
        "td",
        { class: "name" },
        machine.machine_name,
        ...(machine.problems.length > 0
          ? [el("span", { class: "problem", role: "img", "aria-label": machine.problems.join(" ") }, " ⚠")]
          : []),
      ),
      el("td", {}, machine.machine_type),
      el("td", {}, el("span", { class: `status-cell ${statusClass(machine.operational_status)}` }, select)),
      el(
        "td",
        { class: "numeric", "data-source": machine.efficiency_shift ? "shift" : "typed", title: machine.efficiency_shift ? "The OEE of its latest shift record" : "Typed by hand (no shift record since)" },
        formatEfficiency(machine.efficiency ?? null),
        el("span", { class: "efficiency-source", "aria-label": machine.efficiency_shift ? "from its latest shift" : "typed by hand" }, machine.efficiency_shift ? " ⏱" : " ✎"),
      ),
      machine.last_maintenance
        ? el(
            "td",
            { title: machine.last_maintenance },
            formatLocalDateTime(machine.last_maintenance),
            el("span", { class: "age" }, formatAge(machine.last_maintenance, now)),
          )
        : el("td", { class: "unreadable" }, "not a date (see ⚠)"),
      el("td", { class: "actions" }, edit, shift, history, remove),
    );
    row.addEventListener("dblclick", () => this.handlers.onEdit(machine));
    return row;
  }

  private rowAt(index: number): HTMLTableRowElement | null {
    return this.body.querySelector<HTMLTableRowElement>(`tr[data-index="${index}"]`);
  }

  private setActive(index: number, focus: boolean): void {
    if (index < 0 || index >= this.machines.length) return;
    this.rowAt(this.active)?.setAttribute("tabindex", "-1");
    this.active = index;
    const row = this.rowAt(index);
    row?.setAttribute("tabindex", "0");
    if (focus) {
      row?.focus();
      row?.scrollIntoView({ block: "nearest" });
    }
  }

  private onKey(event: KeyboardEvent): void {
    if (!(event.target instanceof HTMLTableRowElement)) return;
    const machine = this.machines[this.active];
    switch (event.key) {
      case "ArrowDown":
        this.setActive(this.active + 1, true);
        break;
      case "ArrowUp":
        this.setActive(this.active - 1, true);
        break;
      case "Home":
        this.setActive(0, true);
        break;
      case "End":
        this.setActive(this.machines.length - 1, true);
        break;
      case "PageDown":
        this.handlers.onPage(1);
        break;
      case "PageUp":
        this.handlers.onPage(-1);
        break;
      case "Enter":
        if (machine) this.handlers.onEdit(machine);
        break;
      case "Delete":
        if (machine) this.handlers.onDelete(machine);
        break;
      case "h":
      case "H":
        if (machine) this.handlers.onHistory(machine);
        break;
      case "r":
      case "R":
        if (machine) this.handlers.onShift(machine);
        break;
      case "s":
      case "S":
        this.rowAt(this.active)?.querySelector<HTMLSelectElement>("select")?.focus();
        break;
      default:
        return;
    }
    event.preventDefault();
  }
}
