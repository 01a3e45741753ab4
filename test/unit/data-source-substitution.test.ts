import { runtimeUrl, substituteDataSources } from "@edp/core/manager/data-source-substitution";
import type { DataSource } from "@edp/core/model/data-source";
import { describe, expect, it } from "vitest";

const source = (id: string, name: string, url: string): DataSource => ({
  id,
  name,
  url,
  type: "hdfs",
  description: "",
  project_id: "p",
  created_at: "",
  updated_at: null,
  is_public: false,
  is_protected: false,
});

describe("data-source URLs for a run", () => {
  it("expands %JOB_EXEC_ID% and %RANDSTR(n)%, and reads s3 as s3a", () => {
    const url = runtimeUrl("s3://bucket/out/%JOB_EXEC_ID%/%RANDSTR(6)%", "exec-1");
    expect(url).toMatch(/^s3a:\/\/bucket\/out\/exec-1\/[a-z]{6}$/);
    expect(runtimeUrl("hdfs://nn/x", "e")).toBe("hdfs://nn/x");
  });
});

describe("substituting data sources into job configs", () => {
  const input = source("11111111-1111-4111-8111-111111111111", "input", "hdfs://nn/in/%JOB_EXEC_ID%");
  const lookup = {
    byName: async (name: string) => (name === "input" ? input : undefined),
    byId: async (id: string) => (id === input.id ? input : undefined),
  };
  const urlOf = (s: DataSource) => runtimeUrl(s.url, "run-7");

  it("leaves everything alone unless the job asks for it", async () => {
    const configs = { configs: {}, params: {}, args: ["datasource://input", input.id] };
    const result = await substituteDataSources(configs, lookup, urlOf);
    expect(result.configs).toBe(configs);
    expect(result.used).toEqual([]);
  });

  it("replaces datasource://<name> and ids in args, configs and params, as asked", async () => {
    const result = await substituteDataSources(
      {
        configs: { "edp.substitute_data_source_for_name": "True", "edp.substitute_data_source_for_uuid": "true", in: "datasource://input" },
        params: { P: input.id, N: 5 },
        args: ["datasource://input", input.id, "datasource://missing", "plain"],
      },
      lookup,
      urlOf,
    );
    expect(result.configs.args).toEqual(["hdfs://nn/in/run-7", "hdfs://nn/in/run-7", "datasource://missing", "plain"]);
    expect(result.configs.configs.in).toBe("hdfs://nn/in/run-7");
    expect(result.configs.params).toEqual({ P: "hdfs://nn/in/run-7", N: 5 });
    expect(result.used.map((s) => s.id)).toEqual([input.id]);
  });

  it("substitutes by name only when only names are asked for", async () => {
    const result = await substituteDataSources(
      { configs: { "edp.substitute_data_source_for_name": "True" }, params: {}, args: ["datasource://input", input.id] },
      lookup,
      urlOf,
    );
    expect(result.configs.args).toEqual(["hdfs://nn/in/run-7", input.id]);
  });
});
