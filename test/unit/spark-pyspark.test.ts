import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ExecutionValidationRequest } from "@edp/core/engines/engine";
import { buildJobCommand, buildJobLaunch, type JobCommandInput } from "@edp/core/engines/spark/job-command";
import { sparkEngineRegistration as registration } from "@edp/core/engines/spark/registration";
import { EngineError, InvalidDataError } from "@edp/core/errors";
import type { JobConfigs } from "@edp/core/model/job-execution";
import type { JobType } from "@edp/core/model/job-types";
import { afterAll, describe, expect, it } from "vitest";
import { hostileStrings } from "../support/hostile.js";
import { preparedJob, sparkAccess } from "../support/spark-jobs.js";

const scratch = mkdtempSync(join(tmpdir(), "edp-pyspark-unit-"));
const marker = join(scratch, "pwned");
const hostile = hostileStrings(marker);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The words a real /bin/sh splits a command line into, without running it. */
function wordsOf(command: string): string[] {
  const output = execFileSync("/bin/sh", ["-c", `set -- ${command}\nprintf '%s\\0' "$@"`], { cwd: scratch });
  return output.toString("utf8").split("\0").slice(0, -1);
}

const SUBMIT = "/opt/spark/bin/spark-submit";
const TAIL = ["--master", "spark://master:7077", "--deploy-mode", "client"];

const job = (over: Partial<Omit<JobCommandInput, "configs">> & { configs?: Partial<JobConfigs> }): JobCommandInput => ({
  type: "Spark",
  mainFiles: ["pi.py"],
  libFiles: [],
  sparkSubmit: SUBMIT,
  masterUrl: "spark://master:7077",
  sparkVersion: "4.3.0",
  ...over,
  configs: { configs: {}, params: {}, args: [], ...over.configs },
});

const request = (
  type: JobType,
  configs: JobConfigs["configs"],
  mainNames: string[] = ["main.py"],
  version = "4.3.0",
  libs: string[] = [],
): ExecutionValidationRequest => {
  const prepared = preparedJob({ access: sparkAccess({ mode: "local" }, { version }), type });
  return {
    cluster: prepared.access.cluster,
    template: { ...prepared.template, mains: mainNames.map((_, i) => `m${i}`), libs },
    configs: { configs, params: {}, args: [] },
    mainNames,
  };
};
const refusal = (r: ExecutionValidationRequest) => {
  try {
    registration.validateJobExecution!(r);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidDataError);
    expect((error as InvalidDataError).httpStatus).toBe(400);
    return (error as Error).message;
  }
  throw new Error("expected a refusal");
};
const accepts = (r: ExecutionValidationRequest) => expect(() => registration.validateJobExecution!(r)).not.toThrow();

