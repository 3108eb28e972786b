// @vitest-environment happy-dom
import { describe, expect, it } from "vitest";
import { el } from "./dom";
import { tbodyWithMore } from "./long-table";

const row = (made: number[]) => (i: number): HTMLTableRowElement => {
  made.push(i);
  return el("tr", {}, el("td", {}, `row ${i}`));
};

describe("tbodyWithMore", () => {
  it("builds only the first rows, and the rest when asked, in order", () => {
    const made: number[] = [];
    const body = tbodyWithMore(250, 1, row(made), 100);
    expect(made.length).toBe(100);
    expect(body.querySelectorAll("tr").length).toBe(101);
    expect(body.querySelectorAll("tr")[100]?.textContent).toContain("100 of 250 shown");
    body.querySelector<HTMLButtonElement>("[data-role=show-all]")?.click();
    expect(made.length).toBe(250);
    expect(body.querySelectorAll("tr").length).toBe(250);
    expect(body.querySelectorAll("tr")[249]?.textContent).toBe("row 249");
    expect(body.querySelector("[data-role=show-all]")).toBeNull();
  });
  it("adds nothing to a short table", () => {
    const made: number[] = [];
    const body = tbodyWithMore(3, 1, row(made), 100);
    expect(body.querySelectorAll("tr").length).toBe(3);
    expect(body.querySelector("[data-role=show-all]")).toBeNull();
  });
});
