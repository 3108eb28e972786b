// The only door to Rust: thin wrappers over the generated bindings. Each call resolves to an
// Outcome (never throws for a command's own error). The connection's state arrives as events.

import {
  commands,
  events,
  type CommandError,
  type OutboxEntry,
  type QueuedWrite,
  type SyncStatus,
  type AlertList,
  type MachineChange,
  type AlertSettings,
  type WriteOutcome,
  type DatabaseStatus,
  type ConnectionSettings,
  type ConnectionTest,
  type SessionInfo,
  type FleetEfficiency,
  type ReliabilityReport,
  type TimeRange,
  type MachineTimeline,
  type MaintenancePlan,
  type ExportFormat,
  type ExportRequest,
  type ExportedFile,
  type ImportReport,
  type MaintenanceRecord,
  type HistoryEntry,
  type ListQuery_Deserialize,
  type Machine,
  type MachineInput,
  type MachinePage,
  type OperationalStatus,
  type StatusCount,
  type RecordShift,
  type ShiftPreview,
  type ShiftFormLists,
  type LossReason,
  type NewLossReason,
  type OeeGroup,
  type OeeGrouping,
  type OeeDay,
  type DowntimePareto,
} from "../bindings";

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: CommandError };
export type ListQuery = ListQuery_Deserialize;

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
  return result.status === "ok" ? { ok: true, value: result.data } : { ok: false, error: result.error };
}

const newId = (): string => crypto.randomUUID();

