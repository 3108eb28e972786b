// Alerts: the header button with the count of unread alerts, and the dialog that lists them
// (newest first, unread marked) with this user's alert settings. Opening the list marks what it
// shows as read. New alerts arrive as events from Rust; nothing here polls.

import type { Alert, AlertKind, AlertSettings } from "../bindings";
import { api, onAlerts } from "../api/client";
import { describeError } from "../api/messages";
import { formatLocalDateTime } from "../domain/format";
import { el } from "./dom";

const KIND_LABEL: Record<AlertKind, string> = {
  down: "Down",
  overdue: "Maintenance overdue",
  below_target: "Below target",
};

/** The planner view's target lives here too, so both say the same number. */
export const TARGET_KEY = "mes-efficiency-target";

export class AlertsView {
  /** False when the user's database role may not read the change history alerts come from. */
  historyReadable = true;

  constructor(
    private readonly button: HTMLButtonElement,
    private readonly dialog: HTMLDialogElement,
  ) {
    button.addEventListener("click", () => void this.open());
    onAlerts(() => void this.refresh());
  }

  /** Reads the unread count (at start, after sign-in); and the target into the planner's key. */
  async start(): Promise<void> {
    await this.refresh();
    const settings = await api.alertSettings();
    if (settings.ok) window.localStorage.setItem(TARGET_KEY, String(settings.value.efficiency_target));
  }

  private async refresh(): Promise<void> {
    const list = await api.alerts();
    if (!list.ok) return;
    this.setUnread(list.value.unread);
    if (this.dialog.open) this.renderList(list.value.alerts);
  }

  private setUnread(unread: number): void {
    this.button.textContent = unread > 0 ? `Alerts (${unread})` : "Alerts";
    this.button.classList.toggle("has-alerts", unread > 0);
    this.button.setAttribute("aria-label", unread > 0 ? `Alerts, ${unread} unread` : "Alerts");
  }

  async open(): Promise<void> {
    const [list, settings] = await Promise.all([api.alerts(), api.alertSettings()]);
    const close = el("button", { type: "button", class: "ghost", "data-role": "close" }, "Close");
    close.addEventListener("click", () => this.dialog.close());
    const listSlot = el("div", { id: "alert-list" });
    this.dialog.replaceChildren(
      el("h2", { id: "alerts-title" }, "Alerts"),
      el(
        "p",
        { class: "hint" },
        "Raised for changes by anyone (this and other PCs, other tools) while this app is connected. Kept on this PC for this user (the newest 500).",
      ),
      this.historyReadable
        ? ""
        : el(
            "p",
            { id: "alerts-unavailable", class: "banner attention" },
            "Your database role may not read the change history, so no alerts can be raised for you (an administrator can put you in the mes_viewer group).",
          ),
      listSlot,
      settings.ok ? this.settingsForm(settings.value) : el("p", { class: "form-message" }, `The alert settings could not be read. ${describeError(settings.error)}`),
      el("div", { class: "dialog-actions" }, close),
    );
    if (list.ok) this.renderList(list.value.alerts);
    else listSlot.replaceChildren(el("p", { class: "form-message" }, `The alerts could not be read. ${describeError(list.error)}`));
    this.dialog.showModal();
    close.focus();
    const newest = list.ok ? list.value.alerts[0] : undefined;
    if (newest && list.ok && list.value.unread > 0) {
      const marked = await api.markAlertsRead(newest.id);
      if (marked.ok) this.setUnread(marked.value.unread);
    }
  }

  private renderList(alerts: Alert[]): void {
    const slot = this.dialog.querySelector("#alert-list");
    if (!slot) return;
    if (alerts.length === 0) {
      slot.replaceChildren(el("p", { class: "empty-alerts" }, "No alerts yet."));
      return;
    }
    slot.replaceChildren(
      el(
        "table",
        { class: "history alerts", "aria-label": "Alerts" },
        el("thead", {}, el("tr", {}, el("th", {}, "When"), el("th", {}, "What"), el("th", {}, "Alert"), el("th", {}, "By"))),
        el(
          "tbody",
          {},
          ...alerts.map((alert) =>
            el(
              "tr",
              { class: alert.read ? "" : "unread", "data-kind": alert.kind },
              el("td", { title: alert.at }, formatLocalDateTime(alert.at)),
              el("td", {}, KIND_LABEL[alert.kind]),
              el("td", {}, alert.message),
              el("td", {}, alert.by ?? "—"),
            ),
          ),
        ),
      ),
    );
  }

  private settingsForm(current: AlertSettings): HTMLElement {
    const box = (id: string, label: string, checked: boolean): [HTMLInputElement, HTMLElement] => {
      const input = el("input", { id, type: "checkbox" });
      input.checked = checked;
      return [input, el("label", { for: id, class: "check" }, input, ` ${label}`)];
    };
    const [down, downLabel] = box("alert-on-down", "A machine goes Down", current.on_down);
    const [overdue, overdueLabel] = box("alert-on-overdue", "Maintenance becomes overdue", current.on_overdue);
    const [below, belowLabel] = box("alert-on-below", "Efficiency falls below the target", current.on_below_target);
    const [desktop, desktopLabel] = box("alert-desktop", "Also as desktop notifications", current.desktop);
    const target = el("input", { id: "alert-target", type: "number", min: "0", max: "100", step: "0.1" });
    target.value = String(current.efficiency_target);
    const message = el("p", { class: "form-message", role: "status", "aria-live": "polite" });
    const save = el("button", { type: "submit", class: "primary" }, "Save settings");
    const form = el(
      "form",
      { id: "alert-settings", class: "alert-settings", novalidate: "" },
      el(
        "fieldset",
        {},
        el("legend", {}, "Alert me when"),
        downLabel,
        overdueLabel,
        belowLabel,
        el("label", { for: "alert-target" }, "Efficiency target (%) ", target),
        desktopLabel,
      ),
      message,
      save,
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const value = target.value.trim() === "" ? Number.NaN : Number(target.value);
      if (!Number.isFinite(value) || value < 0 || value > 100) {
        message.textContent = "The target is a percentage from 0 to 100.";
        target.setAttribute("aria-invalid", "true");
        target.focus();
        return;
      }
      void api
        .saveAlertSettings({
          desktop: desktop.checked,
          on_down: down.checked,
          on_overdue: overdue.checked,
          on_below_target: below.checked,
          efficiency_target: value,
        })
        .then((saved) => {
          if (saved.ok) {
            window.localStorage.setItem(TARGET_KEY, String(saved.value.efficiency_target));
            message.textContent = "Saved. They apply to alerts from now on.";
            target.removeAttribute("aria-invalid");
          } else {
            message.textContent = describeError(saved.error);
            target.setAttribute("aria-invalid", "true");
            target.focus();
          }
        });
    });
    return form;
  }
}

/** Saves a new efficiency target into the alert settings (the planner view's target input). */
export async function saveTarget(target: number): Promise<void> {
  const settings = await api.alertSettings();
  if (settings.ok && settings.value.efficiency_target !== target) {
    await api.saveAlertSettings({ ...settings.value, efficiency_target: target });
  }
}
