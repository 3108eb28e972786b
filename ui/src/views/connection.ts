// The database's state in the header and, when it is away, in a banner. While away, the health
// is re-checked with backoff (1 s doubling to 15 s) and the window recovers by itself.

import type { DatabaseStatus } from "../bindings";
import { api, onConnectivity } from "../api/client";
import { el } from "./dom";

const MAX_RETRY_MS = 15_000;
// While online, a cheap health check notices a lost database even when nobody clicks.
const ONLINE_CHECK_MS = 5_000;

export class ConnectionMonitor {
  private online: boolean | null = null;
  private retryMs = 1000;
  private timer: number | undefined;
  /** Where the database is and how to configure it, from the last health check. */
  private detail: string | undefined;

  constructor(
    private readonly pill: HTMLElement,
    private readonly banner: HTMLElement,
    private readonly onRecovered: () => void,
  ) {
    onConnectivity((state, reason) => {
      if (state === "online") this.markOnline();
      else this.markUnavailable(reason ?? "unknown reason");
    });
  }

  async check(): Promise<void> {
    const outcome = await api.databaseStatus();
    if (!outcome.ok) {
      if (outcome.error.kind !== "DatabaseUnavailable") this.markUnavailable("the status check failed");
      return;
    }
    this.show(outcome.value);
  }

  private show(status: DatabaseStatus): void {
    const health = status.health;
    switch (health.state) {
      case "online":
        this.pill.title = `Connected to ${health.target.display}`;
        this.markOnline();
        break;
      case "unavailable":
        this.detail = `Database: ${health.target.display} — set it in ${status.config_file} or MES_DATABASE_URL.`;
        this.markUnavailable(health.reason);
        break;
      case "needs_attention":
        this.online = false;
        this.pill.className = "db-pill attention";
        this.pill.textContent = "Database needs attention";
        this.banner.hidden = false;
        this.banner.className = "banner attention";
        this.banner.replaceChildren(
          el("strong", {}, "The database holds machines that break the registry's rules. "),
          "Nothing was changed. An administrator must fix these rows, then restart the app:",
          el("pre", {}, health.report),
        );
        this.schedule(MAX_RETRY_MS);
        break;
    }
  }

  private markOnline(): void {
    const wasOffline = this.online === false;
    this.online = true;
    this.retryMs = 1000;
    this.pill.className = "db-pill online";
    this.pill.textContent = "● Database online";
    this.banner.hidden = true;
    this.schedule(ONLINE_CHECK_MS);
    if (wasOffline) this.onRecovered();
  }

  private markUnavailable(reason: string): void {
    const already = this.online === false;
    this.online = false;
    this.pill.className = "db-pill offline";
    this.pill.textContent = "■ Database unreachable";
    this.banner.hidden = false;
    this.banner.className = "banner offline";
    const seconds = Math.round(this.retryMs / 1000);
    this.banner.replaceChildren(
      el("strong", {}, "The database is unreachable"),
      ` (${reason}). The list shows what was last loaded and may be out of date; changes cannot be saved right now. `,
      `Retrying automatically (next in ${seconds} s)…`,
      this.detail ? el("span", { class: "detail" }, ` ${this.detail}`) : "",
    );
    if (!already) this.retryMs = 1000;
    this.schedule(this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
  }

  private schedule(ms: number): void {
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(() => void this.check(), ms);
  }
}
