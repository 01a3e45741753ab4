import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { credentialProperties } from "@edp/core/engines/data-source-credentials";
import type { DataSourceAccess, ExecutionValidationRequest, PreparedJob } from "@edp/core/engines/engine";
import { buildJobCommand, buildJobLaunch, type JobCommandInput } from "@edp/core/engines/spark/job-command";
import { sparkEngineRegistration as registration } from "@edp/core/engines/spark/registration";
import { wrapperScript } from "@edp/core/engines/spark/wrapper-script";
import { EngineError, InvalidDataError } from "@edp/core/errors";
import type { StoredExecution } from "@edp/core/manager/job-manager";
import type { JobConfigs } from "@edp/core/model/job-execution";
import type { JobType } from "@edp/core/model/job-types";
import { shellCommand } from "@edp/core/runners/shell-quote";
import { isCredentialKey } from "@edp/core/secrets/masking";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createJobChain } from "../api/fixtures.js";
import { eventually, startTestApi, type TestApi } from "../support/api.js";
import { hostileStrings } from "../support/hostile.js";
import { ed25519KeyPair } from "../support/keys.js";
import { preparedJob, sparkAccess } from "../support/spark-jobs.js";
import { freePort } from "../support/sshd.js";
import { TestEngine, testEngineRegistration } from "../support/test-engine.js";
import { uncheckedRegistration } from "../support/unchecked.js";

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

  it("11.1 the wrapper copies a failed PySpark driver's last traceback (which spark-submit sends to stdout) to stderr", () => {
    const runWrapper = (script: string) => {
      const dir = mkdtempSync(join(scratch, "wrapper-"));
      writeFileSync(
        join(dir, "launch_command"),
        wrapperScript({ workingDir: dir, environment: {}, command: shellCommand("/bin/sh", "-c", script) }),
      );
      execFileSync("/bin/sh", [join(dir, "launch_command")]);
      return { stdout: readFileSync(join(dir, "stdout"), "utf8"), stderr: readFileSync(join(dir, "stderr"), "utf8") };
    };
    const traceback = 'Traceback (most recent call last):\n  File "fail.py", line 5, in <module>\nValueError: boom';
    const failed = runWrapper(
      `echo 'Traceback (most recent call last):'; echo old; printf '%s\\n' '${traceback.replaceAll("\n", "' '")}'; echo 'INFO log' >&2; exit 1`,
    );
    expect(failed.stderr).toBe(`INFO log\n${traceback}\n`);
    // A job that succeeded keeps its streams as they were.
    expect(runWrapper(`printf '%s\\n' '${traceback.replaceAll("\n", "' '")}'; exit 0`).stderr).toBe("");
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
      secretFiles: [],
    });
  });
});

