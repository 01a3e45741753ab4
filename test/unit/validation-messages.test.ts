import { ValidationError } from "@edp/core/errors";
import { ClusterCreateSchema } from "@edp/core/model/cluster";
import { JobExecutionCreateSchema } from "@edp/core/model/job-execution";
import { validate } from "@edp/functions/http/request";
import { describe, expect, it } from "vitest";

/** What a bad body's 400 says, field by field. zod/mini has no messages of its own: core/src/model/zod.ts configures them. */
function problems(schema: Parameters<typeof validate>[0], body: unknown) {
  try {
    validate(schema, body, "body");
  } catch (error) {
    if (error instanceof ValidationError) return error.issues;
    throw error;
  }
  throw new Error("the body was accepted");
}

describe("validation messages", () => {
  it("name each failing field in English words, not zod/mini's bare 'Invalid input'", () => {
    const issues = problems(ClusterCreateSchema, {
      name: "n".repeat(51),
      plugin_name: 7,
      plugin_version: "3.5.1",
      max_concurrent_jobs: 1.5,
      colour: "blue",
    });
    expect(issues).toEqual(
      expect.arrayContaining([
        { path: "name", message: "Too big: expected string to have <=50 characters" },
        { path: "plugin_name", message: "Invalid input: expected string, received number" },
        { path: "max_concurrent_jobs", message: "Invalid input: expected int, received number" },
        { path: "", message: 'Unrecognized key: "colour"' },
      ]),
    );
    expect(issues).toHaveLength(4);
  });

  it("keep EDP's own wording where a schema gives one, and say what was wrong with a record key", () => {
    const issues = problems(JobExecutionCreateSchema, {
      job_template_id: "not-a-uuid",
      cluster_id: "auto",
      job_configs: { configs: { "bad\0key": "v" }, args: ["ok", 3] },
    });
    expect(issues).toEqual(
      expect.arrayContaining([
        { path: "job_template_id", message: "must be a UUID" },
        { path: "job_configs.configs.bad\0key", message: "key must not contain a NUL byte" },
        { path: "job_configs.args.1", message: "Invalid input: expected string, received number" },
      ]),
    );
  });
});
