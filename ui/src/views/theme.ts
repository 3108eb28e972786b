// Light and dark themes: follow the OS by default; the toggle cycles system → light → dark and is
// remembered on this PC.

type ThemeChoice = "system" | "light" | "dark";
const KEY = "mes-theme";

function stored(): ThemeChoice {
  const value = localStorage.getItem(KEY);
  return value === "light" || value === "dark" ? value : "system";
}

const osDark = window.matchMedia("(prefers-color-scheme: dark)");

function apply(choice: ThemeChoice, button: HTMLButtonElement): void {
  const dark = choice === "dark" || (choice === "system" && osDark.matches);
  document.documentElement.dataset["theme"] = dark ? "dark" : "light";
  button.textContent = `Theme: ${choice}`;
}

export function setupTheme(button: HTMLButtonElement): void {
  let choice = stored();
  apply(choice, button);
  osDark.addEventListener("change", () => apply(choice, button));
  button.addEventListener("click", () => {
    choice = choice === "system" ? "light" : choice === "light" ? "dark" : "system";
    if (choice === "system") localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, choice);
    apply(choice, button);
  });
}
