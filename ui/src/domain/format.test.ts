import { describe, expect, it } from "vitest";
import { formatAge, formatEfficiency, formatPageRange } from "./format";

describe("formatting", () => {
  it("shows efficiency as a percentage with one decimal", () => {
    expect(formatEfficiency(85.5)).toBe("85.5 %");
    expect(formatEfficiency(0)).toBe("0.0 %");
    expect(formatEfficiency(null)).toBe("—");
  });
  it("says how long ago in words", () => {
    const now = new Date("2024-01-13T08:00:00Z");
    expect(formatAge("2024-01-10T08:00:00Z", now)).toBe("3 days ago");
    expect(formatAge("2024-01-13T07:59:30Z", now)).toBe("just now");
    expect(formatAge("2023-01-01T00:00:00Z", now)).toBe("last year");
  });
  it("describes the page range", () => {
    expect(formatPageRange(0, 100, 100000)).toBe("1–100 of 100,000");
    expect(formatPageRange(0, 0, 0)).toBe("No machines");
  });
});

import { formatDuration } from "./format";

describe("formatDuration", () => {
  it("reads as a planner says it", () => {
    expect(formatDuration(null)).toBe("—");
    expect(formatDuration(40 * 60)).toBe("40 min");
    expect(formatDuration(2 * 3600 + 5 * 60)).toBe("2 h 5 min");
    expect(formatDuration(6 * 3600)).toBe("6 h");
    expect(formatDuration(3 * 86400 + 4 * 3600)).toBe("3 d 4 h");
    expect(formatDuration(10 * 86400)).toBe("10 d");
  });
});
