// What the operator sees of writes still in the outbox: queued edits shown on their rows, machines
// created offline listed first, and every such row marked, so nothing looks saved that is not.

import type { Conflict, Machine, MachineInput, OperationalStatus, OutboxEntry } from "../bindings";
import { isStatus } from "./rules";

export type RowMark = "pending" | "attention" | "deleting";

export interface Overlaid {
  rows: Machine[];
  marks: Map<string, RowMark>;
}

function withInput(machine: Machine, input: MachineInput): Machine {
  return {
    ...machine,
    machine_name: input.machine_name,
    machine_type: input.machine_type,
    operational_status: isStatus(input.operational_status) ? input.operational_status : machine.operational_status,
    efficiency: input.efficiency ?? null,
    last_maintenance: input.last_maintenance,
  };
}

/** The list's filters, as the server applies them: statuses (empty means all), type, name search. */
export interface ListFilters {
  statuses?: string[];
  machine_type?: string | null;
  search?: string | null;
}

/** Whether a machine passes the list's filters (the server's rule, for machines it has not seen yet). */
export function passesFilters(machine: Machine, filters: ListFilters): boolean {
  const search = filters.search?.trim().toLowerCase() ?? "";
  return (
    (!filters.statuses?.length || filters.statuses.includes(machine.operational_status)) &&
    ((filters.machine_type ?? null) === null || filters.machine_type === machine.machine_type) &&
    (search === "" || machine.machine_name.toLowerCase().includes(search))
  );
}

/**
 * Applies queued writes to a page of machines. Machines created but not yet sent come first on
 * the first page, when they pass the list's filters.
 */
export function overlay(
  machines: Machine[],
  entries: OutboxEntry[],
  firstPage: boolean,
  filters: ListFilters = {},
): Overlaid {
  const marks = new Map<string, RowMark>();
  const rows = machines.map((m) => ({ ...m }));
  const created: Machine[] = [];
  for (const entry of entries) {
    // A shift record has an id of its own; its row is its machine's.
    const uid = entry.write.kind === "record_shift" ? entry.write.write.shift.machine_uid : entry.write.write.uid;
    const mark: RowMark = entry.conflict ? "attention" : entry.write.kind === "delete" ? "deleting" : "pending";
    if (entry.conflict) {
      marks.set(uid, "attention");
    } else if (marks.get(uid) !== "attention") {
      marks.set(uid, mark);
    }
    if (entry.conflict) continue; // a rejected write is not shown as if it had applied
    const index = rows.findIndex((m) => m.uid === uid);
    const write = entry.write;
    if (write.kind === "create") {
      const machine = withInput(
        {
          id: 0,
          uid,
          machine_name: "",
          machine_type: "",
          operational_status: "Running",
          efficiency: null,
          last_maintenance: write.write.machine.last_maintenance,
          version: 1,
          created_at: entry.queued_at,
          updated_at: entry.queued_at,
          problems: [],
        },
        write.write.machine,
      );
      if (firstPage && index < 0 && passesFilters(machine, filters)) created.push(machine);
    } else if (index >= 0) {
      const row = rows[index];
      if (!row) continue;
      if (write.kind === "update") rows[index] = withInput(row, write.write.machine);
      if (write.kind === "set_status" && isStatus(write.write.status)) {
        rows[index] = { ...row, operational_status: write.write.status as OperationalStatus };
      }
      // Recorded maintenance moves the last maintenance on, never back (as the server does).
      if (write.kind === "record_maintenance") {
        const done = Date.parse(write.write.done_at);
        const last = row.last_maintenance ? Date.parse(row.last_maintenance) : Number.NaN;
        if (Number.isFinite(done) && !(last >= done)) rows[index] = { ...row, last_maintenance: write.write.done_at };
      }
    }
  }
  return { rows: [...created, ...rows], marks };
}

/** One sentence on why a queued write could not apply. */
export function describeConflict(conflict: Conflict): string {
  switch (conflict.reason) {
    case "name_taken":
      return `another machine is already named “${conflict.name}”`;
    case "changed_since":
      return `someone else changed it meanwhile (now version ${conflict.current.version}, you edited version ${conflict.expected})`;
    case "machine_deleted":
      return "the machine was deleted meanwhile";
    case "invalid":
      return conflict.fields.map((f) => f.message).join(" · ");
    case "refused":
      return `the database refused it: ${conflict.explanation}`;
  }
}
