import type { OperationalStatus } from "../bindings";

/** A shape per status, so the badge reads without colour too (colour-blind operators). */
export const STATUS_SYMBOL: Record<OperationalStatus, string> = {
  Running: "▶",
  Idle: "‖",
  Maintenance: "⚙",
  Down: "■",
};

export function statusClass(status: OperationalStatus): string {
  return `status-${status.toLowerCase()}`;
}
