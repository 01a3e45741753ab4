// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Oozie EL (`${...}`) in test data, not JavaScript templates
import { describe, expect, it } from "vitest";
import { splitConfigs } from "../../core/src/engines/oozie/job-config.js";
import { buildWorkflowXml, type WorkflowInput } from "../../core/src/engines/oozie/workflow.js";
import { EngineError } from "../../core/src/errors.js";
import { evaluateEl, parseXml, schemaTestsRun, validateWorkflowXml } from "../doubles/oozie-webhdfs.js";
import { HOSTILE } from "./oozie-fixtures.js";

type Node = ReturnType<typeof parseXml>;
const OOZIE_TYPES = ["Pig", "Hive", "MapReduce", "MapReduce.Streaming", "Java", "Shell"] as const;

/** The job properties Oozie resolves `${...}` against. */
const VARIABLES = new Map([
  ["nameNode", "hdfs://nn:8020"],
  ["jobTracker", "rm:8032"],
]);

function input(
  jobType: WorkflowInput["jobType"],
  overrides: Partial<WorkflowInput> = {},
  configs: Parameters<typeof splitConfigs>[0] = { configs: {}, params: {}, args: [] },
): WorkflowInput {
  const base: Record<string, string> = {};
  if (jobType === "Java") base["edp.java.main_class"] = "org.example.Main";
  if (jobType === "MapReduce.Streaming")
    Object.assign(base, { "edp.streaming.mapper": "/bin/cat", "edp.streaming.reducer": "/usr/bin/wc" });
  return {
    jobType,
    appName: "edp-5b7e8e1e-0000-4000-8000-000000000001",
    configs: splitConfigs({ ...configs, configs: { ...base, ...configs.configs } }),
    mainNames: jobType === "Pig" ? ["script.pig"] : jobType === "Hive" ? ["script.q"] : jobType === "Shell" ? ["run.sh"] : [],
    libNames: ["udf.jar"],
    inputUrl: jobType === "Java" || jobType === "Shell" ? undefined : "hdfs://nn:8020/user/hadoop/in",
    outputUrl: jobType === "Java" || jobType === "Shell" ? undefined : "hdfs://nn:8020/user/hadoop/out",
    ...overrides,
  };
}

function action(xml: string): Node {
  const root = parseXml(xml);
  expect(root.tag).toBe("workflow-app");
  const actions = root.children.filter((c) => c.tag === "action");
  expect(actions).toHaveLength(1);
  const [element, ...rest] = actions[0].children;
  expect(rest.map((c) => c.tag)).toEqual(["ok", "error"]);
  return element;
}

const texts = (node: Node, tag: string) => node.children.filter((c) => c.tag === tag).map((c) => evaluateEl(c.text, VARIABLES));
const text = (node: Node, tag: string) => texts(node, tag)[0];
function configuration(node: Node): [string, string][] {
  const conf = node.children.find((c) => c.tag === "configuration");
  if (!conf) return [];
  return conf.children.map((p) => [evaluateEl(p.children[0].text, VARIABLES), evaluateEl(p.children[1].text, VARIABLES)]);
}

