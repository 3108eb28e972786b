// The create/edit form in a modal dialog. Enter saves, Esc cancels (asking first when there are
// unsaved changes). Client checks run as the operator types; the server's field errors land on
// the same fields; a name clash or a concurrent change is explained with a way forward.

import type { CommandError, Machine, MachineInput, WriteOutcome } from "../bindings";
import type { Outcome } from "../api/client";
import { describeError } from "../api/messages";
import {
  type FieldErrors,
  type MachineForm,
  STATUSES,
  formsDiffer,
  utcToLocalInput,
  validateForm,
} from "../domain/rules";
import { el } from "./dom";
import { STATUS_SYMBOL } from "./status-badge";

const FIELD_IDS: Record<keyof MachineInput, string> = {
  machine_name: "f-name",
  machine_type: "f-type",
  operational_status: "f-status",
  efficiency: "f-efficiency",
  last_maintenance: "f-last",
};

export interface FormRequest {
  /** The machine being edited, or undefined for a new one. */
  machine?: Machine;
  knownTypes: string[];
  /** `base`: the machine as the form started from it (its version, the efficiency it showed). */
  save(input: MachineInput, base: Machine | undefined): Promise<Outcome<WriteOutcome>>;
  onSaved(outcome: WriteOutcome): void;
  /** Replaces the title ("Edit CNC-001" / "New machine"). */
  title?: string;
  /** Shown above the buttons when the form opens (why a queued write needs attention). */
  notice?: string;
  onGone(): void;
  /** Asks a yes/no question in a modal; resolves true for yes. */
  confirm(title: string, message: string, yes: string): Promise<boolean>;
}

function emptyForm(): MachineForm {
  return {
    machine_name: "",
    machine_type: "",
    operational_status: "Running",
    efficiency: "",
    last_maintenance_local: utcToLocalInput(new Date().toISOString()),
  };
}

function formFrom(machine: Machine): MachineForm {
  return {
    machine_name: machine.machine_name,
    machine_type: machine.machine_type,
    operational_status: machine.operational_status,
    efficiency: machine.efficiency === null || machine.efficiency === undefined ? "" : String(machine.efficiency),
    // Empty when the stored value is not a date (another tool wrote it): the operator sets one.
    last_maintenance_local: machine.last_maintenance ? utcToLocalInput(machine.last_maintenance) : "",
  };
}

