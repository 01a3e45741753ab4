import type { ExecutionValidationRequest } from "@edp/core/engines/engine";
import { SparkConnectionSchema, sparkConnectionOf } from "@edp/core/engines/spark/connection";
import { SparkEngine } from "@edp/core/engines/spark/engine";
import { sparkEngineRegistration as registration } from "@edp/core/engines/spark/registration";
import { EngineError, InvalidDataError } from "@edp/core/errors";
import type { JobConfigs } from "@edp/core/model/job-execution";
import type { JobType } from "@edp/core/model/job-types";
import { parsePinnedHostKey } from "@edp/core/runners/ssh-host-key";
import { describe, expect, it } from "vitest";
import { ed25519KeyPair } from "../support/keys.js";
import { preparedJob, sparkAccess } from "../support/spark-jobs.js";

const userKey = ed25519KeyPair();
const hostKey = ed25519KeyPair("root@master");
const SSH = { host: "master.example.com", user: "spark", host_key: hostKey.public, private_key: userKey.private };

function issues(connection: unknown): Record<string, string> {
  const result = SparkConnectionSchema.safeParse(connection);
  if (result.success) return {};
  return Object.fromEntries(result.error.issues.map((issue) => [issue.path.join("."), issue.message]));
}

describe("spark cluster connection", () => {
  it("is registered for the spark plugin with private_key as its only secret", () => {
    expect(registration.plugins).toEqual(["spark"]);
    expect(registration.secretFields).toEqual(["private_key"]);
  });

  it("fills in defaults for an SSH master", () => {
    expect(SparkConnectionSchema.parse(SSH)).toEqual({
      ...SSH,
      mode: "ssh",
      port: 22,
      working_dir_base: "~/.edp/jobs",
      retention_days: 7,
      environment: {},
    });
  });

  it("needs host, user and host_key for SSH, and nothing for the local cluster", () => {
    expect(issues({ mode: "ssh" })).toEqual({
      host: "is required when mode is 'ssh'",
      user: "is required when mode is 'ssh'",
      host_key: "is required when mode is 'ssh'",
    });
    expect(issues({ mode: "local" })).toEqual({});
    expect(issues({ mode: "local", spark_home: "/opt/spark" })).toEqual({});
  });

  it("rejects unusable values with the field named", () => {
    expect(Object.keys(issues({ ...SSH, host_key: "not a key" }))).toEqual(["host_key"]);
    expect(Object.keys(issues({ ...SSH, host_key: `ssh-ed25519 ${"A".repeat(68)}` }))).toEqual(["host_key"]);
    expect(Object.keys(issues({ ...SSH, host_key: userKey.private }))).toEqual(["host_key"]);
    expect(Object.keys(issues({ ...SSH, private_key: "-----BEGIN OPENSSH PRIVATE KEY-----\ngarbage" }))).toEqual(["private_key"]);
    expect(Object.keys(issues({ ...SSH, private_key: userKey.public }))).toEqual(["private_key"]);
    expect(Object.keys(issues({ ...SSH, port: 70000 }))).toEqual(["port"]);
    expect(Object.keys(issues({ ...SSH, host: "$(touch x)" }))).toEqual(["host"]);
    expect(Object.keys(issues({ ...SSH, user: "a b" }))).toEqual(["user"]);
    expect(Object.keys(issues({ ...SSH, working_dir_base: "relative/dir" }))).toEqual(["working_dir_base"]);
    expect(Object.keys(issues({ ...SSH, working_dir_base: "/tmp/../etc" }))).toEqual(["working_dir_base"]);
    expect(Object.keys(issues({ ...SSH, working_dir_base: "/tmp/a\nb" }))).toEqual(["working_dir_base"]);
    expect(Object.keys(issues({ ...SSH, spark_submit: "spark submit" }))).toEqual(["spark_submit"]);
    expect(Object.keys(issues({ ...SSH, master_url: "spark://a:7077 --conf x" }))).toEqual(["master_url"]);
    expect(Object.keys(issues({ ...SSH, environment: { "A;B": "x" } }))).toEqual(["environment.A;B"]);
    expect(Object.keys(issues({ ...SSH, typo: 1 }))).toEqual([""]);
  });

  it("accepts the host key as a .pub line or as ssh-keyscan prints it", () => {
    const [type, base64] = hostKey.public.split(" ");
    for (const line of [hostKey.public, `${type} ${base64}`, `master.example.com ${type} ${base64}`, `[10.0.0.5]:2222 ${type} ${base64}`]) {
      expect(issues({ ...SSH, host_key: line })).toEqual({});
      expect(parsePinnedHostKey(line)).toMatchObject({ type: "ssh-ed25519", algorithms: ["ssh-ed25519"] });
    }
    expect(parsePinnedHostKey(hostKey.public).fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });

  it("puts the secret back from ClusterAccess.secrets at run time", () => {
    const { private_key, ...stored } = SSH;
    const access = sparkAccess(stored, { secrets: { private_key } });
    expect(sparkConnectionOf(access).private_key).toBe(private_key);
    expect(() => sparkConnectionOf(sparkAccess({ mode: "ssh" }))).toThrow(EngineError);
  });
});

describe("job types and versions (numeric comparison, at least 1.0.0)", () => {
  it("runs Java, Shell and Spark from Spark 1.0.0 on", () => {
    for (const version of ["1.0.0", "1.6.3", "2.4.8", "3.5.1", "4.3.0", "10.0.0", "1"]) {
      expect(registration.supportedJobTypes(version)).toEqual(["Java", "Shell", "Spark"]);
    }
    for (const version of ["0.9.2", "0.10", "abc"]) {
      expect(registration.supportedJobTypes(version)).toEqual([]);
    }
  });

  it("offers Sahara's config hints (issue 11: plus the spark-submit configs, described)", () => {
    expect(registration.configHints?.("Spark")).toMatchObject({ args: [] });
    expect(registration.configHints?.("Java")).toEqual(registration.configHints?.("Spark"));
    expect(registration.configHints?.("Shell")).toEqual({ configs: [], params: {}, args: [] });
    expect(registration.configHints?.("Pig")).toBeUndefined();
  });

  it("creates the Spark engine", async () => {
    const engine = await registration.create({ settings: { cancelGraceSeconds: 60, connectTimeoutMs: 1000, commandTimeoutMs: 1000 } });
    expect(engine).toBeInstanceOf(SparkEngine);
    expect(typeof engine.getJobStatuses).toBe("function");
    expect(typeof engine.readOutput).toBe("function");
  });
});

describe("submit-time validation: clear 400s", () => {
  const request = (
    type: JobType,
    configs: Partial<JobConfigs> = {},
    template: { mains?: string[]; libs?: string[] } = {},
    version = "4.3.0",
  ): ExecutionValidationRequest => {
    const job = preparedJob({ access: sparkAccess({ mode: "local" }, { version }), type });
    return {
      cluster: job.access.cluster,
      template: { ...job.template, mains: template.mains ?? ["m"], libs: template.libs ?? [] },
      configs: { configs: {}, params: {}, args: [], ...configs },
    };
  };
  const validate = (r: ExecutionValidationRequest) => registration.validateJobExecution!(r);
  const refusal = (r: ExecutionValidationRequest) => {
    try {
      validate(r);
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidDataError);
      expect((error as InvalidDataError).httpStatus).toBe(400);
      return (error as Error).message;
    }
    throw new Error("expected a refusal");
  };
  const main = { configs: { "edp.java.main_class": "org.example.Main" } };

  it("accepts well-formed jobs", () => {
    expect(() => validate(request("Spark", main))).not.toThrow();
    expect(() => validate(request("Java", main, { mains: [], libs: ["l"] }))).not.toThrow();
    expect(() => validate(request("Shell", { params: { INPUT: "$(anything)" }, args: ["`x`"] }))).not.toThrow();
  });

  it("refuses a missing or malformed main class", () => {
    expect(refusal(request("Spark"))).toBe("Spark job must specify edp.java.main_class");
    expect(refusal(request("Java", { configs: { "edp.java.main_class": " " } }, { libs: ["l"] }))).toBe(
      "Java job must specify edp.java.main_class",
    );
    expect(refusal(request("Spark", { configs: { "edp.java.main_class": "org.Main; rm -rf /" } }))).toMatch(/is not a Java class name/);
  });

  it("refuses missing binaries", () => {
    expect(refusal(request("Spark", main, { mains: [] }))).toBe("Spark job requires main application jar");
    expect(refusal(request("Java", main, { mains: [], libs: [] }))).toBe("Java job requires its jar in libs");
    expect(refusal(request("Shell", {}, { mains: [] }))).toBe("Shell flow requires main script");
  });

  it("refuses too old a Spark, comparing versions as numbers", () => {
    expect(refusal(request("Spark", main, {}, "0.9.2"))).toBe("Spark 1.0.0 or higher required to run Spark jobs (the cluster has '0.9.2')");
    expect(() => validate(request("Spark", main, {}, "10.0.0"))).not.toThrow();
  });

  it("refuses Shell params that cannot be environment variables and Spark properties that cannot be --conf", () => {
    expect(refusal(request("Shell", { params: { "$(touch x)": "v" } }))).toMatch(/'\$\(touch x\)' is not a valid variable name/);
    expect(refusal(request("Spark", { configs: { ...main.configs, "spark.a=b": "v" } }))).toMatch(/not a valid Spark property name/);
  });

  it("refuses job types the engine does not run", () => {
    expect(refusal(request("Pig"))).toMatch(/cannot run on a Spark standalone cluster/);
  });
});
