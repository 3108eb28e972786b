// The planner's ranges: the last N days up to now, or whole local days chosen by the planner.

export interface Range {
  from: string;
  to: string;
}

/** The last `days` days, up to `now`. */
export function lastDays(days: number, now: Date): Range {
  return { from: new Date(now.getTime() - days * 86_400_000).toISOString(), to: now.toISOString() };
}

/** From the start of local day `first` to the end of local day `last` (both `YYYY-MM-DD`), or
 * why not: a missing or reversed date. */
export function customRange(first: string, last: string): Range | string {
  const parse = (text: string): Date | null => {
    const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
    if (!match) return null;
    const [year, month, day] = [Number(match[1]), Number(match[2]) - 1, Number(match[3])];
    const date = new Date(year, month, day);
    // Date rolls 2024-13-45 over into 2025: only a day that exists is a day.
    return date.getFullYear() === year && date.getMonth() === month && date.getDate() === day ? date : null;
  };
  const from = parse(first);
  const to = parse(last);
  if (!from || !to) return "Choose both dates.";
  if (to < from) return "The last day must not be before the first.";
  const end = new Date(to.getFullYear(), to.getMonth(), to.getDate() + 1);
  return { from: from.toISOString(), to: end.toISOString() };
}