describe("11.1 PySpark and lib routing", () => {
  it("11.1 a Spark job whose main ends in .py runs as spark-submit main.py args, with no --class", () => {
    expect(wordsOf(buildJobCommand(job({ configs: { args: ["10", hostile[0]] } })))).toEqual([SUBMIT, ...TAIL, "pi.py", "10", hostile[0]]);
    expect(existsSync(marker)).toBe(false);
    // A main class given anyway is not used: spark-submit runs the Python file itself.
    expect(buildJobCommand(job({ configs: { configs: { "edp.java.main_class": "org.Ignored" } } }))).not.toContain("--class");
  });

  it("11.1 libs go by kind: .py/.zip/.egg to --py-files, .jar to --jars, anything else to --files", () => {
    const command = buildJobCommand(job({ libFiles: ["helper.zip", "dep.jar", "util.py", "lookup.csv", "old.egg", "UPPER.JAR", "notes"] }));
    expect(wordsOf(command)).toEqual([
      SUBMIT,
      "--jars",
      "dep.jar,UPPER.JAR",
      "--py-files",
      "helper.zip,util.py,old.egg",
      "--files",
      "lookup.csv,notes",
      ...TAIL,
      "pi.py",
    ]);
  });

  it("11.1 Java and Scala applications keep --class and follow the same lib rules", () => {
    const spark = job({
      mainFiles: ["app.jar"],
      libFiles: ["dep.jar", "py.zip", "data.txt"],
      configs: { configs: { "edp.java.main_class": "org.me.Main" } },
    });
    expect(wordsOf(buildJobCommand(spark))).toEqual([
      SUBMIT,
      "--class",
      "org.me.Main",
      "--jars",
      "dep.jar",
      "--py-files",
      "py.zip",
      "--files",
      "data.txt",
      ...TAIL,
      "app.jar",
    ]);
    const java = job({
      type: "Java",
      mainFiles: [],
      libFiles: ["main.jar", "x.conf"],
      configs: { configs: { "edp.java.main_class": "org.me.Main" } },
    });
    expect(wordsOf(buildJobCommand(java))).toEqual([SUBMIT, "--class", "org.me.Main", "--files", "x.conf", ...TAIL, "main.jar"]);
    expect(() => buildJobCommand({ ...spark, configs: { configs: {}, params: {}, args: [] } })).toThrow(EngineError);
  });

  it("11.1 an R main runs the same way, on a Spark that has SparkR", () => {
    expect(wordsOf(buildJobCommand(job({ mainFiles: ["analysis.R"] })))).toEqual([SUBMIT, ...TAIL, "analysis.R"]);
    accepts(request("Spark", {}, ["analysis.R"]));
    expect(refusal(request("Spark", {}, ["analysis.R"], "1.3.1"))).toBe(
      "Spark 1.4.0 or higher required to run an R application (the cluster has '1.3.1')",
    );
  });

  it("11.1 submit-time: a .py main needs no main class; a jar main still does", () => {
    accepts(request("Spark", {}, ["pi.py"]));
    accepts(request("Spark", {}, ["PI.PY"]));
    expect(refusal(request("Spark", {}, ["app.jar"]))).toBe("Spark job must specify edp.java.main_class");
    // A main whose name is unknown is a jar, as before.
    expect(refusal({ ...request("Spark", {}), mainNames: undefined })).toBe("Spark job must specify edp.java.main_class");
    // A Java job's application is its first lib, whatever the template's mains are called.
    expect(refusal(request("Java", {}, ["x.py"], "4.3.0", ["l"]))).toBe("Java job must specify edp.java.main_class");
  });

  it("11.1 edp.spark.python and edp.spark.driver_python set the interpreters", () => {
    const command = buildJobCommand(
      job({ configs: { configs: { "edp.spark.python": "/opt/py/bin/python3", "edp.spark.driver_python": "python3.11" } } }),
    );
    expect(wordsOf(command)).toEqual([
      SUBMIT,
      "--conf",
      "spark.pyspark.driver.python=python3.11",
      "--conf",
      "spark.pyspark.python=/opt/py/bin/python3",
      ...TAIL,
      "pi.py",
    ]);
    expect(refusal(request("Spark", { "edp.spark.python": "python3 -c 'x'" }))).toBe(
      "Config 'edp.spark.python' must be an absolute path or a command name",
    );
    expect(refusal(request("Spark", { "edp.spark.python": "python3", "spark.pyspark.python": "python2" }))).toMatch(
      /'edp.spark.python' and 'spark.pyspark.python' say the same thing/,
    );
    expect(refusal(request("Spark", { "edp.spark.driver_python": "python3" }, ["a.py"], "2.0.2"))).toMatch(/needs Spark 2.1.0 or higher/);
  });

  it("11.1 config hints say how each kind is run and list the interpreter configs", () => {
    const hints = registration.configHints!("Spark")!;
    const names = hints.configs.map((hint) => hint.name);
    expect(names).toEqual(expect.arrayContaining(["edp.java.main_class", "edp.spark.python", "edp.spark.driver_python"]));
    const mainClass = hints.configs.find((hint) => hint.name === "edp.java.main_class")!.description;
    for (const words of [".py", "--py-files", ".zip", ".egg", "--jars", "--files", ".R", "--class"]) expect(mainClass).toContain(words);
    for (const hint of hints.configs) expect(hint.description.length).toBeGreaterThan(20);
  });
});

