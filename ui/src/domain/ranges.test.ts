import { describe, expect, it } from "vitest";
import { customRange, lastDays } from "./ranges";

describe("planner ranges", () => {
  it("takes the last days up to now", () => {
    const now = new Date("2024-03-31T12:00:00Z");
    expect(lastDays(7, now)).toEqual({ from: "2024-03-24T12:00:00.000Z", to: "2024-03-31T12:00:00.000Z" });
  });

  it("takes whole local days, the last one included", () => {
    const range = customRange("2024-03-01", "2024-03-01");
    expect(typeof range).toBe("object");
    if (typeof range === "object") {
      expect(new Date(range.to).getTime() - new Date(range.from).getTime()).toBeGreaterThanOrEqual(23 * 3600_000);
      expect(new Date(range.from).getDate()).toBe(1);
    }
  });

  it("refuses a reversed or missing date with a reason", () => {
    expect(customRange("2024-03-02", "2024-03-01")).toBe("The last day must not be before the first.");
    expect(customRange("", "2024-03-01")).toBe("Choose both dates.");
    expect(customRange("2024-13-45", "2024-03-01")).toBe("Choose both dates.");
  });
});
