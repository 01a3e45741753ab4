import { afterEach, describe, expect, it, vi } from "vitest";
import { captureLogs, logRecordsOf } from "../support/leaks.js";

// Each test file runs in a fresh process (vitest's forks pool), so the first invocation below is
// this process's first: its cold start.
const { logger, withCorrelationId } = await import("@edp/core/config/logger");

const context = (awsRequestId: string) => ({
  awsRequestId,
  functionName: "edp-test-status",
  invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:edp-test-status",
  memoryLimitInMB: "512",
});

/** The Lambda fields of a handler's log lines, which the logger fills in itself (no powertools middleware). */
describe("a handler's log lines carry its invocation's Lambda context", () => {
  afterEach(() => vi.restoreAllMocks());

  it("cold_start is true on the process's first invocation only, and each line names its own invocation", async () => {
    const logLines = captureLogs({ quiet: true });
    await withCorrelationId("first", async () => logger.warn("one"), context("first"));
    // Two invocations at once, as the local runtime serves them: neither takes the other's context.
    await Promise.all(
      ["second", "third"].map((id) =>
        withCorrelationId(
          id,
          async () => {
            await new Promise((resolve) => setTimeout(resolve, 5));
            logger.warn("two");
          },
          context(id),
        ),
      ),
    );
    const lines = logRecordsOf(logLines);
    expect(lines.map((line) => [line.function_request_id, line.correlation_id, line.cold_start])).toEqual([
      ["first", "first", true],
      ["second", "second", false],
      ["third", "third", false],
    ]);
    for (const line of lines) {
      expect(line.function_name).toBe("edp-test-status");
      expect(line.function_arn).toBe("arn:aws:lambda:us-east-1:123456789012:function:edp-test-status");
      expect(line.function_memory_size).toBe("512");
    }
  });

  it("work outside any invocation (a launch's own correlation) carries no Lambda fields", async () => {
    const logLines = captureLogs({ quiet: true });
    await withCorrelationId(undefined, async () => logger.warn("in the background"));
    logger.warn("outside everything");
    const lines = logRecordsOf(logLines);
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      expect(line).not.toHaveProperty("function_request_id");
      expect(line).not.toHaveProperty("cold_start");
    }
    expect(lines[0].correlation_id).toEqual(expect.any(String));
    expect(lines[1]).not.toHaveProperty("correlation_id");
  });
});