describe("Oozie workflow.xml per job type (Sahara §8)", () => {
  it("shares the skeleton: start → job-node → end | fail, with the kill message", () => {
    const root = parseXml(buildWorkflowXml(input("Pig")));
    expect(root.attributes).toMatchObject({ xmlns: "uri:oozie:workflow:0.5", name: "edp-5b7e8e1e-0000-4000-8000-000000000001" });
    expect(root.children.map((c) => c.tag)).toEqual(["start", "action", "kill", "end"]);
    expect(root.children[0].attributes.to).toBe("job-node");
    expect(root.children[1].attributes.name).toBe("job-node");
    expect(root.children[2].children[0].text).toBe("Workflow failed, error message[${wf:errorMessage(wf:lastErrorNode())}]");
  });

  it("Pig: script, INPUT/OUTPUT params then user params (user wins), arguments, configuration without edp./oozie. keys", () => {
    const pig = action(
      buildWorkflowXml(
        input(
          "Pig",
          {},
          {
            configs: { "mapreduce.job.reduces": 3, "edp.hbase_common_lib": "true", "oozie.launcher.x": "y" },
            params: { OUTPUT: "hdfs://nn:8020/custom", N: 5 },
            args: ["-v", "x"],
          },
        ),
      ),
    );
    expect(pig.tag).toBe("pig");
    expect(pig.children.map((c) => c.tag)).toEqual([
      "job-tracker",
      "name-node",
      "configuration",
      "script",
      "param",
      "param",
      "param",
      "argument",
      "argument",
    ]);
    expect(text(pig, "job-tracker")).toBe("rm:8032");
    expect(text(pig, "name-node")).toBe("hdfs://nn:8020");
    expect(text(pig, "script")).toBe("script.pig");
    expect(texts(pig, "param")).toEqual(["INPUT=hdfs://nn:8020/user/hadoop/in", "OUTPUT=hdfs://nn:8020/custom", "N=5"]);
    expect(texts(pig, "argument")).toEqual(["-v", "x"]);
    expect(configuration(pig)).toEqual([["mapreduce.job.reduces", "3"]]);
  });

  it("Hive: the hive-action 0.5 namespace, hive-site.xml as job-xml when configured, script and params", () => {
    const hive = action(
      buildWorkflowXml(
        input("Hive", { hiveSitePath: "/user/hadoop/conf/hive-site.xml" }, { configs: {}, params: { DAY: "2024-01-01" }, args: [] }),
      ),
    );
    expect(hive.tag).toBe("hive");
    expect(hive.attributes.xmlns).toBe("uri:oozie:hive-action:0.5");
    expect(texts(hive, "job-xml")).toEqual(["/user/hadoop/conf/hive-site.xml"]);
    expect(text(hive, "script")).toBe("script.q");
    expect(texts(hive, "param")).toEqual([
      "INPUT=hdfs://nn:8020/user/hadoop/in",
      "OUTPUT=hdfs://nn:8020/user/hadoop/out",
      "DAY=2024-01-01",
    ]);
    expect(hive.children.some((c) => c.tag === "configuration")).toBe(false);
    const withoutSite = action(buildWorkflowXml(input("Hive")));
    expect(texts(withoutSite, "job-xml")).toEqual([]);
  });

  it("MapReduce: mapred.input.dir/output.dir defaults under the user's configuration", () => {
    const mr = action(
      buildWorkflowXml(
        input(
          "MapReduce",
          {},
          { configs: { "mapred.mapper.class": "org.M", "mapred.output.dir": "hdfs://nn:8020/override" }, params: {}, args: [] },
        ),
      ),
    );
    expect(mr.tag).toBe("map-reduce");
    expect(mr.children.map((c) => c.tag)).toEqual(["job-tracker", "name-node", "configuration"]);
    expect(new Map(configuration(mr))).toEqual(
      new Map([
        ["mapred.input.dir", "hdfs://nn:8020/user/hadoop/in"],
        ["mapred.output.dir", "hdfs://nn:8020/override"],
        ["mapred.mapper.class", "org.M"],
      ]),
    );
  });

  it("MapReduce.Streaming: <streaming> with the mapper and reducer from edp.streaming.*, kept out of the configuration", () => {
    const mr = action(buildWorkflowXml(input("MapReduce.Streaming")));
    expect(mr.children.map((c) => c.tag)).toEqual(["job-tracker", "name-node", "streaming", "configuration"]);
    const streaming = mr.children[2];
    expect(texts(streaming, "mapper")).toEqual(["/bin/cat"]);
    expect(texts(streaming, "reducer")).toEqual(["/usr/bin/wc"]);
    expect(configuration(mr).map(([name]) => name)).toEqual(["mapred.input.dir", "mapred.output.dir"]);
  });

  it("Java: main-class and java-opts from edp.java.*, one <arg> per arg, no data-source wiring", () => {
    const java = action(
      buildWorkflowXml(
        input(
          "Java",
          {},
          { configs: { "edp.java.java_opts": "-Xmx1g -Dx=y", "mapreduce.job.queuename": "q" }, params: {}, args: ["in", "out"] },
        ),
      ),
    );
    expect(java.children.map((c) => c.tag)).toEqual(["job-tracker", "name-node", "configuration", "main-class", "java-opts", "arg", "arg"]);
    expect(text(java, "main-class")).toBe("org.example.Main");
    expect(text(java, "java-opts")).toBe("-Xmx1g -Dx=y");
    expect(texts(java, "arg")).toEqual(["in", "out"]);
    expect(configuration(java)).toEqual([["mapreduce.job.queuename", "q"]]);
  });

  it("Shell: exec, arguments, params as env-vars, and files (libs, then the script)", () => {
    const shell = action(buildWorkflowXml(input("Shell", {}, { configs: {}, params: { P1: "v1", P2: "v 2" }, args: ["a", "b c"] })));
    expect(shell.attributes.xmlns).toBe("uri:oozie:shell-action:0.3");
    expect(shell.children.map((c) => c.tag)).toEqual([
      "job-tracker",
      "name-node",
      "exec",
      "argument",
      "argument",
      "env-var",
      "env-var",
      "file",
      "file",
    ]);
    expect(text(shell, "exec")).toBe("run.sh");
    expect(texts(shell, "argument")).toEqual(["a", "b c"]);
    expect(texts(shell, "env-var")).toEqual(["P1=v1", "P2=v 2"]);
    expect(texts(shell, "file")).toEqual(["udf.jar", "run.sh"]);
  });

  it("refers to the credentials file with <job-xml> and never carries a credential itself", () => {
    for (const type of OOZIE_TYPES) {
      const xml = buildWorkflowXml(input(type, { credentialsJobXml: "edp-credentials.xml" }));
      expect(texts(action(xml), "job-xml")).toContain("edp-credentials.xml");
      expect(xml).not.toMatch(/fs\.s3a|fs\.swift|password|secret/i);
    }
  });

  it("refuses a character XML cannot carry instead of writing a broken document", () => {
    expect(() => buildWorkflowXml(input("Java", {}, { configs: {}, params: {}, args: ["nul\u0000byte"] }))).toThrow(EngineError);
    expect(() => buildWorkflowXml(input("Java", {}, { configs: {}, params: {}, args: ["lone \uD800 surrogate"] }))).toThrow(/U\+D800/);
  });
});

