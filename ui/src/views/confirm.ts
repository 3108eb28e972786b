// A modal yes/no question. Resolves true only on the explicit confirming button.

import { el } from "./dom";

export function confirmDialog(
  dialog: HTMLDialogElement,
  title: string,
  message: string,
  confirmLabel: string,
): Promise<boolean> {
  return new Promise((resolve) => {
    const cancel = el("button", { type: "button", class: "ghost", "data-role": "cancel" }, "Cancel");
    const confirm = el("button", { type: "button", class: "danger-solid", "data-role": "confirm" }, confirmLabel);
    dialog.replaceChildren(
      el("h2", { id: "confirm-title" }, title),
      el("p", {}, message),
      el("div", { class: "dialog-actions" }, cancel, confirm),
    );
    const finish = (answer: boolean) => {
      dialog.removeEventListener("close", onClose);
      if (dialog.open) dialog.close();
      resolve(answer);
    };
    const onClose = () => finish(false);
    dialog.addEventListener("close", onClose);
    cancel.addEventListener("click", () => finish(false));
    confirm.addEventListener("click", () => finish(true));
    dialog.showModal();
    cancel.focus(); // the safe choice has the focus: Enter does not delete by accident
  });
}
