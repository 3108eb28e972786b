// A long table's body shows its first rows and a "Show all" row that builds the rest when asked:
// the planner's tables can hold thousands of machines (most urgent or worst first), and building
// them all before the first paint would keep the view blank for a moment too long.

import { el } from "./dom";

export const FIRST_ROWS = 100;

/** A tbody of `count` rows made by `row(i)`, the first `first` at once. */
export function tbodyWithMore(count: number, columns: number, row: (index: number) => HTMLTableRowElement, first = FIRST_ROWS): HTMLTableSectionElement {
  const body = el("tbody", {});
  const shown = Math.min(count, first);
  for (let i = 0; i < shown; i++) body.append(row(i));
  if (count > shown) {
    const more = el("button", { type: "button", class: "ghost small", "data-role": "show-all" }, `Show all ${count} rows`);
    const holder = el("tr", { class: "more-rows" }, el("td", { colspan: String(columns) }, `${shown} of ${count} shown. `, more));
    more.addEventListener("click", () => {
      const rest = document.createDocumentFragment();
      for (let i = shown; i < count; i++) rest.append(row(i));
      holder.replaceWith(rest);
    });
    body.append(holder);
  }
  return body;
}
