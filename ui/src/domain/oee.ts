// OEE's words and numbers for the window: percentages, the loss categories' names, and the
// explanation of each figure (shown on hover) with the shift's own times and counts.

import type { LossCategory, OeeFigures, OeeTotals, Waterfall } from "../bindings";

export const CATEGORY_LABEL: Record<LossCategory, string> = {
  breakdown: "Breakdown",
  setup_adjustment: "Set-up and adjustment",
  small_stop: "Small stops",
  reduced_speed: "Reduced speed",
  startup_reject: "Start-up rejects",
  production_reject: "Production rejects",
};

/** The categories a downtime event can be recorded under (the others are computed). */
export const DOWNTIME_CATEGORIES: readonly LossCategory[] = ["breakdown", "setup_adjustment", "small_stop"];

/** A number that crossed from Rust (NaN and infinities arrive as null: none here, by the rules). */
export const num = (x: number | null | undefined): number => x ?? 0;

/** A fraction as a percentage with one decimal; "—" when there is nothing to divide by. */
export function formatPercent(fraction: number | null | undefined): string {
  if (fraction === null || fraction === undefined || !Number.isFinite(fraction)) return "—";
  return `${(fraction * 100).toLocaleString(undefined, { minimumFractionDigits: 1, maximumFractionDigits: 1 })} %`;
}

function minutes(seconds: number): string {
  return `${(seconds / 60).toLocaleString(undefined, { maximumFractionDigits: 1 })} min`;
}

function count(n: number): string {
  return n.toLocaleString(undefined, { maximumFractionDigits: 0 });
}

export interface FigureExplanations {
  availability: string;
  performance: string;
  quality: string;
  oee: string;
}

/** How each figure was made from these sums (ISO 22400-2), in words and numbers. */
export function explain(totals: OeeTotals, figures: OeeFigures, waterfall: Waterfall): FigureExplanations {
  const good = Math.max(0, num(totals.produced) - num(totals.startup_rejects) - num(totals.production_rejects));
  return {
    availability:
      figures.availability === null || figures.availability === undefined
        ? "Availability: no planned busy time (the shift was planned stops only)."
        : `Availability = actual production time ÷ planned busy time = ${minutes(num(waterfall.actual_production_s))} ÷ ${minutes(num(totals.planned_busy_s))} = ${formatPercent(figures.availability)}. Breakdowns and set-up take from it.`,
    performance:
      figures.performance === null || figures.performance === undefined
        ? "Performance: no production time to measure speed against."
        : `Performance = ideal cycle time × parts made ÷ actual production time = ${minutes(num(totals.ideal_produced_s))} ÷ ${minutes(num(waterfall.actual_production_s))} = ${formatPercent(figures.performance)}. Small stops and slow running take from it.`,
    quality:
      figures.quality === null || figures.quality === undefined
        ? "Quality: no parts made."
        : `Quality = good parts ÷ parts made = ${count(good)} ÷ ${count(num(totals.produced))} = ${formatPercent(figures.quality)} (weighed by ideal time). Start-up and production rejects take from it.`,
    oee:
      figures.oee === null || figures.oee === undefined
        ? "OEE: no planned busy time."
        : `OEE = availability × performance × quality = fully productive time ÷ planned busy time = ${minutes(num(waterfall.fully_productive_s))} ÷ ${minutes(num(totals.planned_busy_s))} = ${formatPercent(figures.oee)}.`,
  };
}
