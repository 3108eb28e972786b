// Who is working and where the database is: the first-run connection screen (also reachable
// later from the header), the sign-in screen, the signed-in user with sign-out in the header,
// warnings about the config file, and other users' writes waiting on this PC. After a change of
// session the window starts over (reload), so nothing of the previous user's view lingers.

import type { ConnectionSettings, SessionInfo } from "../bindings";
import { api } from "../api/client";
import { describeError } from "../api/messages";
import { confirmDialog } from "./confirm";
import { el } from "./dom";

const DEFAULT_SETTINGS: ConnectionSettings = {
  host: "localhost",
  port: 5432,
  database: "mes",
  sslrootcert: null,
  allow_insecure: false,
  pgbouncer: false,
};

function field(id: string, label: string, control: HTMLElement, hint?: string): HTMLElement {
  return el(
    "div",
    { class: "field" },
    el("label", { for: id }, label),
    control,
    hint ? el("p", { class: "hint" }, hint) : null,
  );
}

function input(id: string, value: string, props: Record<string, string> = {}): HTMLInputElement {
  const node = el("input", { id, autocomplete: "off", spellcheck: "false", ...props });
  node.value = value;
  return node;
}

/** The connection screen. `firstRun`: there is nothing to go back to, so no Cancel. */
export function showConnectionDialog(dialog: HTMLDialogElement, info: SessionInfo, firstRun: boolean, problem?: string): void {
  const current = info.settings ?? DEFAULT_SETTINGS;
  const host = input("conn-host", current.host, { required: "" });
  const port = input("conn-port", String(current.port), { inputmode: "numeric" });
  const database = input("conn-database", current.database, { required: "" });
  const ca = input("conn-ca", current.sslrootcert ?? "");
  const insecure = el("input", { id: "conn-insecure", type: "checkbox" });
  insecure.checked = current.allow_insecure;
  const pgbouncer = el("input", { id: "conn-pgbouncer", type: "checkbox" });
  pgbouncer.checked = current.pgbouncer ?? false;
  const user = input("conn-user", info.state.state === "signed_in" ? info.state.user : "");
  const password = input("conn-password", "", { type: "password" });
  const result = el("p", { id: "connection-result", class: "hint", role: "status", "aria-live": "polite" });
  const test = el("button", { type: "button", id: "test-connection" }, "Test connection");
  const save = el("button", { type: "submit", class: "primary", id: "save-connection" }, "Save");
  const cancel = el("button", { type: "button", class: "ghost", "data-role": "cancel" }, "Cancel");
  const read = (): ConnectionSettings | string => {
    const portNumber = Number(port.value.trim());
    if (!Number.isInteger(portNumber) || portNumber < 1 || portNumber > 65535) return "The port is a number from 1 to 65535.";
    if (host.value.trim() === "") return "Enter the database server's host name or address.";
    if (database.value.trim() === "") return "Enter the database name.";
    return {
      host: host.value.trim(),
      port: portNumber,
      database: database.value.trim(),
      sslrootcert: ca.value.trim() === "" ? null : ca.value.trim(),
      allow_insecure: insecure.checked,
      pgbouncer: pgbouncer.checked,
    };
  };
  const form = el(
    "form",
    { class: "machine-form", method: "dialog", id: "connection-form" },
    el("h2", { id: "connection-title" }, firstRun ? "Where is the plant database?" : "Database connection"),
    problem ? el("p", { class: "form-message", role: "alert" }, problem) : null,
    info.settings_from_environment
      ? el("p", { class: "hint" }, "MES_DATABASE_URL is set for this app: it is used instead of these settings while it is set.")
      : null,
    field("conn-host", "Host", host, "The database server's name or address; for a replicated database, its servers separated by commas (db1,db2 or db1:5432,db2:5433): the one accepting writes is used"),
    field("conn-port", "Port", port),
    field("conn-database", "Database", database),
    field("conn-ca", "TLS CA file", ca, "The plant CA's certificate (PEM). Empty: the system's trusted authorities."),
    el("div", { class: "field checkbox" }, el("label", { for: "conn-insecure" }, insecure, " Allow an unverified connection (not recommended)")),
    el(
      "div",
      { class: "field checkbox" },
      el("label", { for: "conn-pgbouncer", title: "The host is PgBouncer in session mode (transaction mode is not supported: see the README)" }, pgbouncer, " Through PgBouncer (session mode)"),
    ),
    el("p", { class: "hint" }, "To test signing in too (nothing is saved but the settings above):"),
    field("conn-user", "User (optional)", user),
    field("conn-password", "Password (optional)", password),
    result,
    el("div", { class: "dialog-actions" }, test, firstRun ? null : cancel, save),
  );
  test.addEventListener("click", async () => {
    const settings = read();
    if (typeof settings === "string") {
      result.className = "field-error";
      result.textContent = settings;
      return;
    }
    result.className = "hint";
    result.textContent = "Testing…";
    test.disabled = true;
    const answer = await api.testConnection(settings, user.value, password.value);
    test.disabled = false;
    if (!answer.ok) {
      result.className = "field-error";
      result.textContent = describeError(answer.error);
      return;
    }
    result.className = answer.value.reached ? "hint ok" : "field-error";
    result.textContent = answer.value.message;
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const settings = read();
    if (typeof settings === "string") {
      result.className = "field-error";
      result.textContent = settings;
      return;
    }
    save.disabled = true;
    const saved = await api.saveConnection(settings);
    save.disabled = false;
    if (!saved.ok) {
      result.className = "field-error";
      result.textContent = describeError(saved.error);
      return;
    }
    window.location.reload();
  });
  cancel.addEventListener("click", () => dialog.close());
  dialog.addEventListener("cancel", (event) => {
    if (firstRun) event.preventDefault();
  });
  dialog.replaceChildren(form);
  dialog.showModal();
  host.focus();
}

