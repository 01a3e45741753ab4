import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { DEFAULT_XSD_DIR, schemaTestsRun, XSD_SOURCE, xmllintAvailable, xsdsAvailable } from "../doubles/oozie-webhdfs.js";

/** Issue 10 point 9: the XSD-dependent tests fail loudly in CI and say where the schemas come from elsewhere. */
describe.runIf(xmllintAvailable())("the gate of the tests that need Oozie's XSDs", () => {
  const missing = join(mkdtempSync(join(tmpdir(), "no-xsd-")), "oozie-xsd");
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("10.9 in CI a missing XSD directory fails the file instead of skipping it", () => {
    expect(() => schemaTestsRun("the workflow tests", missing, { CI: "true" })).toThrow(
      `the workflow tests cannot run in CI: Oozie XSDs not found in ${missing}`,
    );
  });

  it("10.9 outside CI the tests are skipped with a message that says where the schemas come from", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    expect(schemaTestsRun("the workflow tests", missing, {})).toBe(false);
    expect(warn).toHaveBeenCalledTimes(1);
    const message = String(warn.mock.calls[0][0]);
    expect(message).toBe(`Skipping the workflow tests: Oozie XSDs not found in ${missing}; they are ${XSD_SOURCE}`);
    expect(message).toContain("client/src/main/resources");
    expect(message).toContain("apache/oozie");
    expect(message).toContain("OOZIE_XSD_DIR");
  });

  it.runIf(xsdsAvailable())("10.9 with the schemas present the tests run, CI or not", () => {
    expect(schemaTestsRun("the workflow tests", DEFAULT_XSD_DIR, { CI: "true" })).toBe(true);
    expect(schemaTestsRun("the workflow tests", DEFAULT_XSD_DIR, {})).toBe(true);
  });
});
