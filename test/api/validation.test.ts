import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi } from "../support/api.js";
import { countItems } from "../support/table.js";
import { TestEngine, testEngineRegistration } from "../support/test-engine.js";
import { createJobChain } from "./fixtures.js";

/** Sahara §9's validation rules: each case is refused with a 400 naming the problem, and nothing is stored. */
describe("validation", () => {
  let api: TestApi;
  let token: string;
  let chain: Awaited<ReturnType<typeof createJobChain>>;

  beforeAll(async () => {
    api = await startTestApi({ registrations: [testEngineRegistration(new TestEngine())] });
    ({ token } = await api.newProject());
    chain = await createJobChain(api, token);
  });
  afterAll(async () => api?.close());

  async function refused(path: string, body: unknown, message: RegExp, name = "VALIDATION_ERROR") {
    const before = await countItems(api.ports.dynamoEndpoint, "edp-test");
    const response = await api.request("POST", path, { token, body });
    expect(response.status, response.text).toBe(400);
    expect(response.body.error_name).toBe(name);
    expect(response.body.error_message).toMatch(message);
    expect(await countItems(api.ports.dynamoEndpoint, "edp-test")).toBe(before);
  }

  const dataSourceCases: [string, Record<string, unknown>, RegExp][] = [
    ["a name with shell metacharacters", { name: "in;rm -rf /", type: "hdfs", url: "/x" }, /name: must start with a letter or digit/],
    ["a name starting with a dot", { name: ".hidden", type: "hdfs", url: "/x" }, /name/],
    ["a 51-character name", { name: "a".repeat(51), type: "hdfs", url: "/x" }, /name/],
    ["an unknown type", { name: "n", type: "ftp", url: "ftp://x" }, /type: Invalid option/],
    [
      "an empty swift url",
      { name: "n", type: "swift", url: "", credentials: { user: "u", password: "p" } },
      /url: Swift url must not be empty/,
    ],
    [
      "a swift url without .sahara",
      { name: "n", type: "swift", url: "swift://cont.example/o", credentials: { user: "u", password: "p" } },
      /swift:\/\/container.sahara\/object/,
    ],
    ["swift without credentials", { name: "n", type: "swift", url: "swift://cont.sahara/o" }, /No credentials provided for Swift/],
    [
      "swift without a password",
      { name: "n", type: "swift", url: "swift://cont.sahara/o", credentials: { user: "u" } },
      /Password is not provided/,
    ],
    ["an hdfs url with another scheme", { name: "n", type: "hdfs", url: "http://nn/x" }, /URL scheme must be 'hdfs'/],
    ["an hdfs url without a host", { name: "n", type: "hdfs", url: "hdfs:///x" }, /cannot determine a hostname/],
    ["an s3 url without an object", { name: "n", type: "s3", url: "s3://bucket" }, /Object name must be present/],
    ["s3 credentials with an unknown key", { name: "n", type: "s3", url: "s3://b/o", credentials: { user: "u" } }, /Unknown config 'user'/],
    [
      "s3 ssl that is not a boolean",
      { name: "n", type: "s3", url: "s3://b/o", credentials: { ssl: "yes" } },
      /Config 'ssl' must be boolean/,
    ],
    ["a manila url without a share id", { name: "n", type: "manila", url: "manila://share/path" }, /manila:\/\/<share uuid>/],
    ["a zero RANDSTR", { name: "n", type: "hdfs", url: "/out/%RANDSTR(0)%" }, /RANDSTR length must be positive/],
    ["a huge RANDSTR", { name: "n", type: "hdfs", url: "/out/%RANDSTR(2000)%" }, /too long/],
    ["a relative file url", { name: "n", type: "file", url: "../etc/passwd" }, /absolute path/],
    ["an extra field", { name: "n", type: "hdfs", url: "/x", owner: "me" }, /Unrecognized key/],
  ];
  it.each(dataSourceCases)("data source: refuses %s", (_case, body, message) => refused("/v2/data-sources", body, message));

  const binaryCases: [string, Record<string, unknown>, RegExp, string?][] = [
    ["a url without a scheme", { name: "b", url: "/tmp/app.jar" }, /Job binary url must have a scheme/],
    ["an unknown scheme", { name: "b", url: "file:///etc/passwd" }, /Invalid job binary/],
    ["an internal-db url that is not a uuid", { name: "b", url: "internal-db://../../etc" }, /valid_job_location/],
    ["swift without user and password", { name: "b", url: "swift://cont/app.jar" }, /add 'user' and 'password' to extra/],
    [
      "s3 naming a bucket",
      { name: "b", url: "s3://bucket", extra: { accesskey: "a", secretkey: "s", endpoint: "e" } },
      /must specify an object/,
    ],
    [
      "s3 without its keys",
      { name: "b", url: "s3://bucket/app.jar", extra: { accesskey: "a" } },
      /'accesskey', 'secretkey', and 'endpoint' must be provided/,
    ],
  ];
  it.each(binaryCases)("job binary: refuses %s", (_case, body, message) => refused("/v2/job-binaries", body, message));

  it("job binary: refuses a reference to uploaded code that does not exist", () =>
    refused(
      "/v2/job-binaries",
      { name: "b", url: `internal-db://${crypto.randomUUID()}` },
      /JobBinaryInternal with id '.*' doesn't exist/,
      "INVALID_REFERENCE",
    ));

  const templateCases = (): [string, Record<string, unknown>, RegExp, string?][] => [
    ["an unknown type", { name: "t", type: "Jar" }, /type: Invalid option/],
    ["Pig without mains", { name: "t", type: "Pig" }, /Pig flow requires main script/, "INVALID_DATA"],
    ["Spark without mains", { name: "t", type: "Spark" }, /Spark job requires main application jar/, "INVALID_DATA"],
    [
      "overlapping mains and libs",
      { name: "t", type: "Shell", mains: [chain.binaryId], libs: [chain.binaryId] },
      /'mains' and 'libs' overlap/,
      "INVALID_DATA",
    ],
    [
      "Java with mains",
      { name: "t", type: "Java", mains: [chain.binaryId], libs: [chain.binaryId] },
      /Java flow does not use mains/,
      "INVALID_DATA",
    ],
    ["MapReduce without libs", { name: "t", type: "MapReduce" }, /MapReduce flow requires libs/, "INVALID_DATA"],
    ["a binary id that is not a uuid", { name: "t", type: "Shell", mains: ["$(id)"] }, /mains\.0: must be a UUID/],
    [
      "a binary that does not exist",
      { name: "t", type: "Shell", mains: [crypto.randomUUID()] },
      /Job binary '.*' does not exist/,
      "INVALID_REFERENCE",
    ],
    [
      "a mapping type the job type does not take",
      {
        name: "t",
        type: "Spark",
        mains: [chain.binaryId],
        interface: [{ name: "a", mapping_type: "params", location: "X", required: true }],
      },
      /Mapping type 'params' is not allowed for job type Spark/,
    ],
    [
      "positional locations that are not 0..n-1",
      {
        name: "t",
        type: "Shell",
        mains: [chain.binaryId],
        interface: [{ name: "a", mapping_type: "args", location: "1", required: true }],
      },
      /0 to n-1/,
    ],
    [
      "an optional positional argument without a default",
      {
        name: "t",
        type: "Shell",
        mains: [chain.binaryId],
        interface: [{ name: "a", mapping_type: "args", location: "0", required: false }],
      },
      /must have a default/,
    ],
    [
      "duplicate interface names",
      {
        name: "t",
        type: "Shell",
        mains: [chain.binaryId],
        interface: [
          { name: "a", mapping_type: "params", location: "A", required: true },
          { name: "a", mapping_type: "params", location: "B", required: true },
        ],
      },
      /Name 'a' is not unique/,
    ],
    [
      "a number argument whose default is not a number",
      {
        name: "t",
        type: "Shell",
        mains: [chain.binaryId],
        interface: [{ name: "n", mapping_type: "params", location: "N", value_type: "number", required: false, default: "ten" }],
      },
      /Default 'ten' is not a number/,
    ],
  ];
  it("job template: refuses each invalid definition", async () => {
    for (const [name, body, message, errorName] of templateCases()) {
      await expect(refused("/v2/job-templates", body, message, errorName), name).resolves.toBeUndefined();
    }
  });

  describe("job executions", () => {
    let interfaceTemplate: string;
    beforeAll(async () => {
      const response = await api.request("POST", "/v2/job-templates", {
        token,
        body: {
          name: "with-interface",
          type: "Shell",
          mains: [chain.binaryId],
          interface: [
            { name: "count", mapping_type: "params", location: "COUNT", value_type: "number", required: true },
            { name: "first", mapping_type: "args", location: "0", required: false, default: "default-first" },
          ],
        },
      });
      interfaceTemplate = response.body.job_template.id;
    });

    const run = (body: Record<string, unknown>) => ({ cluster_id: chain.clusterId, job_template_id: chain.templateId, ...body });
    it("refuses missing or malformed ids", async () => {
      await refused("/v2/jobs", { cluster_id: chain.clusterId }, /job_template_id/);
      await refused("/v2/jobs", run({ cluster_id: "not-a-uuid" }), /cluster_id: must be a UUID/);
      await refused("/v2/jobs", run({ cluster_id: crypto.randomUUID() }), /Cluster with id '.*' doesn't exist/, "INVALID_REFERENCE");
      await refused(
        "/v2/jobs",
        run({ job_template_id: crypto.randomUUID() }),
        /Job template with id '.*' doesn't exist/,
        "INVALID_REFERENCE",
      );
      await refused("/v2/jobs", run({ input_id: crypto.randomUUID() }), /DataSource with id '.*' doesn't exist/, "INVALID_REFERENCE");
    });

    it("refuses bad job_configs", async () => {
      await refused("/v2/jobs", run({ job_configs: { configs: { flag: true } } }), /job_configs\.configs\.flag/);
      await refused("/v2/jobs", run({ job_configs: { args: "one two" } }), /job_configs\.args/);
      await refused("/v2/jobs", run({ job_configs: { env: {} } }), /Unrecognized key/);
    });

    it("refuses a cluster that cannot run the job type", async () => {
      const old = await api.request("POST", "/v2/clusters", {
        token,
        body: { name: "ancient", plugin_name: "test", plugin_version: "0.9" },
      });
      await refused("/v2/jobs", run({ cluster_id: old.body.cluster.id }), /doesn't support job type 'Shell'/, "INVALID_DATA");
    });

    it("enforces the template's interface", async () => {
      const withInterface = (body: Record<string, unknown>) => run({ job_template_id: interfaceTemplate, ...body });
      await refused("/v2/jobs", withInterface({}), /Please pass an interface map with this job \(even if empty\)/, "INVALID_DATA");
      await refused("/v2/jobs", withInterface({ interface: {} }), /Argument names: \["count"\] are required/, "INVALID_DATA");
      await refused(
        "/v2/jobs",
        withInterface({ interface: { count: 1, colour: "red" } }),
        /Argument names: \["colour"\] were not found/,
        "INVALID_DATA",
      );
      await refused("/v2/jobs", withInterface({ interface: { count: "many" } }), /not a number/, "INVALID_DATA");
      await refused(
        "/v2/jobs",
        withInterface({ interface: { count: 1 }, job_configs: { params: { COUNT: 2 } } }),
        /passed through the interface and through params with different values/,
        "INVALID_DATA",
      );
    });

    it("merges interface values into job_configs", async () => {
      const response = await api.request("POST", "/v2/jobs", {
        token,
        body: run({ job_template_id: interfaceTemplate, interface: { count: 3 }, job_configs: { args: ["last"] } }),
      });
      expect(response.status).toBe(202);
      expect(response.body.job.job_configs.params).toEqual({ COUNT: 3 });
      expect(response.body.job.job_configs.args).toEqual(["default-first", "last"]);
    });

    it("refuses schedules in the past or malformed", async () => {
      const scheduled = (info: Record<string, unknown>) => run({ job_execution_info: { job_execution_type: "scheduled", ...info } });
      await refused("/v2/jobs", scheduled({}), /Scheduled job must specify start time/, "INVALID_JOB_EXECUTION_INFO");
      await refused(
        "/v2/jobs",
        scheduled({ start: "2001-01-01 00:00:00" }),
        /start time should be later than now/,
        "INVALID_JOB_EXECUTION_INFO",
      );
      await refused("/v2/jobs", scheduled({ start: "tomorrow" }), /Invalid Time Format/, "INVALID_JOB_EXECUTION_INFO");
      const future = new Date(Date.now() + 3_600_000).toISOString();
      await refused(
        "/v2/jobs",
        scheduled({ start: future, interval: "every 5 minutes" }),
        /Invalid interval/,
        "INVALID_JOB_EXECUTION_INFO",
      );
    });
  });
});