/** The sign-in screen. Esc does not close it: without a session there is nothing behind it. */
export function showSignInDialog(dialog: HTMLDialogElement, info: SessionInfo, reason?: string): void {
  const lastUser =
    info.state.state === "signed_out" ? (info.state.last_user ?? "") : info.state.state === "signed_in" ? info.state.user : "";
  const user = input("signin-user", lastUser, { autocomplete: "username", required: "" });
  const password = input("signin-password", "", { type: "password", autocomplete: "current-password" });
  const remember = el("input", { id: "signin-remember", type: "checkbox" });
  const message = el("p", { id: "signin-message", class: "field-error", role: "alert", "aria-live": "assertive" });
  if (reason) message.textContent = reason;
  const submit = el("button", { type: "submit", class: "primary", id: "sign-in" }, "Sign in");
  const settings = el("button", { type: "button", class: "ghost", id: "open-connection" }, "Connection settings…");
  const target = info.settings ? `${serverName(info.settings)}/${info.settings.database}` : "the database";
  const form = el(
    "form",
    { class: "machine-form", method: "dialog", id: "signin-form" },
    el("h2", { id: "signin-title" }, "Sign in"),
    el("p", { class: "hint" }, `Your database user for ${target}. Leave the password empty when this PC signs you in by itself (.pgpass, peer).`),
    field("signin-user", "User", user),
    field("signin-password", "Password", password),
    el("div", { class: "field checkbox" }, el("label", { for: "signin-remember" }, remember, " Remember me (the password is kept in this PC's keyring)")),
    message,
    el("div", { class: "dialog-actions" }, settings, submit),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (user.value.trim() === "") {
      message.textContent = "Enter your database user name.";
      user.focus();
      return;
    }
    submit.disabled = true;
    message.textContent = "";
    const answer = await api.signIn(user.value.trim(), password.value, remember.checked);
    submit.disabled = false;
    if (!answer.ok) {
      message.textContent = describeError(answer.error);
      password.select();
      return;
    }
    if (answer.value) window.sessionStorage.setItem("mes-note", answer.value);
    window.location.reload();
  });
  settings.addEventListener("click", () => showConnectionDialog(dialog, info, false));
  dialog.addEventListener("cancel", (event) => event.preventDefault());
  dialog.replaceChildren(form);
  dialog.showModal();
  (lastUser ? password : user).focus();
}

/** The header: who is signed in (and as what), sign-out and the connection settings. */
export function renderSessionHeader(slot: HTMLElement, dialog: HTMLDialogElement, info: SessionInfo): void {
  if (info.state.state !== "signed_in") {
    slot.replaceChildren();
    return;
  }
  const role = info.privileges ? (info.privileges.superuser ? "superuser" : roleLabel(info.privileges.groups)) : "";
  const who = el(
    "span",
    { id: "session-user", class: "session-user", title: `Signed in to ${info.state.target.display}` },
    el("span", { class: "hint" }, "Signed in: "),
    `${info.state.user}${role ? ` · ${role}` : ""}`,
  );
  const settings = el("button", { type: "button", class: "ghost small", id: "open-settings", title: "Database connection" }, "Connection…");
  const signOut = el("button", { type: "button", class: "ghost small", id: "sign-out" }, "Sign out");
  settings.addEventListener("click", () => showConnectionDialog(dialog, info, false));
  signOut.addEventListener("click", async () => {
    // Changes still waiting are this user's: they go out only when this user signs in again.
    const status = await api.syncStatus();
    const waiting = status.ok ? status.value.pending + status.value.needs_attention : 0;
    if (waiting > 0) {
      const sure = await confirmDialog(
        dialog,
        "Sign out with changes waiting?",
        `${waiting} of your change${waiting === 1 ? "" : "s"} ${waiting === 1 ? "has" : "have"} not reached the database yet (pending or needing attention). ` +
          "They stay on this PC and are sent when you sign in here again, not before.",
        "Sign out",
      );
      if (!sure) return;
    }
    signOut.disabled = true;
    await api.signOut();
    window.location.reload();
  });
  slot.replaceChildren(who, settings, signOut);
}

function roleLabel(groups: string[]): string {
  for (const group of ["mes_admin", "mes_planner", "mes_operator", "mes_viewer"]) {
    if (groups.includes(group)) return group.replace("mes_", "");
  }
  return "";
}

/** Warnings about the config file and other users' writes waiting on this PC. */
export function renderSessionNotes(slot: HTMLElement, info: SessionInfo): void {
  const notes: HTMLElement[] = info.warnings.map((warning) =>
    el("p", { class: "banner attention config-warning", role: "alert" }, `⚠ ${warning}`),
  );
  for (const waiting of info.waiting_elsewhere) {
    notes.push(
      el(
        "p",
        { class: "banner waiting-elsewhere", role: "status" },
        `${waiting.pending} change${waiting.pending === 1 ? "" : "s"} made by ${waiting.owner} wait on this PC; they are sent when that user signs in again.`,
      ),
    );
  }
  slot.replaceChildren(...notes);
}

/** `host:port`, or the host list as written (its entries carry their own ports). */
function serverName(settings: { host: string; port: number }): string {
  return settings.host.includes(",") ? settings.host : `${settings.host}:${settings.port}`;
}