describe("11.2 credentials never on a command line", () => {
  const SECRET = "s3-secret-Zq8$(touch x)'\"";
  const s3 = new Map([
    ["fs.s3a.access.key", "AKIAEXAMPLE"],
    ["fs.s3a.secret.key", SECRET],
    ["fs.s3a.endpoint", "http://s3.example:9000"],
  ]);

  it("11.2 data-source credentials and secret-looking spark.* configs go to a 0600 --properties-file, the rest stays --conf", () => {
    const launch = buildJobLaunch(
      job({
        credentials: s3,
        configs: {
          configs: {
            "spark.hadoop.fs.s3a.session.token": "tok-1",
            "spark.authenticate.secret": "auth-2",
            "spark.ssl.keyStorePassword": "ks-3",
            "spark.hadoop.fs.gs.auth.service.account.private.key": "gs-4",
            "spark.executor.memory": "1g",
          },
        },
      }),
    );
    for (const secret of [SECRET, "AKIAEXAMPLE", "tok-1", "auth-2", "ks-3", "gs-4"]) expect(launch.command).not.toContain(secret);
    expect(wordsOf(launch.command)).toEqual([
      SUBMIT,
      "--properties-file",
      ".edp-spark.properties",
      "--load-spark-defaults",
      "--conf",
      "spark.executor.memory=1g",
      ...TAIL,
      "pi.py",
    ]);
    expect(launch.files).toHaveLength(1);
    expect(launch.files[0]).toMatchObject({ name: ".edp-spark.properties", mode: 0o600 });
    expect(launch.secretFiles).toEqual([".edp-spark.properties"]);
    expect(launch.files[0].content.split("\n").map((line) => line.split("=")[0])).toEqual([
      "spark.authenticate.secret",
      "spark.hadoop.fs.gs.auth.service.account.private.key",
      "spark.hadoop.fs.s3a.access.key",
      "spark.hadoop.fs.s3a.endpoint",
      "spark.hadoop.fs.s3a.secret.key",
      "spark.hadoop.fs.s3a.session.token",
      "spark.ssl.keyStorePassword",
      "",
    ]);
  });

  it("11.2 a swift data source's user and password go to the file under Sahara's Hadoop names", () => {
    const swift = {
      dataSource: { type: "swift" } as DataSourceAccess["dataSource"],
      runtimeUrl: "swift://c.sahara/o",
      credentials: { user: "swift-user-7", password: "swift-pass-8" },
    };
    const launch = buildJobLaunch(job({ credentials: credentialProperties([swift, undefined]) }));
    expect(launch.command).not.toMatch(/swift-(user|pass)/);
    expect(launch.files[0].content).toBe(
      "spark.hadoop.fs.swift.service.sahara.password=swift-pass-8\nspark.hadoop.fs.swift.service.sahara.username=swift-user-7\n",
    );
  });

  it("11.2 the wrapper deletes the credentials' files once the job has ended", () => {
    const dir = mkdtempSync(join(scratch, "wrapper-secrets-"));
    for (const name of [".edp-spark.properties", "keep.txt"]) writeFileSync(join(dir, name), "x");
    const command = shellCommand("/bin/sh", "-c", "test -f .edp-spark.properties && echo seen; exit 1");
    writeFileSync(
      join(dir, "launch_command"),
      wrapperScript({ workingDir: dir, environment: {}, command, removeAfter: [".edp-spark.properties"] }),
    );
    execFileSync("/bin/sh", [join(dir, "launch_command")]);
    expect(readFileSync(join(dir, "stdout"), "utf8")).toBe("seen\n");
    expect(readFileSync(join(dir, "result"), "utf8")).toBe("1\n");
    expect(existsSync(join(dir, ".edp-spark.properties"))).toBe(false);
    expect(existsSync(join(dir, "keep.txt"))).toBe(true);
  });

  it("11.2 a config the user set wins over the data source's credential of the same name, as in Sahara", () => {
    const launch = buildJobLaunch(job({ credentials: s3, configs: { configs: { "spark.hadoop.fs.s3a.secret.key": "mine" } } }));
    expect(launch.files[0].content).toContain("spark.hadoop.fs.s3a.secret.key=mine\n");
    expect(launch.files[0].content).not.toContain("Zq8");
  });

  it("11.2 the properties file reads back exactly in Java, whatever the values hold", () => {
    const values = [...hostile, "a=b:c#!\\x", "  leading spaces", "line\nbreak\r\ttab", "ünï 😀", "\\u0041"];
    const entries = values.map((value, i): [string, string] => [`spark.test.secret${i}`, value]);
    const file = join(scratch, "check.properties");
    rmSync(file, { force: true });
    execFileSync("/bin/sh", ["-c", 'cat > "$1"', "sh", file], {
      input: buildJobLaunch(job({ credentials: new Map(entries.map(([k, v]) => [k.slice("spark.".length), v])) })).files[0]?.content ?? "",
    });
    const reader = join(scratch, "Read.java");
    execFileSync("/bin/sh", [
      "-c",
      `cat > "$1" <<'JAVA'
import java.io.*; import java.nio.charset.StandardCharsets; import java.util.*;
public class Read { public static void main(String[] a) throws Exception {
  Properties p = new Properties(); try (Reader r = new InputStreamReader(new FileInputStream(a[0]), StandardCharsets.UTF_8)) { p.load(r); }
  for (String k : new TreeSet<>(p.stringPropertyNames())) System.out.println(k + " " + Base64.getEncoder().encodeToString(p.getProperty(k).getBytes(StandardCharsets.UTF_8)));
} }
JAVA`,
      "sh",
      reader,
    ]);
    const read = execFileSync("java", [reader, file], { encoding: "utf8" })
      .trim()
      .split("\n")
      .map((line) => line.split(" "))
      .map(([key, base64]) => [key, Buffer.from(base64 ?? "", "base64").toString("utf8")]);
    // The data-source credentials came in as Hadoop names: Spark sees them with the spark.hadoop. prefix.
    expect(Object.fromEntries(read)).toEqual(Object.fromEntries(entries.map(([k, v]) => [`spark.hadoop.${k.slice("spark.".length)}`, v])));
  }, 30_000);

  it("11.2 before Spark 4.0 the cluster's spark-defaults.conf is joined to the credentials at run time, owner-only", () => {
    const launch = buildJobLaunch(
      job({
        sparkVersion: "3.5.1",
        sparkSubmit: join(scratch, "spark home", "bin", "spark-submit"),
        configs: { configs: { "spark.hadoop.fs.s3a.secret.key": SECRET } },
      }),
    );
    expect(launch.files.map((file) => [file.name, file.mode])).toEqual([[".edp-credentials.properties", 0o600]]);
    expect(launch.secretFiles).toEqual([".edp-credentials.properties", ".edp-spark.properties"]);
    expect(launch.command).not.toContain("Zq8");
    expect(launch.command).not.toContain("--load-spark-defaults");
    // Run it for real: a spark-submit that prints the properties file it was given.
    const home = join(scratch, "spark home");
    const work = mkdtempSync(join(scratch, "work-"));
    execFileSync("/bin/sh", [
      "-c",
      `mkdir -p "$1/bin" "$1/conf" && printf 'spark.eventLog.enabled true\\nspark.hadoop.fs.s3a.secret.key from-defaults' > "$1/conf/spark-defaults.conf" &&
       printf '#!/bin/sh\\nwhile [ "$1" != --properties-file ]; do shift; done\\ncat "$2"; ls -l "$2" | cut -c1-10\\n' > "$1/bin/spark-submit" && chmod +x "$1/bin/spark-submit"`,
      "sh",
      home,
    ]);
    execFileSync("/bin/sh", ["-c", 'cat > "$1"', "sh", join(work, launch.files[0].name)], { input: launch.files[0].content });
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin" };
    const printed = execFileSync("/bin/sh", ["-c", launch.command], { cwd: work, env, encoding: "utf8" });
    expect(printed).toBe(
      `spark.eventLog.enabled true\nspark.hadoop.fs.s3a.secret.key from-defaults\n${launch.files[0].content}-rw-------\n`,
    );
    // SPARK_CONF_DIR, when the node sets it, is where the defaults are read from, as spark-submit does.
    const conf = mkdtempSync(join(scratch, "conf-"));
    execFileSync("/bin/sh", ["-c", 'printf "spark.other 1\\n" > "$1/spark-defaults.conf"', "sh", conf]);
    expect(execFileSync("/bin/sh", ["-c", launch.command], { cwd: work, env: { ...env, SPARK_CONF_DIR: conf }, encoding: "utf8" })).toMatch(
      /^spark\.other 1\n\nspark\.hadoop\.fs\.s3a\.secret\.key=/,
    );
  });

  it("11.2 the masking rule covers the names the issue lists", () => {
    for (const key of [
      "spark.hadoop.fs.s3a.secret.key",
      "spark.hadoop.fs.s3a.access.key",
      "spark.hadoop.fs.s3a.session.token",
      "spark.authenticate.secret",
      "spark.ssl.keyStorePassword",
      "spark.ssl.trustStorePassword",
      "spark.hadoop.fs.azure.account.key.acct.dfs.core.windows.net",
      "spark.hadoop.fs.gs.auth.service.account.private.key",
      "spark.hadoop.fs.swift.service.sahara.username",
      "spark.hadoop.fs.swift.service.sahara.password",
      "fs.swift.service.sahara.username",
    ]) {
      expect(isCredentialKey(key), key).toBe(true);
    }
    for (const key of [
      "spark.executor.memory",
      "spark.pyspark.python",
      "edp.java.main_class",
      "spark.hadoop.fs.s3a.endpoint",
      "spark.keyspace",
    ]) {
      expect(isCredentialKey(key), key).toBe(false);
    }
  });
});

