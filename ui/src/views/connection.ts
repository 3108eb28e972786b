// The connection and the outbox, as the sync worker in Rust reports them through events: a pill
// in the header (online / offline / syncing, pending writes, last sync) and, while offline, a
// banner saying that work goes on and is sent later. The window never polls for this.

import type { SyncStatus } from "../bindings";
import { api, onSyncStatus } from "../api/client";
import { formatLocalDateTime } from "../domain/format";
import { el } from "./dom";

export class ConnectionMonitor {
  private last: SyncStatus | null = null;

  constructor(
    private readonly pill: HTMLElement,
    private readonly banner: HTMLElement,
    private readonly onChange: (status: SyncStatus, wentOnline: boolean) => void,
    private readonly lastSync: HTMLElement,
    private readonly onSignInRequired: () => void = () => {},
  ) {}

  async start(): Promise<void> {
    onSyncStatus((status) => void this.show(status));
    const initial = await api.syncStatus();
    if (initial.ok && this.last === null) await this.show(initial.value);
  }

  current(): SyncStatus | null {
    return this.last;
  }

  private async show(status: SyncStatus): Promise<void> {
    const wentOnline = status.connection === "online" && this.last?.connection !== "online";
    const changed = JSON.stringify(status) !== JSON.stringify(this.last);
    this.last = status;
    const waiting = status.pending > 0 ? ` · ${status.pending} pending` : "";
    const attention = status.needs_attention > 0 ? ` · ${status.needs_attention} need attention` : "";
    const synced = status.last_sync ? `Last sync ${formatLocalDateTime(status.last_sync)}` : "";
    this.pill.title = synced;
    this.lastSync.textContent = status.fault ? `${synced} · ⚠ ${status.fault}` : synced;
    this.lastSync.classList.toggle("fault", Boolean(status.fault));
    switch (status.connection) {
      case "online":
        this.pill.className = "db-pill online";
        this.pill.textContent = `● Online${waiting}${attention}`;
        this.banner.hidden = true;
        break;
      case "syncing":
        this.pill.className = "db-pill syncing";
        this.pill.textContent = `⟳ Syncing${waiting}${attention}`;
        break;
      case "offline":
        this.pill.className = "db-pill offline";
        this.pill.textContent = `■ Offline${waiting}${attention}`;
        if (changed) await this.showOfflineBanner(status);
        break;
    }
    if (changed) this.onChange(status, wentOnline);
  }

  private async showOfflineBanner(status: SyncStatus): Promise<void> {
    const detail = await api.databaseStatus();
    // An online status may have arrived while this call was under way: it wins.
    if (this.last?.connection !== "offline") return;
    this.banner.hidden = false;
    if (detail.ok && detail.value.health.state === "sign_in_required") this.onSignInRequired();
    if (detail.ok && detail.value.health.state === "needs_attention") {
      this.banner.className = "banner attention";
      this.banner.replaceChildren(
        el("strong", {}, "The database holds machines that break the registry's rules. "),
        "Nothing was changed. An administrator must act (README, Deploying in a plant), then restart the app:",
        el("pre", {}, detail.value.health.report),
      );
      return;
    }
    const where = detail.ok
      ? ` Database: ${detail.value.health.target.display} — set it in ${detail.value.config_file} or MES_DATABASE_URL.`
      : "";
    this.banner.className = "banner offline";
    this.banner.replaceChildren(
      el("strong", {}, "The database is unreachable"),
      ` (${status.reason ?? "unknown reason"}). You can keep working: changes are saved on this PC and sent when it is back. The list shows what was last seen. `,
      el("span", { class: "detail" }, where),
    );
  }
}
