// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Oozie EL (`${...}`) in test data, not JavaScript templates
import { describe, expect, it } from "vitest";
import type { ExecutionValidationRequest } from "../../core/src/engines/engine.js";
import { validateOozieExecution } from "../../core/src/engines/oozie/validation.js";
import { InvalidDataError } from "../../core/src/errors.js";
import type { JobType } from "../../core/src/model/job-types.js";
import { clusterAccess, dataSource, template } from "./oozie-fixtures.js";

const cluster = clusterAccess({}).cluster;
const input = dataSource("hdfs", "hdfs://nn/in").dataSource;
const output = dataSource("hdfs", "hdfs://nn/out").dataSource;

interface Overrides {
  configs?: Record<string, string | number>;
  params?: Record<string, string | number>;
  args?: string[];
  input?: ExecutionValidationRequest["input"];
  output?: ExecutionValidationRequest["output"];
}

function validate(type: JobType, overrides: Overrides = {}) {
  const request: ExecutionValidationRequest = {
    cluster,
    template: template(type),
    configs: { configs: overrides.configs ?? {}, params: overrides.params ?? {}, args: overrides.args ?? [] },
    input: "input" in overrides ? overrides.input : input,
    output: "output" in overrides ? overrides.output : output,
  };
  // The registration imports these checks on first use (issue 17.1); they are called here directly, synchronously.
  return () => validateOozieExecution(request);
}

describe("Oozie submit-time validation (Sahara validate_job_execution)", () => {
  it.each(["Pig", "Hive", "MapReduce"] as const)("%s requires input and output", (type) => {
    expect(validate(type)).not.toThrow();
    expect(validate(type, { input: undefined })).toThrow(new InvalidDataError(`${type} job requires 'input_id' and 'output_id'`));
    expect(validate(type, { output: undefined })).toThrow(InvalidDataError);
  });

  it("input and output must not be the same location", () => {
    const same = dataSource("hdfs", "hdfs://nn/in").dataSource;
    expect(validate("Pig", { output: same })).toThrow("Provided input and output DataSources reference the same location: hdfs://nn/in");
    const otherType = dataSource("swift", "hdfs://nn/in").dataSource;
    expect(validate("Pig", { output: otherType })).not.toThrow();
  });

  it("Java and Shell need no data sources; Java needs its main class", () => {
    expect(validate("Shell", { input: undefined, output: undefined })).not.toThrow();
    expect(validate("Java", { input: undefined, output: undefined })).toThrow("Java job must specify main_class");
    expect(validate("Java", { input: undefined, output: undefined, configs: { "edp.java.main_class": "  " } })).toThrow(InvalidDataError);
    expect(validate("Java", { input: undefined, output: undefined, configs: { "edp.java.main_class": "org.M" } })).not.toThrow();
    expect(validate("Java", { configs: { "edp.java.main_class": "org.M", "edp.java.adapt_for_oozie": "True" } })).toThrow(
      /adapt_for_oozie/,
    );
  });

  it("MapReduce.Streaming needs a mapper and a reducer", () => {
    const message = "MapReduce.Streaming job must specify streaming mapper and reducer";
    expect(validate("MapReduce.Streaming")).toThrow(message);
    expect(validate("MapReduce.Streaming", { configs: { "edp.streaming.mapper": "cat" } })).toThrow(message);
    expect(validate("MapReduce.Streaming", { configs: { "edp.streaming.mapper": "cat", "edp.streaming.reducer": "wc" } })).not.toThrow();
  });

  it.each(["user.name", "fs.defaultFS", "fs.default.name", "mapred.job.tracker", "yarn.resourcemanager.address"])(
    "refuses %s, which Oozie forbids in an action's configuration",
    (key) => {
      expect(validate("Pig", { configs: { [key]: "x" } })).toThrow(
        new InvalidDataError(`Config '${key}' cannot be set for an Oozie job: it comes from the cluster's connection`),
      );
    },
  );

  it("param names must be usable as Pig params, Hive variables and shell variables", () => {
    expect(validate("Shell", { params: { GOOD_1: "x" } })).not.toThrow();
    expect(validate("Shell", { params: { "A=B": "x" } })).toThrow(/Param name 'A=B'/);
    expect(validate("Pig", { params: { "1A": "x" } })).toThrow(InvalidDataError);
    expect(validate("Hive", { params: { "hive.var": "x" } })).not.toThrow();
    expect(validate("Pig", { params: { "pig.var": "x" } })).toThrow(InvalidDataError);
  });

  it("refuses characters XML cannot carry, naming where they are", () => {
    expect(validate("Shell", { args: ["ok", "bad\u0001"] })).toThrow(
      "job_configs args[1] contains the character U+0001, which cannot be written to an Oozie workflow",
    );
    expect(validate("Shell", { configs: { "k\u0000": "v" } })).toThrow(/configs 'k\?' contains the character U\+0000/);
    expect(validate("Shell", { params: { P: "\uFFFF" } })).toThrow(/U\+FFFF/);
    expect(validate("Shell", { args: ["tabs\tand\r\nnewlines are fine", "🚀"] })).not.toThrow();
  });

  it("accepts hostile but representable strings: they are escaped, not refused", () => {
    expect(
      validate("Pig", { args: ["</arg>", "${wf:user()}", "]]>"], configs: { "x</name>": "&" }, params: { P: "<!ENTITY" } }),
    ).not.toThrow();
  });
});