export const api = {
  databaseStatus: (): Promise<Outcome<DatabaseStatus>> => call(commands.databaseStatus()),
  sessionInfo: (): Promise<Outcome<SessionInfo>> => call(commands.sessionInfo()),
  signIn: (user: string, password: string, remember: boolean): Promise<Outcome<string | null>> =>
    call(commands.signIn(user, password === "" ? null : password, remember)),
  signOut: (): Promise<Outcome<null>> => call(commands.signOut()),
  testConnection: (settings: ConnectionSettings, user: string, password: string): Promise<Outcome<ConnectionTest>> =>
    call(commands.testConnection(settings, user.trim() === "" ? null : user.trim(), password === "" ? null : password)),
  saveConnection: (settings: ConnectionSettings): Promise<Outcome<null>> => call(commands.saveConnection(settings)),
  listMachines: (query: ListQuery): Promise<Outcome<MachinePage>> => call(commands.listMachines(query)),
  statusCounts: (query: ListQuery): Promise<Outcome<StatusCount[]>> => call(commands.statusCounts(query)),
  machineTypes: (): Promise<Outcome<string[]>> => call(commands.machineTypes()),
  getMachine: (uid: string): Promise<Outcome<Machine>> => call(commands.getMachine(uid)),
  machineHistory: (uid: string): Promise<Outcome<HistoryEntry[]>> => call(commands.machineHistory(uid)),
  createMachine: (machine: MachineInput, uid: string = newId()): Promise<Outcome<WriteOutcome>> =>
    call(commands.createMachine({ write_id: newId(), uid, machine })),
  /** `efficiencySeen`: the efficiency the form showed (kept as it is now when left unchanged). */
  updateMachine: (uid: string, expectedVersion: number, machine: MachineInput, efficiencySeen: number | null = null): Promise<Outcome<WriteOutcome>> =>
    call(commands.updateMachine({ write_id: newId(), uid, expected_version: expectedVersion, efficiency_seen: efficiencySeen, machine })),
  setMachineStatus: (uid: string, status: OperationalStatus): Promise<Outcome<WriteOutcome>> =>
    call(commands.setMachineStatus({ write_id: newId(), uid, status })),
  deleteMachine: (uid: string, expectedVersion: number): Promise<Outcome<WriteOutcome>> =>
    call(commands.deleteMachine({ write_id: newId(), uid, expected_version: expectedVersion })),
  syncStatus: (): Promise<Outcome<SyncStatus>> => call(commands.syncStatus()),
  reliability: (range: TimeRange): Promise<Outcome<ReliabilityReport>> => call(commands.reliability(range)),
  fleetEfficiency: (target: number): Promise<Outcome<FleetEfficiency>> => call(commands.fleetEfficiency(target)),
  machineTimeline: (uid: string, range: TimeRange): Promise<Outcome<MachineTimeline>> =>
    call(commands.machineTimeline(uid, range)),
  maintenancePlan: (): Promise<Outcome<MaintenancePlan>> => call(commands.maintenancePlan()),
  maintenanceLog: (uid: string): Promise<Outcome<MaintenanceRecord[]>> => call(commands.maintenanceLog(uid)),
  /** Sends only what changed: `undefined` leaves that field as it is on the server. */
  planMaintenance: (uid: string, intervalDays: number | null | undefined, plannedFor: string | null | undefined): Promise<Outcome<WriteOutcome>> =>
    call(
      commands.planMaintenance({
        write_id: newId(),
        uid,
        sets_interval: intervalDays !== undefined,
        interval_days: intervalDays ?? null,
        sets_planned_for: plannedFor !== undefined,
        planned_for: plannedFor ?? null,
      }),
    ),
  recordMaintenance: (uid: string, doneAt: string, note: string): Promise<Outcome<WriteOutcome>> =>
    call(commands.recordMaintenance({ write_id: newId(), uid, done_at: doneAt, note })),
  setTypeInterval: (machineType: string, intervalDays: number | null): Promise<Outcome<null>> =>
    call(commands.setTypeInterval({ machine_type: machineType, interval_days: intervalDays })),
  /** The shift's figures or the rules it breaks, worked out on this PC (offline too). */
  previewShift: async (write: RecordShift): Promise<ShiftPreview> => {
    try {
      return await commands.previewShift(write);
    } catch (thrown) {
      const message = thrown instanceof Error ? thrown.message : String(thrown);
      return { figures: null, waterfall: null, totals: null, errors: [{ field: "form", message }] };
    }
  },
  recordShift: (write: RecordShift): Promise<Outcome<WriteOutcome>> => call(commands.recordShift(write)),
  shiftFormLists: (): Promise<Outcome<ShiftFormLists>> => call(commands.shiftFormLists()),
  setIdealCycleTime: (machineType: string, seconds: number | null): Promise<Outcome<null>> =>
    call(commands.setIdealCycleTime({ machine_type: machineType, ideal_cycle_s: seconds })),
  addLossReason: (reason: NewLossReason): Promise<Outcome<LossReason>> => call(commands.addLossReason(reason)),
  retireLossReason: (id: string): Promise<Outcome<LossReason>> => call(commands.retireLossReason(id)),
  oeeReport: (range: TimeRange, grouping: OeeGrouping): Promise<Outcome<OeeGroup[]>> => call(commands.oeeReport(range, grouping)),
  oeeTrend: (range: TimeRange, grouping: OeeGrouping, key: string | null): Promise<Outcome<OeeDay[]>> =>
    call(commands.oeeTrend(range, grouping, key)),
  downtimePareto: (range: TimeRange, grouping: OeeGrouping, key: string | null): Promise<Outcome<DowntimePareto>> =>
    call(commands.downtimePareto(range, grouping, key)),
  machineOee: (range: TimeRange, uid: string): Promise<Outcome<OeeGroup>> => call(commands.machineOee(range, uid)),
  exportTable: (request: ExportRequest, format: ExportFormat): Promise<Outcome<ExportedFile>> =>
    call(commands.exportTable(request, format)),
  importMachines: (csv: string, apply: boolean): Promise<Outcome<ImportReport>> => call(commands.importMachines(csv, apply)),
  importShifts: (csv: string, apply: boolean): Promise<Outcome<ImportReport>> => call(commands.importShifts(csv, apply)),
  alerts: (): Promise<Outcome<AlertList>> => call(commands.alerts()),
  markAlertsRead: (upTo: number): Promise<Outcome<AlertList>> => call(commands.markAlertsRead(upTo)),
  alertSettings: (): Promise<Outcome<AlertSettings>> => call(commands.alertSettings()),
  saveAlertSettings: (settings: AlertSettings): Promise<Outcome<AlertSettings>> => call(commands.saveAlertSettings(settings)),
  outboxEntries: (): Promise<Outcome<OutboxEntry[]>> => call(commands.outboxEntries()),
  discardWrite: (seq: number): Promise<Outcome<boolean>> => call(commands.discardWrite(seq)),
  retryWrite: (seq: number, write: QueuedWrite): Promise<Outcome<boolean>> => call(commands.retryWrite(seq, write)),
  /** A fresh write id, for writes built by the caller (retries). */
  newId,
};

/** Called with every status the sync worker in Rust sends (no polling here). */
export function onSyncStatus(listener: (status: SyncStatus) => void): void {
  void events.syncStatusChanged.listen((event) => listener(event.payload));
}

/** Called when the alert watch in Rust kept new alerts (the list is then read again). */
export function onAlerts(listener: (newAlerts: number) => void): void {
  void events.alertsArrived.listen((event) => listener(event.payload.new_alerts));
}

/** Called with each batch of machines changed by anyone (announced by the database). */
export function onMachinesChanged(listener: (changes: MachineChange[]) => void): void {
  void events.machinesChanged.listen((event) => listener(event.payload.changes));
}
