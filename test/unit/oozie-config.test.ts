// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Oozie EL (`${...}`) in test data, not JavaScript templates
import { describe, expect, it } from "vitest";
import { normaliseConnection, OozieConnectionSchema, resolveConnection } from "../../core/src/engines/oozie/connection.js";
import { credentialProperties, injectSwiftSuffix, splitConfigs } from "../../core/src/engines/oozie/job-config.js";
import { jobProperties, jobPropertiesXml } from "../../core/src/engines/oozie/job-properties.js";
import { planLayout } from "../../core/src/engines/oozie/layout.js";
import { oozieEngineRegistration } from "../../core/src/engines/oozie/registration.js";
import { EngineError } from "../../core/src/errors.js";
import { parseHadoopConfiguration } from "../doubles/oozie-webhdfs.js";
import { binary, clusterAccess, dataSource } from "./oozie-fixtures.js";

const CONNECTION = {
  oozie_url: "http://master:11000/oozie",
  name_node: "hdfs://master:8020",
  resource_manager: "master:8032",
  webhdfs_url: "http://master:50070",
  hdfs_user: "hadoop",
};

describe("Oozie cluster connection", () => {
  it("accepts the documented fields, keeps the password write-only, and refuses unknown keys", () => {
    expect(OozieConnectionSchema.safeParse(CONNECTION).success).toBe(true);
    expect(OozieConnectionSchema.safeParse({ ...CONNECTION, password: "s3cret", auth_user: "knox" }).success).toBe(true);
    expect(oozieEngineRegistration.secretFields).toEqual(["password"]);
    const unknown = OozieConnectionSchema.safeParse({ ...CONNECTION, sudo: true });
    expect(unknown.success).toBe(false);
  });

  it.each([
    ["oozie_url", "ftp://master/oozie"],
    ["name_node", "hdfs://master:8020/with/path"],
    ["resource_manager", "master:8032 ${x}"],
    ["webhdfs_url", "master:50070"],
    ["hdfs_user", "bad user"],
    ["workflow_base_dir", "relative/dir"],
    ["workflow_base_dir", "/user/../etc"],
  ])("rejects a bad %s (%s)", (field, value) => {
    const result = OozieConnectionSchema.safeParse({ ...CONNECTION, [field]: value });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0].path).toEqual([field]);
  });

  it("normalises URLs: /oozie added to a bare host, /webhdfs/v1 appended once, trailing slashes dropped", () => {
    const bare = normaliseConnection({ ...CONNECTION, oozie_url: "http://master:11000/", webhdfs_url: "http://master:50070/webhdfs/v1/" });
    expect(bare.oozieUrl).toBe("http://master:11000/oozie");
    expect(bare.webhdfsRoot).toBe("http://master:50070/webhdfs/v1");
    const plain = normaliseConnection({ ...CONNECTION, oozie_url: "https://gw/gateway/default/oozie/" });
    expect(plain.oozieUrl).toBe("https://gw/gateway/default/oozie");
    expect(plain.webhdfsRoot).toBe("http://master:50070/webhdfs/v1");
    expect(plain.workflowBaseDir).toBe("/user/hadoop/edp");
    expect(plain.authorization).toBeUndefined();
  });

  it("builds basic auth from the secret, for auth_user or else hdfs_user", () => {
    const access = clusterAccess({ ...CONNECTION }, { password: "pw" });
    expect(resolveConnection(access).authorization).toBe(`Basic ${Buffer.from("hadoop:pw").toString("base64")}`);
    const knox = resolveConnection(clusterAccess({ ...CONNECTION, auth_user: "guest" }, { password: "pw" }));
    expect(knox.authorization).toBe(`Basic ${Buffer.from("guest:pw").toString("base64")}`);
  });

  it("a stored connection that no longer parses is an EngineError naming the fields, not the values", () => {
    const access = clusterAccess({ ...CONNECTION, oozie_url: "nope" }, { password: "do-not-print" });
    expect(() => resolveConnection(access)).toThrow(EngineError);
    expect(() => resolveConnection(access)).toThrow(/oozie_url/);
    try {
      resolveConnection(access);
    } catch (error) {
      expect(String(error)).not.toContain("do-not-print");
    }
  });
});

