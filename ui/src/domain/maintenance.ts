// The maintenance plan's input rules, as the server applies them (checked here first so the
// planner sees the reason at the field).

export const MAX_INTERVAL_DAYS = 3650;

/** A plan's interval: blank (`null`: the type's applies) or 1–3650 whole days; else the reason. */
export function parseInterval(raw: string): number | null | string {
  const text = raw.trim();
  if (text === "") return null;
  const days = Number(text);
  if (!Number.isInteger(days) || days < 1 || days > MAX_INTERVAL_DAYS) {
    return `A whole number of days from 1 to ${MAX_INTERVAL_DAYS}, or blank for the type's interval`;
  }
  return days;
}
