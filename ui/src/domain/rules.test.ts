import { describe, expect, it } from "vitest";
import {
  checkEfficiency,
  checkLastMaintenance,
  checkText,
  formsDiffer,
  localInputToUtc,
  parseEfficiency,
  utcToLocalInput,
  validateForm,
  type MachineForm,
} from "./rules";

const now = new Date("2026-01-01T12:00:00Z");
const good: MachineForm = {
  machine_name: "  CNC-001 ",
  machine_type: "Milling Machine",
  operational_status: "Running",
  efficiency: "85.5",
  last_maintenance_local: "2024-01-10T08:00",
};

describe("text fields mirror the server", () => {
  it("requires something besides spaces", () => {
    expect(checkText("", "Name")).toMatch(/required/);
    expect(checkText(" \t ", "Name")).toMatch(/required/);
  });
  it("refuses control characters and over-long text", () => {
    expect(checkText("CNC\u0000", "Name")).toMatch(/control/);
    expect(checkText("x".repeat(101), "Name")).toMatch(/at most 100/);
    expect(checkText("é".repeat(100), "Name")).toBeUndefined();
  });
});

describe("efficiency", () => {
  it("accepts 0 to 100 with a dot or a comma", () => {
    expect(parseEfficiency("85,5")).toBe(85.5);
    expect(checkEfficiency("0")).toBeUndefined();
    expect(checkEfficiency("100")).toBeUndefined();
  });
  it("refuses out of range, non-numbers and empty", () => {
    for (const bad of ["-5", "250", "100.01", "NaN", "Infinity", "1e999", "12abc", "", " "]) {
      expect(checkEfficiency(bad), bad).toBeDefined();
    }
  });
});

describe("last maintenance", () => {
  it("converts local input to a UTC instant and back", () => {
    const utc = localInputToUtc("2024-01-10T08:00");
    expect(utc).toMatch(/Z$/);
    expect(utcToLocalInput(utc ?? "")).toBe("2024-01-10T08:00");
  });
  it("refuses the future, missing and garbage values", () => {
    expect(checkLastMaintenance("2027-01-01T00:00", now)).toMatch(/future/);
    expect(checkLastMaintenance("", now)).toMatch(/required/);
    expect(checkLastMaintenance("yesterday", now)).toBeDefined();
    expect(checkLastMaintenance("1850-01-01T00:00", now)).toMatch(/1900/);
  });
});

describe("validateForm", () => {
  it("builds the trimmed input the server expects", () => {
    const result = validateForm(good, now);
    expect("input" in result && result.input).toMatchObject({
      machine_name: "CNC-001",
      efficiency: 85.5,
      operational_status: "Running",
    });
    expect("input" in result && result.input.last_maintenance).toMatch(/^2024-01-10T\d\d:00:00\.000Z$/);
  });
  it("reports each bad field", () => {
    const result = validateForm(
      { ...good, machine_name: "", operational_status: "Exploded", efficiency: "250" },
      now,
    );
    expect("errors" in result && Object.keys(result.errors)).toEqual([
      "machine_name",
      "operational_status",
      "efficiency",
    ]);
  });
  it("sees only meaningful differences as unsaved changes", () => {
    expect(formsDiffer(good, { ...good, machine_name: "CNC-001" })).toBe(false);
    expect(formsDiffer(good, { ...good, efficiency: "85.50" })).toBe(false);
    expect(formsDiffer(good, { ...good, efficiency: "86" })).toBe(true);
  });
});