describe("registration", () => {
  it("serves vanilla, cdh and hdp with the six Oozie job types on Hadoop 2+ versions", () => {
    expect(oozieEngineRegistration.plugins).toEqual(["vanilla", "cdh", "hdp"]);
    expect([...oozieEngineRegistration.supportedJobTypes("2.7.1")].sort()).toEqual([
      "Hive",
      "Java",
      "MapReduce",
      "MapReduce.Streaming",
      "Pig",
      "Shell",
    ]);
    expect(oozieEngineRegistration.supportedJobTypes("5.11.0")).toHaveLength(6);
    expect(oozieEngineRegistration.supportedJobTypes("1.2.1")).toEqual([]);
    expect(oozieEngineRegistration.supportedJobTypes("2.7.1")).not.toContain("Spark");
  });

  it("config hints follow Sahara §3", () => {
    const hints = (type: Parameters<NonNullable<typeof oozieEngineRegistration.configHints>>[0]) =>
      oozieEngineRegistration.configHints?.(type);
    expect(hints("Shell")).toEqual({ configs: [], params: {}, args: [] });
    expect(hints("Java")).toEqual({ configs: [], args: [] });
    expect(hints("Pig")?.params).toEqual({});
    expect(hints("Pig")?.configs.some((c) => c.name === "mapreduce.job.reduces")).toBe(true);
    expect(hints("MapReduce")?.configs.some((c) => c.name === "mapreduce.job.map.class")).toBe(true);
    expect(hints("Hive")?.configs.some((c) => c.name.startsWith("hive."))).toBe(true);
    expect(hints("Hive")?.params).toEqual({});
    expect(hints("Spark")).toBeUndefined();
  });
});

describe("job_configs split (Sahara update_job_dict)", () => {
  it("separates edp.*, oozie.* and Hadoop keys, stringifies numbers, and does not mutate the input", () => {
    const input = {
      configs: { "edp.java.main_class": "M", "oozie.libpath": "/l", "mapreduce.job.reduces": 2 },
      params: { A: 1 },
      args: ["x"],
    };
    const snapshot = structuredClone(input);
    const split = splitConfigs(input);
    expect([...split.edp]).toEqual([["edp.java.main_class", "M"]]);
    expect([...split.oozie]).toEqual([["oozie.libpath", "/l"]]);
    expect([...split.hadoop]).toEqual([["mapreduce.job.reduces", "2"]]);
    expect([...split.params]).toEqual([["A", "1"]]);
    expect(split.args).toEqual(["x"]);
    expect(input).toEqual(snapshot);
  });

  it("injects the .sahara suffix into Swift URLs in args, configs and params only", () => {
    expect(injectSwiftSuffix("swift://ex/o")).toBe("swift://ex.sahara/o");
    expect(injectSwiftSuffix("swift://ex.sahara/o")).toBe("swift://ex.sahara/o");
    expect(injectSwiftSuffix("hdfs://nn/swift://ex/o")).toBe("hdfs://nn/swift://ex/o");
    const split = splitConfigs({ configs: { k: "swift://c/o" }, params: { P: "swift://c/p" }, args: ["swift://c/a", "plain"] });
    expect(split.hadoop.get("k")).toBe("swift://c.sahara/o");
    expect(split.params.get("P")).toBe("swift://c.sahara/p");
    expect(split.args).toEqual(["swift://c.sahara/a", "plain"]);
  });

  it("maps the first Swift and the first S3 data source's credentials to Hadoop properties", () => {
    const swift = dataSource("swift", "swift://c.sahara/in", { user: "u", password: "p" });
    const s3 = dataSource("s3", "s3a://bucket/out", {
      accesskey: "AK",
      secretkey: "SK",
      endpoint: "s3.local",
      bucket_in_path: true,
      ssl: false,
    });
    expect(Object.fromEntries(credentialProperties([swift, s3]))).toEqual({
      "fs.swift.service.sahara.username": "u",
      "fs.swift.service.sahara.password": "p",
      "fs.s3a.access.key": "AK",
      "fs.s3a.secret.key": "SK",
      "fs.s3a.endpoint": "s3.local",
      "fs.s3a.path.style.access": "true",
      "fs.s3a.connection.ssl.enabled": "false",
    });
    expect(credentialProperties([dataSource("hdfs", "hdfs://nn/in"), undefined]).size).toBe(0);
  });
});

