// Light and dark themes: follow the OS by default; the toggle cycles system → light → dark and is
// remembered on this PC.

type ThemeChoice = "system" | "light" | "dark";
const KEY = "mes-theme";

function stored(): ThemeChoice {
  const value = localStorage.getItem(KEY);
  return value === "light" || value === "dark" ? value : "system";
}

function apply(choice: ThemeChoice, button: HTMLButtonElement): void {
  if (choice === "system") delete document.documentElement.dataset["theme"];
  else document.documentElement.dataset["theme"] = choice;
  button.textContent = `Theme: ${choice}`;
}

export function setupTheme(button: HTMLButtonElement): void {
  let choice = stored();
  apply(choice, button);
  button.addEventListener("click", () => {
    choice = choice === "system" ? "light" : choice === "light" ? "dark" : "system";
    if (choice === "system") localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, choice);
    apply(choice, button);
  });
}