describe("11.5 spark-submit options as typed configs", () => {
  const typed = {
    "edp.spark.driver_memory": "2g",
    "edp.spark.executor_memory": "512m",
    "edp.spark.total_executor_cores": 3,
    "edp.spark.packages": "org.apache.hadoop:hadoop-aws:3.4.1,com.example:lib_2.13:1.0.0-RC1",
    "edp.spark.files": "hdfs://nn:8020/data/lookup.csv,/etc/app/app.conf",
  };

  it("11.5 each maps to the spark-submit flag of the same meaning; --files also takes the job's other libs", () => {
    const command = buildJobCommand(job({ libFiles: ["local.txt"], configs: { configs: typed } }));
    expect(wordsOf(command)).toEqual([
      SUBMIT,
      "--files",
      "local.txt,hdfs://nn:8020/data/lookup.csv,/etc/app/app.conf",
      "--driver-memory",
      "2g",
      "--executor-memory",
      "512m",
      "--total-executor-cores",
      "3",
      "--packages",
      "org.apache.hadoop:hadoop-aws:3.4.1,com.example:lib_2.13:1.0.0-RC1",
      ...TAIL,
      "pi.py",
    ]);
    accepts(request("Spark", typed));
    accepts(request("Java", { ...typed, "edp.java.main_class": "org.me.Main" }, [], "4.3.0", ["l"]));
  });

  it("11.5 bad values are refused at submit time with the config named", () => {
    const cases: [Record<string, string | number>, string][] = [
      [{ "edp.spark.driver_memory": "lots" }, "Config 'edp.spark.driver_memory' must be a size such as 512m or 2g"],
      [{ "edp.spark.executor_memory": "0" }, "Config 'edp.spark.executor_memory' must be a size such as 512m or 2g"],
      [{ "edp.spark.executor_memory": "1g --conf x=y" }, "Config 'edp.spark.executor_memory' must be a size such as 512m or 2g"],
      [{ "edp.spark.total_executor_cores": "-1" }, "Config 'edp.spark.total_executor_cores' must be a positive whole number"],
      [{ "edp.spark.total_executor_cores": 1.5 }, "Config 'edp.spark.total_executor_cores' must be a positive whole number"],
      [
        { "edp.spark.packages": "org.apache.hadoop:hadoop-aws" },
        "Config 'edp.spark.packages' 'org.apache.hadoop:hadoop-aws' is not a Maven coordinate groupId:artifactId:version",
      ],
      [{ "edp.spark.packages": "a:b:1,,c:d:2" }, "Config 'edp.spark.packages' '' is not a Maven coordinate groupId:artifactId:version"],
      [
        { "edp.spark.packages": "a:b:1;touch x" },
        "Config 'edp.spark.packages' 'a:b:1;touch x' is not a Maven coordinate groupId:artifactId:version",
      ],
      [{ "edp.spark.files": "relative.txt" }, "Config 'edp.spark.files' 'relative.txt' is not an absolute path or a URL"],
      [{ "edp.spark.files": "/a b" }, "Config 'edp.spark.files' '/a b' is not an absolute path or a URL"],
    ];
    for (const [configs, message] of cases) expect(refusal(request("Spark", configs))).toBe(message);
  });

  it("11.5 hostile values that pass as words stay single words", () => {
    const command = buildJobCommand(job({ configs: { configs: { "edp.spark.files": `/tmp/$(touch ${marker})` } } }));
    expect(wordsOf(command)).toContain(`/tmp/$(touch ${marker})`);
    expect(existsSync(marker)).toBe(false);
  });

  it("11.5 config hints list them with descriptions", () => {
    const hints = registration.configHints!("Spark")!.configs;
    for (const [name, flag] of [
      ["edp.spark.driver_memory", "--driver-memory"],
      ["edp.spark.executor_memory", "--executor-memory"],
      ["edp.spark.total_executor_cores", "--total-executor-cores"],
      ["edp.spark.packages", "--packages"],
      ["edp.spark.files", "--files"],
    ]) {
      expect(hints.find((hint) => hint.name === name)?.description).toContain(flag);
    }
    expect(registration.configHints!("Java")).toEqual(registration.configHints!("Spark"));
  });

  it("11.5 a job without typed configs gets the same command as before", () => {
    expect(buildJobLaunch(job({ mainFiles: ["app.jar"], configs: { configs: { "edp.java.main_class": "a.B" } } }))).toEqual({
      command: `${SUBMIT} --class a.B --master spark://master:7077 --deploy-mode client app.jar`,
      files: [],
    });
  });
});
