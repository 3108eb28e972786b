// Client-side checks that mirror the server's rules (crates/core/src/domain), so an operator sees
// a problem as they type. The server checks again: these only save a round trip.

import type { MachineInput, OperationalStatus } from "../bindings";

export const STATUSES: readonly OperationalStatus[] = ["Running", "Idle", "Maintenance", "Down"];
export const MAX_TEXT_CHARS = 100;
const FUTURE_TOLERANCE_MS = 5 * 60 * 1000;

/** The form's raw values: what the inputs hold. */
export interface MachineForm {
  machine_name: string;
  machine_type: string;
  operational_status: string;
  efficiency: string;
  /** A `datetime-local` value ("2024-01-10T09:00"), in the operator's local time. */
  last_maintenance_local: string;
}

export type FieldErrors = Partial<Record<keyof MachineInput, string>>;

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

export function checkText(raw: string, label: string): string | undefined {
  const trimmed = raw.trim();
  if (trimmed === "") return `${label} is required`;
  if (CONTROL.test(trimmed)) return `${label} must not contain control characters`;
  const length = [...trimmed].length;
  if (length > MAX_TEXT_CHARS) return `${label} must be at most ${MAX_TEXT_CHARS} characters (got ${length})`;
  return undefined;
}

export function isStatus(raw: string): raw is OperationalStatus {
  return (STATUSES as readonly string[]).includes(raw);
}

/** Parses the efficiency field; `null` when it is not a finite number. */
export function parseEfficiency(raw: string): number | null {
  const text = raw.trim().replace(",", ".");
  if (text === "" || !/^[+-]?(\d+\.?\d*|\.\d+)$/.test(text)) return null;
  const value = Number(text);
  return Number.isFinite(value) ? value : null;
}

export function checkEfficiency(raw: string): string | undefined {
  if (raw.trim() === "") return "Efficiency is required: a number from 0 to 100";
  const value = parseEfficiency(raw);
  if (value === null) return "Efficiency must be a number from 0 to 100";
  if (value < 0 || value > 100) return `Efficiency must be from 0 to 100 percent (got ${value})`;
  return undefined;
}

/** Converts a `datetime-local` value (local wall time) to a UTC instant ending in Z. */
export function localInputToUtc(local: string): string | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(local)) return null;
  const date = new Date(local); // no offset in the text: JavaScript reads it as local time
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** Converts a UTC instant to a `datetime-local` value in local time (minute precision). */
export function utcToLocalInput(instant: string): string {
  const date = new Date(instant);
  if (Number.isNaN(date.getTime())) return "";
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

export function checkLastMaintenance(local: string, now: Date): string | undefined {
  if (local.trim() === "") return "Last maintenance is required";
  const utc = localInputToUtc(local);
  if (utc === null) return "Last maintenance must be a date and time";
  const time = new Date(utc).getTime();
  if (time > now.getTime() + FUTURE_TOLERANCE_MS) return "Last maintenance cannot be in the future";
  if (new Date(utc).getUTCFullYear() < 1900) return "Last maintenance must be after 1900";
  return undefined;
}

/** Checks every field; returns the input to send, or the errors per field. */
export function validateForm(form: MachineForm, now: Date): { input: MachineInput } | { errors: FieldErrors } {
  const errors: FieldErrors = {};
  const name = checkText(form.machine_name, "Name");
  if (name) errors.machine_name = name;
  const type = checkText(form.machine_type, "Type");
  if (type) errors.machine_type = type;
  if (!isStatus(form.operational_status)) {
    errors.operational_status = "Status must be one of Running, Idle, Maintenance, Down";
  }
  const efficiency = checkEfficiency(form.efficiency);
  if (efficiency) errors.efficiency = efficiency;
  const last = checkLastMaintenance(form.last_maintenance_local, now);
  if (last) errors.last_maintenance = last;
  if (Object.keys(errors).length > 0) return { errors };
  return {
    input: {
      machine_name: form.machine_name.trim(),
      machine_type: form.machine_type.trim(),
      operational_status: form.operational_status,
      efficiency: parseEfficiency(form.efficiency),
      last_maintenance: localInputToUtc(form.last_maintenance_local) ?? "",
    },
  };
}

/** True when two forms differ in what would be saved (for the unsaved-changes guard). */
export function formsDiffer(a: MachineForm, b: MachineForm): boolean {
  return (
    a.machine_name.trim() !== b.machine_name.trim() ||
    a.machine_type.trim() !== b.machine_type.trim() ||
    a.operational_status !== b.operational_status ||
    parseEfficiency(a.efficiency) !== parseEfficiency(b.efficiency) ||
    a.last_maintenance_local !== b.last_maintenance_local
  );
}
