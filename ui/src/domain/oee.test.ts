import { describe, expect, it } from "vitest";
import type { OeeFigures, OeeTotals, Waterfall } from "../bindings";
import { explain, formatPercent } from "./oee";

const totals: OeeTotals = {
  planned_busy_s: 28_800,
  breakdown_s: 2_880,
  setup_s: 0,
  small_stop_s: 0,
  produced: 400,
  startup_rejects: 0,
  production_rejects: 40,
  ideal_produced_s: 24_000,
  ideal_startup_rejects_s: 0,
  ideal_production_rejects_s: 2_400,
  shifts: 1,
};
const waterfall = { actual_production_s: 25_920, fully_productive_s: 21_600 } as Waterfall;
const figures: OeeFigures = { availability: 0.9, performance: 24_000 / 25_920, quality: 0.9, oee: 0.75 };

describe("OEE words", () => {
  it("shows fractions as percentages and nothing to divide by as a dash", () => {
    expect(formatPercent(0.75)).toMatch(/^75[.,]0 %$/);
    expect(formatPercent(null)).toBe("—");
    expect(formatPercent(Number.NaN)).toBe("—");
  });

  it("explains each figure with the shift's own numbers", () => {
    const words = explain(totals, figures, waterfall);
    expect(words.availability).toContain("432 min ÷ 480 min");
    expect(words.quality).toContain("360 ÷ 400");
    expect(words.oee).toContain("360 min ÷ 480 min");
  });

  it("says why a figure is missing", () => {
    const none: OeeFigures = { availability: null, performance: null, quality: null, oee: null };
    expect(explain({ ...totals, planned_busy_s: 0 }, none, waterfall).availability).toContain("no planned busy time");
  });
});