describe("11.2 credential-looking configs are kept in the secret store, not in the execution item", () => {
  const SECRET = "kept-out-of-the-item-5d1c";
  class RecordingEngine extends TestEngine {
    readonly configsSeen = new Map<string, JobConfigs>();
    readonly jobsSeen = new Map<string, PreparedJob>();
    override async runJob(prepared: PreparedJob) {
      this.configsSeen.set(prepared.execution.id, prepared.configs);
      this.jobsSeen.set(prepared.execution.id, prepared);
      return super.runJob(prepared);
    }
  }
  let api: TestApi;
  let engine: RecordingEngine;
  let token: string;
  beforeAll(async () => {
    engine = new RecordingEngine();
    api = await startTestApi({ registrations: [testEngineRegistration(engine)] });
    ({ token } = await api.newProject());
  });
  afterAll(async () => api?.close());

  it("11.2 the item holds a blank and a reference; the engine gets the value; removing the job removes the secret", async () => {
    const chain = await createJobChain(api, token);
    const response = await api.request("POST", "/v2/jobs", {
      token,
      body: {
        cluster_id: chain.clusterId,
        job_template_id: chain.templateId,
        job_configs: { configs: { "spark.hadoop.fs.s3a.secret.key": SECRET, "spark.executor.memory": "1g" }, args: ["a"] },
      },
    });
    expect(response.status, response.text).toBe(202);
    const id = response.body.job.id as string;
    expect(response.text).not.toContain(SECRET);
    await eventually("launched", async () => engine.configsSeen.has(id));
    expect(engine.configsSeen.get(id)?.configs).toEqual({ "spark.hadoop.fs.s3a.secret.key": SECRET, "spark.executor.memory": "1g" });

    const item = await api.core.ports.store.get<StoredExecution>("job_execution", id);
    expect(JSON.stringify(item)).not.toContain(SECRET);
    expect(item?.job_configs.configs).toEqual({ "spark.hadoop.fs.s3a.secret.key": "", "spark.executor.memory": "1g" });
    const ref = item?.secret_configs_ref;
    expect(ref).toBeTruthy();
    expect(await api.core.ports.secrets.get(ref!)).toEqual({ configs: { "spark.hadoop.fs.s3a.secret.key": SECRET } });

    engine.statuses.set(id, "SUCCEEDED");
    await eventually(
      "SUCCEEDED",
      async () => (await api.request("GET", `/v2/jobs/${id}?refresh_status=true`, { token })).body.job.info.status === "SUCCEEDED",
    );
    expect((await api.request("DELETE", `/v2/jobs/${id}`, { token })).status).toBe(204);
    expect(await api.core.ports.secrets.get(ref!)).toBeUndefined();
  });

  it("11.2 a data source a job names with datasource:// brings its credentials to the engine, and Spark puts them in the file", async () => {
    const chain = await createJobChain(api, token);
    const source = await api.request("POST", "/v2/data-sources", {
      token,
      body: {
        name: "ref-s3",
        type: "s3",
        url: "s3://bucket/in",
        credentials: { accesskey: "AKIAREF", secretkey: SECRET, endpoint: "http://e" },
      },
    });
    expect(source.status, source.text).toBe(202);
    const response = await api.request("POST", "/v2/jobs", {
      token,
      body: {
        cluster_id: chain.clusterId,
        job_template_id: chain.templateId,
        job_configs: { configs: { "edp.substitute_data_source_for_name": "True" }, args: ["datasource://ref-s3"] },
      },
    });
    expect(response.status, response.text).toBe(202);
    const id = response.body.job.id as string;
    await eventually("launched", async () => engine.jobsSeen.has(id));
    const prepared = engine.jobsSeen.get(id)!;
    expect(prepared.configs.args).toEqual(["s3a://bucket/in"]);
    expect(prepared.referenced?.map((ref) => ref.credentials.secretkey)).toEqual([SECRET]);
    const launch = buildJobLaunch(
      job({ credentials: credentialProperties([prepared.input, prepared.output, ...(prepared.referenced ?? [])]) }),
    );
    expect(launch.command).not.toContain(SECRET);
    expect(launch.files[0].content).toContain(`spark.hadoop.fs.s3a.secret.key=${SECRET}\n`);
  });

  it("11.2 a repeated Idempotency-Key keeps the first job's secret and leaves no other behind", async () => {
    const chain = await createJobChain(api, token);
    const body = { cluster_id: chain.clusterId, job_template_id: chain.templateId, job_configs: { configs: { "x.password": SECRET } } };
    const headers = { "Idempotency-Key": `k-${chain.templateId}` };
    const secretsBefore = Object.keys(JSON.parse(readFileSync(secretsFile(api), "utf8"))).length;
    const first = await api.request("POST", "/v2/jobs", { token, body, headers });
    const second = await api.request("POST", "/v2/jobs", { token, body, headers });
    expect(second.body.job.id).toBe(first.body.job.id);
    const after = JSON.parse(readFileSync(secretsFile(api), "utf8"));
    expect(Object.keys(after).length).toBe(secretsBefore + 1);
    const item = await api.core.ports.store.get<StoredExecution>("job_execution", first.body.job.id);
    expect(after[item!.secret_configs_ref!]).toEqual({ configs: { "x.password": SECRET } });
  });
});

