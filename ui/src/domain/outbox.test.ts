import { describe, expect, it } from "vitest";
import type { Machine, OutboxEntry } from "../bindings";
import { describeConflict, overlay } from "./outbox";

const machine: Machine = {
  id: 1,
  uid: "u-1",
  machine_name: "CNC-001",
  machine_type: "Lathe",
  operational_status: "Running",
  efficiency: 50,
  last_maintenance: "2024-01-10T08:00:00Z",
  version: 3,
  created_at: "2024-01-10T08:00:00Z",
  updated_at: "2024-01-10T08:00:00Z",
  problems: [],
};
const input = {
  machine_name: machine.machine_name,
  machine_type: machine.machine_type,
  last_maintenance: "2024-01-10T08:00:00Z",
  efficiency: 70,
  operational_status: "Idle",
};

function entry(seq: number, write: OutboxEntry["write"], conflict: OutboxEntry["conflict"] = null): OutboxEntry {
  return { seq, write, attempts: 0, queued_at: "2024-02-01T00:00:00Z", conflict };
}

describe("overlay of queued writes", () => {
  it("shows offline creations first, marked pending", () => {
    const created = entry(1, { kind: "create", write: { write_id: "w", uid: "u-2", machine: { ...input, machine_name: "NEW" } } });
    const result = overlay([machine], [created], true);
    expect(result.rows.map((m) => m.machine_name)).toEqual(["NEW", "CNC-001"]);
    expect(result.marks.get("u-2")).toBe("pending");
    expect(overlay([machine], [created], false).rows).toHaveLength(1);
  });
  it("lists an offline creation only when it passes the list's filters", () => {
    const created = entry(1, { kind: "create", write: { write_id: "w", uid: "u-2", machine: { ...input, machine_name: "New Press" } } });
    const names = (filters: { statuses: string[]; machine_type: string | null; search: string | null }) =>
      overlay([machine], [created], true, filters).rows.map((m) => m.machine_name);
    expect(names({ statuses: [], machine_type: null, search: "  press " })).toEqual(["New Press", "CNC-001"]);
    expect(names({ statuses: [], machine_type: null, search: "robot" })).toEqual(["CNC-001"]);
    expect(names({ statuses: ["Down"], machine_type: null, search: null })).toEqual(["CNC-001"]);
    expect(names({ statuses: ["Idle"], machine_type: "Lathe", search: null })).toEqual(["New Press", "CNC-001"]);
    expect(names({ statuses: [], machine_type: "Press", search: null })).toEqual(["CNC-001"]);
  });
  it("shows queued edits on their row and marks deletions", () => {
    const status = entry(1, { kind: "set_status", write: { write_id: "w", uid: "u-1", status: "Down" } });
    const result = overlay([machine], [status], true);
    expect(result.rows[0]?.operational_status).toBe("Down");
    const deletion = entry(2, { kind: "delete", write: { write_id: "w2", uid: "u-1", expected_version: 3 } });
    expect(overlay([machine], [deletion], true).marks.get("u-1")).toBe("deleting");
  });
  it("moves the last maintenance on for recorded maintenance, never back", () => {
    const later = entry(1, { kind: "record_maintenance", write: { write_id: "w", uid: "u-1", done_at: "2099-01-01T00:00:00Z", note: "" } });
    const earlier = entry(2, { kind: "record_maintenance", write: { write_id: "w2", uid: "u-1", done_at: "1999-01-01T00:00:00Z", note: "" } });
    const result = overlay([machine], [later, earlier], true);
    expect(result.rows[0]?.last_maintenance).toBe("2099-01-01T00:00:00Z");
    expect(result.marks.get("u-1")).toBe("pending");
  });
  it("marks a queued shift record on its machine's row (the record has an id of its own)", () => {
    const shift = entry(1, {
      kind: "record_shift",
      write: {
        write_id: "w",
        uid: "record-1",
        shift: {
          machine_uid: "u-1",
          start: "2026-11-27T06:00:00Z",
          end: "2026-11-27T14:00:00Z",
          planned_stops: [],
          downtime: [],
          ideal_cycle_s: 60,
          total_count: 400,
          startup_rejects: 0,
          production_rejects: 0,
          performance_reason: null,
        },
      },
    });
    const result = overlay([machine], [shift], true);
    expect(result.marks.get("u-1")).toBe("pending");
    expect(result.marks.has("record-1")).toBe(false);
    expect(result.rows).toHaveLength(1);
  });
  it("does not show a rejected write as applied, and marks it", () => {
    const update = entry(1, { kind: "update", write: { write_id: "w", uid: "u-1", expected_version: 2, machine: input } }, {
      reason: "changed_since",
      expected: 2,
      current: machine,
    });
    const result = overlay([machine], [update], true);
    expect(result.rows[0]?.efficiency).toBe(50);
    expect(result.marks.get("u-1")).toBe("attention");
    expect(describeConflict({ reason: "machine_deleted" })).toMatch(/deleted/);
  });
});