export function openMachineForm(dialog: HTMLDialogElement, request: FormRequest): void {
  let base = request.machine;
  let initial = base ? formFrom(base) : emptyForm();
  let saving = false;

  const input = (id: string, attrs: Record<string, string>) => el("input", { id, name: id, ...attrs });
  const name = input(FIELD_IDS.machine_name, { type: "text", maxlength: "200", autocomplete: "off", required: "" });
  const type = input(FIELD_IDS.machine_type, { type: "text", list: "known-types", maxlength: "200", autocomplete: "off", required: "" });
  const status = el("select", { id: FIELD_IDS.operational_status, name: "status" });
  for (const s of STATUSES) status.append(el("option", { value: s }, `${STATUS_SYMBOL[s]} ${s}`));
  const efficiency = input(FIELD_IDS.efficiency, { type: "text", inputmode: "decimal", autocomplete: "off", required: "" });
  const last = input(FIELD_IDS.last_maintenance, { type: "datetime-local", required: "" });
  const types = el("datalist", { id: "known-types" }, ...request.knownTypes.map((t) => el("option", { value: t })));

  const errorSlot = (field: keyof MachineInput) =>
    el("p", { class: "field-error", id: `${FIELD_IDS[field]}-error`, "aria-live": "polite" });
  const errors: Record<keyof MachineInput, HTMLParagraphElement> = {
    machine_name: errorSlot("machine_name"),
    machine_type: errorSlot("machine_type"),
    operational_status: errorSlot("operational_status"),
    efficiency: errorSlot("efficiency"),
    last_maintenance: errorSlot("last_maintenance"),
  };
  const controls: Record<keyof MachineInput, HTMLInputElement | HTMLSelectElement> = {
    machine_name: name,
    machine_type: type,
    operational_status: status,
    efficiency,
    last_maintenance: last,
  };

  const field = (key: keyof MachineInput, label: string, control: HTMLElement, hint?: string) => {
    control.setAttribute("aria-describedby", `${FIELD_IDS[key]}-error`);
    return el(
      "div",
      { class: "field" },
      el("label", { for: FIELD_IDS[key] }, label),
      control,
      hint ? el("p", { class: "hint" }, hint) : null,
      errors[key],
    );
  };

  const formMessage = el("div", { class: "form-message", role: "alert", hidden: "" });
  const cancel = el("button", { type: "button", class: "ghost", "data-role": "cancel" }, "Cancel (Esc)");
  const save = el("button", { type: "submit", class: "primary", "data-role": "save" }, "Save (Enter)");
  const title = el("h2", { id: "machine-dialog-title" });
  const form = el(
    "form",
    { class: "machine-form", novalidate: "" },
    title,
    field("machine_name", "Name", name),
    field("machine_type", "Type", type),
    field("operational_status", "Status", status),
    field("efficiency", "Efficiency (OEE, %)", efficiency, "0 to 100"),
    field("last_maintenance", "Last maintenance (local time)", last),
    types,
    formMessage,
    el("div", { class: "dialog-actions" }, cancel, save),
  );

  const fill = (values: MachineForm) => {
    name.value = values.machine_name;
    type.value = values.machine_type;
    status.value = values.operational_status;
    efficiency.value = values.efficiency;
    last.value = values.last_maintenance_local;
  };
  const read = (): MachineForm => ({
    machine_name: name.value,
    machine_type: type.value,
    operational_status: status.value,
    efficiency: efficiency.value,
    last_maintenance_local: last.value,
  });
  const setTitle = () => {
    title.textContent = request.title ?? (base ? `Edit ${base.machine_name}` : "New machine");
  };
  const showErrors = (fieldErrors: FieldErrors) => {
    for (const key of Object.keys(errors) as (keyof MachineInput)[]) {
      const message = fieldErrors[key];
      errors[key].textContent = message ?? "";
      controls[key].setAttribute("aria-invalid", message ? "true" : "false");
    }
  };
  const showMessage = (text: string, ...actions: HTMLButtonElement[]) => {
    formMessage.replaceChildren(el("p", {}, text), ...actions);
    formMessage.hidden = text === "";
  };
  const close = () => {
    dialog.removeEventListener("cancel", onCancel);
    if (dialog.open) dialog.close();
  };
  const dirty = () => formsDiffer(read(), initial);

  const onCancel = (event: Event) => {
    event.preventDefault();
    void attemptClose();
  };
  const attemptClose = async () => {
    if (saving) return;
    if (dirty()) {
      const discard = await request.confirm(
        "Discard changes?",
        "You have unsaved changes to this machine. Discard them?",
        "Discard changes",
      );
      if (!discard) {
        name.focus();
        return;
      }
    }
    close();
  };

  const handleError = (error: CommandError) => {
    switch (error.kind) {
      case "Validation": {
        const fieldErrors: FieldErrors = {};
        const other: string[] = [];
        for (const f of error.data.fields) {
          if (f.field in errors) fieldErrors[f.field as keyof MachineInput] = f.message;
          else other.push(f.message);
        }
        showErrors(fieldErrors);
        showMessage(other.length > 0 ? other.join(" · ") : "Please correct the highlighted fields.");
        const first = Object.keys(fieldErrors)[0] as keyof MachineInput | undefined;
        if (first) controls[first].focus();
        break;
      }
      case "DuplicateName":
        showErrors({ machine_name: describeError(error) });
        showMessage("");
        name.focus();
        break;
      case "StaleVersion": {
        const current = error.data.current;
        const reload = el("button", { type: "button", class: "ghost", "data-role": "reload" }, "Load their values");
        const keep = el("button", { type: "button", class: "primary", "data-role": "keep-mine" }, "Keep mine and save");
        reload.addEventListener("click", () => {
          base = current;
          initial = formFrom(current);
          fill(initial);
          setTitle();
          showErrors({});
          showMessage("");
        });
        keep.addEventListener("click", () => {
          base = current; // save on top of the version now stored
          setTitle();
          void submit();
        });
        showMessage(describeError(error) + " Load their values, or keep yours and save over them.", reload, keep);
        break;
      }
      case "NotFound":
        showMessage(describeError(error));
        request.onGone();
        break;
      default:
        showMessage(describeError(error));
    }
  };

  const submit = async () => {
    if (saving) return;
    const checked = validateForm(read(), new Date());
    if ("errors" in checked) {
      showErrors(checked.errors);
      showMessage("Please correct the highlighted fields.");
      const first = Object.keys(checked.errors)[0] as keyof MachineInput | undefined;
      if (first) controls[first].focus();
      return;
    }
    showErrors({});
    showMessage("");
    saving = true;
    save.disabled = true;
    save.textContent = "Saving…";
    const outcome = await request.save(checked.input, base);
    saving = false;
    save.disabled = false;
    save.textContent = "Save (Enter)";
    if (outcome.ok) {
      close();
      request.onSaved(outcome.value);
    } else {
      handleError(outcome.error);
    }
  };

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void submit();
  });
  // Live checks: a field's message updates as soon as the operator leaves it.
  for (const key of Object.keys(controls) as (keyof MachineInput)[]) {
    controls[key].addEventListener("blur", () => {
      const checked = validateForm(read(), new Date());
      const message = "errors" in checked ? checked.errors[key] : undefined;
      errors[key].textContent = message ?? "";
      controls[key].setAttribute("aria-invalid", message ? "true" : "false");
    });
  }
  cancel.addEventListener("click", () => void attemptClose());
  dialog.addEventListener("cancel", onCancel);

  dialog.replaceChildren(form);
  fill(initial);
  setTitle();
  if (request.notice) showMessage(request.notice);
  dialog.showModal();
  name.focus();
  name.select();
}
