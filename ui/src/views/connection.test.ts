// @vitest-environment happy-dom
import { describe, expect, it, vi } from "vitest";
import type { DatabaseStatus, SyncStatus } from "../bindings";

// The monitor talks to Rust through ../api/client: replaced here by a listener the test drives
// and a database status call whose answer the test releases when it wants.
let push: (status: SyncStatus) => void = () => undefined;
let answer: (status: DatabaseStatus) => void = () => undefined;
vi.mock("../api/client", () => ({
  onSyncStatus: (listener: (status: SyncStatus) => void) => {
    push = listener;
  },
  api: {
    syncStatus: () => new Promise(() => undefined),
    databaseStatus: () =>
      new Promise((resolve) => {
        answer = (status) => resolve({ ok: true, value: status });
      }),
  },
}));

const { ConnectionMonitor } = await import("./connection");

function status(connection: SyncStatus["connection"]): SyncStatus {
  return { connection, reason: connection === "offline" ? "refused" : null, pending: 0, needs_attention: 0, last_sync: null, fault: null };
}

describe("the connection monitor", () => {
  it("does not leave the offline banner up when the database came back during its status call", async () => {
    const [pill, banner, lastSync] = [document.createElement("span"), document.createElement("div"), document.createElement("span")];
    banner.hidden = true;
    const monitor = new ConnectionMonitor(pill, banner, () => undefined, lastSync);
    void monitor.start();
    push(status("offline")); // asks the database's status (slow)…
    push(status("online")); // …and the database is back before the answer
    expect(banner.hidden).toBe(true);
    answer({
      health: { state: "unavailable", target: { display: "mes@db:5432/mes", source: "environment", insecure: false }, reason: "refused" },
      config_file: "/x/config.toml",
    });
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(banner.hidden).toBe(true);
    expect(pill.textContent).toContain("Online");
  });

  it("shows a background task's failure next to the last sync", () => {
    const [pill, banner, lastSync] = [document.createElement("span"), document.createElement("div"), document.createElement("span")];
    const monitor = new ConnectionMonitor(pill, banner, () => undefined, lastSync);
    void monitor.start();
    push({ ...status("online"), fault: "The sync worker stopped unexpectedly and was restarted." });
    expect(lastSync.textContent).toContain("restarted");
  });
});