describe("hostile strings come out as inert text (markup and Oozie EL)", () => {
  const hostileConfigs = Object.fromEntries(HOSTILE.map((value, index) => [`k${index}.${value}`, value]));
  const hostileParams = Object.fromEntries(HOSTILE.map((value, index) => [`P${index}`, value]));

  it.each(OOZIE_TYPES)("%s: every hostile arg, param and config reaches the job unchanged", (type) => {
    const configs = { configs: { ...hostileConfigs }, params: hostileParams, args: HOSTILE };
    const overrides: Partial<WorkflowInput> = { inputUrl: "hdfs://nn:8020/in/${x}&<y>", outputUrl: "hdfs://nn:8020/out]]>" };
    if (type === "Java") configs.configs["edp.java.java_opts"] = "-Dx=${nameNode} </java-opts>";
    if (type === "MapReduce.Streaming")
      Object.assign(configs.configs, { "edp.streaming.mapper": "cat </mapper>${x}", "edp.streaming.reducer": "wc ]]>" });
    if (type === "Java" || type === "Shell") Object.assign(overrides, { inputUrl: undefined, outputUrl: undefined });
    const xml = buildWorkflowXml(input(type, overrides, configs));

    expect(xml).not.toContain("<!DOCTYPE");
    expect(xml).not.toContain("<!ENTITY");
    expect(xml).not.toContain("<![CDATA[");
    const element = action(xml);
    const expectedConfig = Object.entries(hostileConfigs);
    if (type === "MapReduce" || type === "MapReduce.Streaming") {
      expect(configuration(element)).toEqual([
        ["mapred.input.dir", "hdfs://nn:8020/in/${x}&<y>"],
        ["mapred.output.dir", "hdfs://nn:8020/out]]>"],
        ...expectedConfig,
      ]);
      return;
    }
    expect(configuration(element)).toEqual(expectedConfig);
    const params = Object.entries(hostileParams).map(([key, value]) => `${key}=${value}`);
    switch (type) {
      case "Pig":
        expect(texts(element, "param")).toEqual(["INPUT=hdfs://nn:8020/in/${x}&<y>", "OUTPUT=hdfs://nn:8020/out]]>", ...params]);
        expect(texts(element, "argument")).toEqual(HOSTILE);
        break;
      case "Hive":
        expect(texts(element, "param")).toEqual(["INPUT=hdfs://nn:8020/in/${x}&<y>", "OUTPUT=hdfs://nn:8020/out]]>", ...params]);
        break;
      case "Java":
        expect(texts(element, "arg")).toEqual(HOSTILE);
        expect(text(element, "java-opts")).toBe("-Dx=${nameNode} </java-opts>");
        break;
      case "Shell":
        expect(texts(element, "argument")).toEqual(HOSTILE);
        expect(texts(element, "env-var")).toEqual(params);
        break;
    }
  });

  it("writes `${` in user values as Oozie's string-literal escape, and only there", () => {
    const xml = buildWorkflowXml(input("Java", {}, { configs: {}, params: {}, args: ["${wf:user()}", "plain $ and {braces}"] }));
    const java = action(xml);
    const raw = java.children.filter((c) => c.tag === "arg").map((c) => c.text);
    expect(raw).toEqual(["${'$'}{wf:user()}", "plain $ and {braces}"]);
    expect(java.children.find((c) => c.tag === "job-tracker")?.text).toBe("${jobTracker}");
  });

  it("keeps CR, tabs and surrounding whitespace (written as character references where XML would normalise them)", () => {
    const xml = buildWorkflowXml(input("Java", {}, { configs: {}, params: {}, args: ["a\r\nb", "\tx\t", "  "] }));
    expect(xml).toContain("a&#13;\nb");
    expect(texts(action(xml), "arg")).toEqual(["a\r\nb", "\tx\t", "  "]);
  });
});