/** The local secret store's file (FileSecretStore keeps its path private; the test counts what it holds). */
function secretsFile(api: TestApi): string {
  return (api.core.ports.secrets as unknown as { path: string }).path;
}

describe("11.1, 11.5 through the HTTP API", () => {
  let api: TestApi;
  let token: string;
  let clusterId: string;
  const templates: Record<string, string> = {};
  beforeAll(async () => {
    // Submit-time validation is what is tested: the cluster is never reached, so it skips issue 13's health check.
    api = await startTestApi({ registrations: [uncheckedRegistration(registration)] });
    ({ token } = await api.newProject());
    const userKey = ed25519KeyPair();
    const hostKey = ed25519KeyPair();
    // Nothing listens on this loopback port: a job that is accepted fails to launch, which is not what is tested here.
    const port = await freePort();
    const cluster = await api.request("POST", "/v2/clusters", {
      token,
      body: {
        name: "spark-api",
        plugin_name: "spark",
        plugin_version: "4.3.0",
        connection: { host: "127.0.0.1", port, user: "spark", private_key: userKey.private, host_key: hostKey.public },
      },
    });
    expect(cluster.status, cluster.text).toBe(202);
    clusterId = cluster.body.cluster.id;
    for (const name of ["pi.py", "app.jar"]) {
      const upload = await api.request("PUT", `/v2/job-binary-internals/${name}`, { token, raw: "x" });
      const binary = await api.request("POST", "/v2/job-binaries", {
        token,
        body: { name, url: `internal-db://${upload.body.job_binary_internal.id}` },
      });
      const template = await api.request("POST", "/v2/job-templates", {
        token,
        body: { name: `t-${name.replace(".", "-")}`, type: "Spark", mains: [binary.body.job_binary.id] },
      });
      templates[name] = template.body.job_template.id;
    }
  });
  afterAll(async () => api?.close());

  const submit = (name: string, configs: Record<string, string | number>) =>
    api.request("POST", "/v2/jobs", { token, body: { cluster_id: clusterId, job_template_id: templates[name], job_configs: { configs } } });

  it("11.1 a .py main is accepted without a main class; a jar main without one is Sahara's 400", async () => {
    expect((await submit("pi.py", {})).status).toBe(202);
    const refused = await submit("app.jar", {});
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ error_code: 400, error_message: "Spark job must specify edp.java.main_class" });
  });

  it("11.5 a bad typed config is a 400 naming it, and stores nothing", async () => {
    const before = (await api.request("GET", "/v2/jobs", { token })).body.jobs.length;
    const refused = await submit("pi.py", { "edp.spark.packages": "not-a-coordinate" });
    expect(refused.status).toBe(400);
    expect(refused.body.error_message).toBe(
      "Config 'edp.spark.packages' 'not-a-coordinate' is not a Maven coordinate groupId:artifactId:version",
    );
    expect((await api.request("GET", "/v2/jobs", { token })).body.jobs.length).toBe(before);
  });

  it("11.1, 11.5 GET /v2/job-templates/config-hints/Spark lists the configs with descriptions", async () => {
    const hints = await api.request("GET", "/v2/job-templates/config-hints/Spark", { token });
    expect(hints.status).toBe(200);
    const names = hints.body.job_config.configs.map((hint: { name: string }) => hint.name);
    for (const name of [
      "edp.java.main_class",
      "edp.spark.python",
      "edp.spark.driver_python",
      "edp.spark.driver_memory",
      "edp.spark.executor_memory",
      "edp.spark.total_executor_cores",
      "edp.spark.packages",
      "edp.spark.files",
    ])
      expect(names).toContain(name);
  });
});
