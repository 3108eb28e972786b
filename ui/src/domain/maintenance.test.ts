import { describe, expect, it } from "vitest";
import { parseInterval } from "./maintenance";

describe("parseInterval", () => {
  it("takes whole days from 1 to 3650, and blank as the type's interval", () => {
    expect(parseInterval(" 30 ")).toBe(30);
    expect(parseInterval("")).toBeNull();
    expect(parseInterval("3650")).toBe(3650);
  });
  it("refuses zero, fractions, too many days and text with the reason", () => {
    for (const bad of ["0", "1.5", "3651", "-3", "abc", "1e3x"]) {
      expect(typeof parseInterval(bad)).toBe("string");
    }
  });
});