describe("job properties (Sahara _get_oozie_job_params)", () => {
  const connection = normaliseConnection(CONNECTION);

  it("carries the app path, nameNode, jobTracker, user and the system libpath", () => {
    const properties = jobProperties(connection, "/user/hadoop/edp/wc/exec-1", splitConfigs({ configs: {}, params: {}, args: [] }));
    expect(Object.fromEntries(properties)).toEqual({
      "oozie.wf.application.path": "hdfs://master:8020/user/hadoop/edp/wc/exec-1/workflow.xml",
      nameNode: "hdfs://master:8020",
      jobTracker: "master:8032",
      "user.name": "hadoop",
      "oozie.use.system.libpath": "true",
    });
  });

  it("adds the user's oozie.* keys, never their application paths, and appends the HBase lib to their libpath", () => {
    const split = splitConfigs({
      configs: {
        "oozie.wf.application.path": "hdfs://evil/wf.xml",
        "oozie.coord.application.path": "hdfs://evil/coord.xml",
        "oozie.libpath": "/mylibpath",
        "oozie.use.system.libpath": "false",
        "oozie.job.acl": "alice",
        "edp.hbase_common_lib": "True",
        "mapreduce.job.reduces": "2",
      },
      params: {},
      args: [],
    });
    const properties = jobProperties(connection, "/d", split);
    expect(properties.get("oozie.wf.application.path")).toBe("hdfs://master:8020/d/workflow.xml");
    expect(properties.has("oozie.coord.application.path")).toBe(false);
    expect(properties.get("oozie.libpath")).toBe("/mylibpath,hdfs://master:8020/user/sahara-hbase-lib");
    expect(properties.get("oozie.use.system.libpath")).toBe("false");
    expect(properties.get("oozie.job.acl")).toBe("alice");
    expect(properties.has("mapreduce.job.reduces")).toBe(false);
    expect(properties.has("edp.hbase_common_lib")).toBe(false);
  });

  it("serialises as a Hadoop configuration document, hostile values included", () => {
    const properties = new Map([
      ["user.name", "hadoop"],
      ["oozie.x", "</value><name>y</name>&amp; ]]>"],
    ]);
    expect(parseHadoopConfiguration(jobPropertiesXml(properties))).toEqual([...properties]);
  });
});

describe("HDFS layout", () => {
  const mains = [binary("script.pig", "A = load '$INPUT';")];
  const libs = [binary("udf.jar", "jar"), binary("more.jar", "jar")];

  it("puts mains in the workflow directory and libs in lib/", () => {
    const layout = planLayout({ baseDir: "/user/hadoop/edp", templateName: "wc", executionId: "e-1", jobType: "Pig", mains, libs });
    expect(layout.workflowDir).toBe("/user/hadoop/edp/wc/e-1");
    expect(layout.libDir).toBe("/user/hadoop/edp/wc/e-1/lib");
    expect(layout.workflowPath).toBe("/user/hadoop/edp/wc/e-1/workflow.xml");
    expect(layout.uploads.map((u) => u.path)).toEqual([
      "/user/hadoop/edp/wc/e-1/script.pig",
      "/user/hadoop/edp/wc/e-1/lib/udf.jar",
      "/user/hadoop/edp/wc/e-1/lib/more.jar",
    ]);
  });

  it("puts a Shell job's libs beside its script", () => {
    const layout = planLayout({
      baseDir: "/b",
      templateName: "sh",
      executionId: "e",
      jobType: "Shell",
      mains: [binary("run.sh", "")],
      libs: [binary("data.txt", "")],
    });
    expect(layout.libDir).toBeUndefined();
    expect(layout.uploads.map((u) => u.path)).toEqual(["/b/sh/e/run.sh", "/b/sh/e/data.txt"]);
  });

  it("refuses names that would collide or escape the directory", () => {
    expect(() =>
      planLayout({
        baseDir: "/b",
        templateName: "sh",
        executionId: "e",
        jobType: "Shell",
        mains: [binary("x.sh", "")],
        libs: [binary("x.sh", "")],
      }),
    ).toThrow(/would overwrite/);
    expect(() =>
      planLayout({ baseDir: "/b", templateName: "t", executionId: "e", jobType: "Java", mains: [], libs: [binary("workflow.xml", "")] }),
    ).not.toThrow();
    expect(() =>
      planLayout({ baseDir: "/b", templateName: "t", executionId: "e", jobType: "Shell", mains: [binary("workflow.xml", "")], libs: [] }),
    ).toThrow(/generated workflow/);
    expect(() =>
      planLayout({ baseDir: "/b", templateName: "t", executionId: "e", jobType: "Java", mains: [], libs: [binary("../x.jar", "")] }),
    ).toThrow(EngineError);
    expect(() => planLayout({ baseDir: "/b", templateName: "..", executionId: "e", jobType: "Java", mains: [], libs: [] })).toThrow(
      EngineError,
    );
  });
});