// In CI a missing xmllint or XSD directory fails this file; elsewhere it is skipped, saying where the XSDs come from.
const schemasPresent = schemaTestsRun("XSD validation of workflows");

describe.runIf(schemasPresent)("generated workflows validate against Oozie's XSDs (xmllint)", () => {
  it.each(OOZIE_TYPES)("%s, plain and with credentials, hive-site and hostile values", async (type) => {
    const plain = buildWorkflowXml(input(type));
    const loaded = buildWorkflowXml(
      input(
        type,
        { credentialsJobXml: "edp-credentials.xml", hiveSitePath: "/user/hadoop/conf/hive-site.xml" },
        {
          configs: Object.fromEntries(HOSTILE.map((v, i) => [`k${i}${v}`, v])),
          params: Object.fromEntries(HOSTILE.map((v, i) => [`P${i}`, v])),
          args: HOSTILE,
        },
      ),
    );
    for (const xml of [plain, loaded]) {
      const result = await validateWorkflowXml(xml);
      expect(result.errors).toEqual([]);
      expect(result.valid).toBe(true);
    }
  });

  it("the validator itself rejects a workflow that breaks the schema", async () => {
    const broken = buildWorkflowXml(input("Pig")).replace(/<script>[^<]*<\/script>/, "");
    const result = await validateWorkflowXml(broken);
    expect(result.valid).toBe(false);
    expect(result.errors.join("\n")).toMatch(/script/);
    const wrongOrder = buildWorkflowXml(input("Shell", {}, { configs: {}, params: { A: "1" }, args: ["x"] })).replace(
      /(<argument>x<\/argument>)(\s*)(<env-var>A=1<\/env-var>)/,
      "$3$2$1",
    );
    expect((await validateWorkflowXml(wrongOrder)).valid).toBe(false);
  });
});
