// The only door to Rust: thin wrappers over the generated bindings. Each call resolves to an
// Outcome (never throws for a command's own error) and reports connectivity as a side effect, so
// the window learns the database went away from any call, not only from health checks.

import {
  commands,
  type CommandError,
  type DatabaseStatus,
  type ListQuery_Deserialize,
  type Machine,
  type MachineInput,
  type MachinePage,
  type OperationalStatus,
  type StatusCount,
} from "../bindings";

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: CommandError };
export type ListQuery = ListQuery_Deserialize;

type Connectivity = "online" | "unavailable";
const listeners = new Set<(state: Connectivity, reason?: string) => void>();

/** Called with "online" after any successful call and "unavailable" after a connection failure. */
export function onConnectivity(listener: (state: Connectivity, reason?: string) => void): void {
  listeners.add(listener);
}

async function call<T>(
  pending: Promise<{ status: "ok"; data: T } | { status: "error"; error: CommandError }>,
): Promise<Outcome<T>> {
  let result: Awaited<typeof pending>;
  try {
    result = await pending;
  } catch (thrown) {
    // A framework-level failure (bad arguments, IPC broken): a bug, not a user error.
    const message = thrown instanceof Error ? thrown.message : String(thrown);
    return { ok: false, error: { kind: "Internal", data: { message } } };
  }
  if (result.status === "ok") {
    listeners.forEach((l) => l("online"));
    return { ok: true, value: result.data };
  }
  if (result.error.kind === "DatabaseUnavailable") {
    const reason = result.error.data.reason;
    listeners.forEach((l) => l("unavailable", reason));
  }
  return { ok: false, error: result.error };
}

const newId = (): string => crypto.randomUUID();

export const api = {
  databaseStatus: (): Promise<Outcome<DatabaseStatus>> => call(commands.databaseStatus()),
  listMachines: (query: ListQuery): Promise<Outcome<MachinePage>> => call(commands.listMachines(query)),
  statusCounts: (query: ListQuery): Promise<Outcome<StatusCount[]>> => call(commands.statusCounts(query)),
  machineTypes: (): Promise<Outcome<string[]>> => call(commands.machineTypes()),
  getMachine: (uid: string): Promise<Outcome<Machine>> => call(commands.getMachine(uid)),
  createMachine: (machine: MachineInput, uid: string = newId()): Promise<Outcome<Machine>> =>
    call(commands.createMachine({ write_id: newId(), uid, machine })),
  updateMachine: (uid: string, expectedVersion: number, machine: MachineInput): Promise<Outcome<Machine>> =>
    call(commands.updateMachine({ write_id: newId(), uid, expected_version: expectedVersion, machine })),
  setMachineStatus: (uid: string, status: OperationalStatus): Promise<Outcome<Machine>> =>
    call(commands.setMachineStatus({ write_id: newId(), uid, status })),
  deleteMachine: (uid: string, expectedVersion: number): Promise<Outcome<Machine>> =>
    call(commands.deleteMachine({ write_id: newId(), uid, expected_version: expectedVersion })),
};
