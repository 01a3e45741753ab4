import { renderTime } from "@edp/functions/api/render";
import { describe, expect, it } from "vitest";

/** Every time in a response is Sahara's form: UTC, to the second, no fraction, no zone. */
describe("renderTime", () => {
  it("renders a stored UTC time as the same instant parsing it would give", () => {
    const stored = ["2026-12-01T16:13:44.123Z", "2026-12-01T16:13:44Z", "1999-01-01T00:00:00.000Z", "2026-02-28T23:59:59.999Z"];
    for (const iso of stored) expect(renderTime(iso)).toBe(new Date(iso).toISOString().slice(0, 19));
    expect(renderTime("2026-12-01T16:13:44.987Z")).toBe("2026-12-01T16:13:44");
  });

  it("converts a time with an offset or without seconds to UTC rather than cutting it", () => {
    expect(renderTime("2026-12-01T18:13:44+02:00")).toBe("2026-12-01T16:13:44");
    expect(renderTime("2026-12-01T16:13:44.5-01:30")).toBe("2026-12-01T17:43:44");
    expect(renderTime("2026-12-01T16:13Z")).toBe("2026-12-01T16:13:00");
  });

  it("renders no time as null", () => {
    expect(renderTime(null)).toBeNull();
    expect(renderTime(undefined)).toBeNull();
    expect(renderTime("")).toBeNull();
  });
});
