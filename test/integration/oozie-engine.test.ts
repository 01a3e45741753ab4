// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Oozie EL (`${...}`) in test data, not JavaScript templates
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EngineSettings, PreparedJob } from "../../core/src/engines/engine.js";
import { normaliseConnection } from "../../core/src/engines/oozie/connection.js";
import { OozieJobEngine } from "../../core/src/engines/oozie/engine.js";
import { WebHdfsClient } from "../../core/src/engines/oozie/webhdfs-client.js";
import { EngineError } from "../../core/src/errors.js";
import { type OozieDouble, schemaTestsRun, startOozieDouble } from "../doubles/oozie-webhdfs.js";
import { binary, clusterAccess, dataSource, HOSTILE, type JobOptions, launched, preparedJob } from "../unit/oozie-fixtures.js";

const SETTINGS: EngineSettings = { cancelGraceSeconds: 5, connectTimeoutMs: 2_000, commandTimeoutMs: 5_000 };

// In CI a missing xmllint or XSD directory fails this file; elsewhere it is skipped, saying where the XSDs come from.
const schemasPresent = schemaTestsRun("the Oozie engine integration tests");

describe.runIf(schemasPresent)("Oozie engine against the Oozie/WebHDFS double", () => {
  let double: OozieDouble;
  const engine = new OozieJobEngine({ settings: SETTINGS });

  beforeAll(async () => {
    // HOLD: started workflows stay RUNNING until a test ends them with finish().
    double = await startOozieDouble({ outcome: "HOLD" });
  });
  afterAll(async () => {
    await double?.stop();
  });

  const access = () => clusterAccess(double.connection());
  const job = (options: Omit<JobOptions, "access">) => preparedJob({ access: access(), ...options });
  const requestsFor = (predicate: (r: OozieDouble["requests"][number]) => boolean) => double.requests.filter(predicate);

  async function run(prepared: PreparedJob) {
    const result = await engine.runJob(prepared);
    const remote = double.job(result.engineJobId);
    if (!remote) throw new Error(`the double has no job ${result.engineJobId}`);
    return { prepared, result, remote, workflowDir: `/user/hadoop/edp/${prepared.template.name}/${prepared.execution.id}` };
  }

  describe("launch: HDFS layout, workflow and submission per job type", () => {
    it("Pig: uploads script and libs, submits, starts; the job receives hostile args and params verbatim", async () => {
      const prepared = job({
        type: "Pig",
        mains: [binary("script.pig", "A = LOAD '$INPUT';")],
        libs: [binary("udf.jar", Buffer.from([0, 1, 2, 255]))],
        input: dataSource("hdfs", "hdfs://localhost:8020/user/hadoop/in"),
        output: dataSource("hdfs", "hdfs://localhost:8020/user/hadoop/out"),
        configs: { "mapreduce.job.reduces": 2, "edp.hbase_common_lib": "false", "oozie.job.acl": "alice" },
        params: { WHO: "${wf:user()} & </param>" },
        args: HOSTILE,
      });
      const { result, remote, workflowDir } = await run(prepared);
      expect(result).toMatchObject({ status: "RUNNING", extra: { oozie_workflow_dir: `hdfs://localhost:8020${workflowDir}` } });
      expect(remote.status).toBe("RUNNING");
      expect(remote.appName).toBe(`edp-${prepared.execution.id}`);

      expect(double.listHdfs(workflowDir)).toEqual([
        { path: workflowDir, type: "DIRECTORY", owner: "hadoop", permission: "700", length: 0 },
        { path: `${workflowDir}/lib`, type: "DIRECTORY", owner: "hadoop", permission: "700", length: 0 },
        { path: `${workflowDir}/lib/udf.jar`, type: "FILE", owner: "hadoop", permission: "644", length: 4 },
        { path: `${workflowDir}/script.pig`, type: "FILE", owner: "hadoop", permission: "644", length: 18 },
        { path: `${workflowDir}/workflow.xml`, type: "FILE", owner: "hadoop", permission: "644", length: expect.any(Number) },
      ]);
      expect(double.readHdfs(`${workflowDir}/lib/udf.jar`)).toEqual(Buffer.from([0, 1, 2, 255]));

      expect(Object.fromEntries(remote.conf)).toEqual({
        "oozie.wf.application.path": `hdfs://localhost:8020${workflowDir}/workflow.xml`,
        nameNode: "hdfs://localhost:8020",
        jobTracker: "localhost:8032",
        "user.name": "hadoop",
        "oozie.use.system.libpath": "true",
        "oozie.job.acl": "alice",
      });
      const action = remote.resolvedAction;
      expect(action?.type).toBe("pig");
      expect(action?.script).toBe("script.pig");
      expect(action?.arguments).toEqual(HOSTILE);
      expect(action?.params).toEqual([
        "INPUT=hdfs://localhost:8020/user/hadoop/in",
        "OUTPUT=hdfs://localhost:8020/user/hadoop/out",
        "WHO=${wf:user()} & </param>",
      ]);
      expect([...(action?.effectiveConfiguration ?? [])]).toEqual([["mapreduce.job.reduces", "2"]]);
      expect(remote.actions.map((a) => [a.name, a.status])).toEqual([
        [":start:", "OK"],
        ["job-node", "RUNNING"],
      ]);
    });

    it("Hive, MapReduce, Streaming, Java and Shell are accepted by the double (schema-valid) and reach RUNNING", async () => {
      const io = { input: dataSource("hdfs", "/user/hadoop/in"), output: dataSource("hdfs", "/user/hadoop/out") };
      const cases: Omit<JobOptions, "access">[] = [
        { type: "Hive", mains: [binary("q.sql", "SELECT 1;")], libs: [binary("serde.jar", "x")], params: { DAY: "1" }, ...io },
        { type: "MapReduce", libs: [binary("wc.jar", "x")], configs: { "mapred.mapper.class": "org.M" }, ...io },
        { type: "MapReduce.Streaming", configs: { "edp.streaming.mapper": "/bin/cat", "edp.streaming.reducer": "/usr/bin/wc -l" }, ...io },
        {
          type: "Java",
          libs: [binary("app.jar", "x")],
          configs: { "edp.java.main_class": "org.Main", "edp.java.java_opts": "-Xmx1g" },
          args: ["a", "${b}"],
        },
        {
          type: "Shell",
          mains: [binary("run.sh", "#!/bin/sh\necho hi\n")],
          libs: [binary("data.txt", "d")],
          params: { GREETING: "hello ${x}" },
          args: ["1"],
        },
      ];
      for (const options of cases) {
        const { result, remote, workflowDir } = await run(job(options));
        expect(result.status, options.type).toBe("RUNNING");
        const action = remote.resolvedAction;
        switch (options.type) {
          case "Hive":
            expect(action?.namespace).toBe("uri:oozie:hive-action:0.5");
            expect(action?.params).toEqual(["INPUT=/user/hadoop/in", "OUTPUT=/user/hadoop/out", "DAY=1"]);
            expect(double.readHdfs(`${workflowDir}/lib/serde.jar`)?.toString()).toBe("x");
            break;
          case "MapReduce":
            expect(Object.fromEntries(action?.effectiveConfiguration ?? [])).toEqual({
              "mapred.input.dir": "/user/hadoop/in",
              "mapred.output.dir": "/user/hadoop/out",
              "mapred.mapper.class": "org.M",
            });
            break;
          case "MapReduce.Streaming":
            expect(action?.streaming).toEqual({ mapper: "/bin/cat", reducer: "/usr/bin/wc -l" });
            expect(double.listHdfs(`${workflowDir}/lib`)).toEqual([]);
            break;
          case "Java":
            expect(action).toMatchObject({ mainClass: "org.Main", javaOpts: "-Xmx1g", arguments: ["a", "${b}"] });
            break;
          case "Shell":
            expect(action).toMatchObject({
              exec: "run.sh",
              arguments: ["1"],
              envVars: ["GREETING=hello ${x}"],
              files: ["data.txt", "run.sh"],
            });
            expect(double.readHdfs(`${workflowDir}/data.txt`)?.toString()).toBe("d");
            break;
        }
      }
    });

    it("keeps data-source credentials out of workflow.xml and the job properties, in a 600 job-xml file", async () => {
      const password = "pa$${wf:user()}ss</value>&";
      const prepared = job({
        type: "Pig",
        mains: [binary("s.pig", "x")],
        input: dataSource("swift", "swift://container/in", { user: "swiftuser", password }),
        output: dataSource("s3", "s3a://bucket/out", { accesskey: "AKIA123", secretkey: "SECRET/KEY+1", endpoint: "s3.local" }),
      });
      const { remote, workflowDir } = await run(prepared);
      const workflowXml = double.readHdfs(`${workflowDir}/workflow.xml`)?.toString() ?? "";
      for (const secret of ["swiftuser", "pa$$", "AKIA123", "SECRET/KEY+1"]) {
        expect(workflowXml).not.toContain(secret);
        expect(remote.confXml).not.toContain(secret);
      }
      expect(double.listHdfs(`${workflowDir}/edp-credentials.xml`)).toEqual([
        { path: `${workflowDir}/edp-credentials.xml`, type: "FILE", owner: "hadoop", permission: "600", length: expect.any(Number) },
      ]);
      // What the job sees after Oozie loaded the job-xml (EL evaluated): the exact credentials.
      expect(Object.fromEntries(remote.resolvedAction?.effectiveConfiguration ?? [])).toEqual({
        "fs.swift.service.sahara.username": "swiftuser",
        "fs.swift.service.sahara.password": password,
        "fs.s3a.access.key": "AKIA123",
        "fs.s3a.secret.key": "SECRET/KEY+1",
        "fs.s3a.endpoint": "s3.local",
      });
      expect(remote.resolvedAction?.jobXml).toEqual(["edp-credentials.xml"]);
      expect(remote.resolvedAction?.params).toEqual(["INPUT=swift://container.sahara/in", "OUTPUT=s3a://bucket/out"]);
    });

    it("WebHDFS CREATE is two-step: no data to the NameNode, data to the DataNode it redirected to", async () => {
      const before = double.requests.length;
      await run(job({ type: "Shell", mains: [binary("big.sh", "x".repeat(10_000))] }));
      const creates = double.requests.slice(before).filter((r) => r.query.op === "CREATE");
      const toNameNode = creates.filter((r) => r.server === "namenode");
      const toDataNode = creates.filter((r) => r.server === "datanode");
      expect(toNameNode.length).toBeGreaterThan(0);
      expect(toNameNode.every((r) => r.method === "PUT" && r.bodyBytes === 0 && r.query.overwrite === "true")).toBe(true);
      expect(toDataNode.map((r) => r.path).sort()).toEqual(toNameNode.map((r) => r.path).sort());
      expect(toDataNode.find((r) => r.path.endsWith("/big.sh"))?.bodyBytes).toBe(10_000);
    });
  });

  describe("status, batched status, cancel and output", () => {
    it("follows a workflow RUNNING → SUCCEEDED", async () => {
      const prepared = job({ type: "Shell", mains: [binary("ok.sh", "")] });
      const { result } = await run(prepared);
      const running = await engine.getJobStatus(launched(prepared, result.engineJobId));
      expect(running).toMatchObject({ status: "RUNNING", details: { oozie_status: "RUNNING", oozie_job_id: result.engineJobId } });
      double.finish(result.engineJobId, "SUCCEEDED");
      expect(await engine.getJobStatus(launched(prepared, result.engineJobId))).toMatchObject({ status: "SUCCEEDED" });
    });

    it("a failing action ends DONEWITHERROR with Oozie's message; an Oozie failure ends FAILED", async () => {
      const failing = job({ type: "Java", libs: [binary("a.jar", "x")], configs: { "edp.java.main_class": "org.Boom" } });
      const first = await run(failing);
      double.finish(first.result.engineJobId, "ERROR");
      expect(await engine.getJobStatus(launched(failing, first.result.engineJobId))).toMatchObject({
        status: "DONEWITHERROR",
        error: "Oozie action job-node ended in ERROR: [JA018] Main class [the user's main class], exit code [1]",
      });
      const broken = job({ type: "Shell", mains: [binary("x.sh", "")] });
      const second = await run(broken);
      double.finish(second.result.engineJobId, "FAILED");
      expect(await engine.getJobStatus(launched(broken, second.result.engineJobId))).toMatchObject({
        status: "FAILED",
        error: expect.stringContaining("JA009"),
      });
    });

    it("an HDFS failure during the upload surfaces with its message, and a retried launch completes", async () => {
      const prepared = job({
        type: "Pig",
        mains: [binary("s.pig", "x")],
        input: dataSource("s3", "s3a://b/in", { accesskey: "a", secretkey: "s" }),
        output: dataSource("hdfs", "/out"),
      });
      double.failNext((r) => r.server === "datanode" && r.path.endsWith("/edp-credentials.xml"), {
        status: 403,
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({
          RemoteException: { exception: "AccessControlException", javaClassName: "x", message: "Permission denied: quota exceeded" },
        }),
      });
      await expect(engine.runJob(prepared)).rejects.toThrow("WebHDFS CREATE /user/hadoop/edp/wordcount/");
      await expect(engine.runJob(prepared)).resolves.toMatchObject({ status: "RUNNING" });
    });

    it("batches statuses: one jobs listing for many workflows, info only for those that ended badly", async () => {
      const jobs = await Promise.all([1, 2, 3, 4].map(() => run(job({ type: "Shell", mains: [binary("b.sh", "")] }))));
      double.finish(jobs[0].result.engineJobId, "SUCCEEDED");
      double.finish(jobs[1].result.engineJobId, "ERROR");
      await engine.cancelJob(launched(jobs[2].prepared, jobs[2].result.engineJobId), { force: false });
      const before = double.requests.length;
      const reports = await engine.getJobStatuses(
        access(),
        jobs.map((j) => launched(j.prepared, j.result.engineJobId)),
      );
      const calls = double.requests.slice(before);
      expect(calls.filter((r) => r.path === "/oozie/v2/jobs")).toHaveLength(1);
      expect(
        calls
          .filter((r) => r.path.startsWith("/oozie/v2/job/"))
          .map((r) => r.path)
          .sort(),
      ).toEqual([`/oozie/v2/job/${jobs[1].result.engineJobId}`, `/oozie/v2/job/${jobs[2].result.engineJobId}`].sort());
      // By name alone: the owner Oozie records is not always hdfs_user (10.4).
      expect(calls[0].query).toMatchObject({ jobtype: "wf", filter: expect.stringMatching(/^name=edp-[^;]+(;name=edp-[^;]+)*$/) });
      const byExecution = (index: number) => reports.get(jobs[index].prepared.execution.id)?.status;
      expect([byExecution(0), byExecution(1), byExecution(2), byExecution(3)]).toEqual(["SUCCEEDED", "DONEWITHERROR", "KILLED", "RUNNING"]);
    });

    it("cancel kills a running workflow and re-reads it; a finished one reports how it ended", async () => {
      const prepared = job({ type: "Shell", mains: [binary("c.sh", "")] });
      const { result, remote } = await run(prepared);
      expect(await engine.cancelJob(launched(prepared, result.engineJobId), { force: false })).toMatchObject({ status: "KILLED" });
      expect(remote.status).toBe("KILLED");
      expect(remote.actions.find((a) => a.name === "job-node")?.status).toBe("KILLED");
      // Oozie's kill of an ended workflow is 200 and changes nothing (KillXCommand, XCommand.call); the cancel reports its end status.
      const done = job({ type: "Shell", mains: [binary("d.sh", "")] });
      const second = await run(done);
      double.finish(second.result.engineJobId, "SUCCEEDED");
      expect(await engine.cancelJob(launched(done, second.result.engineJobId), { force: true })).toMatchObject({ status: "SUCCEEDED" });
    });

    it("cancel of a workflow Oozie does not know is a clear EngineError carrying Oozie's message", async () => {
      const prepared = job({ type: "Shell", mains: [binary("e.sh", "")] });
      const error = await engine
        .cancelJob(launched(prepared, "0009999-000000000000000-oozie-oozi-W"), { force: false })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EngineError);
      expect(String(error)).toContain("E0604: Job does not exist [0009999-000000000000000-oozie-oozi-W]");
    });

    it("a cancel arriving between submit and start leaves nothing running", async () => {
      let asked = 0;
      const prepared = job({
        type: "Shell",
        mains: [binary("never.sh", "")],
        isCancelRequested: async () => {
          asked++;
          return true;
        },
      });
      const result = await engine.runJob(prepared);
      expect(result.status).toBe("KILLED");
      expect(asked).toBe(1);
      const remote = double.job(result.engineJobId);
      expect(remote?.status).toBe("KILLED");
      expect(remote?.startTime).toBeNull();
      expect(remote?.actions).toEqual([]);
      expect(requestsFor((r) => r.query.action === "start" && r.path.endsWith(result.engineJobId))).toEqual([]);
    });

    it("a relaunch after a crash finds the first submission instead of submitting again", async () => {
      const prepared = job({ type: "Shell", mains: [binary("once.sh", "")] });
      let crash = true;
      prepared.isCancelRequested = async () => {
        if (crash) throw new Error("the launcher died here");
        return false;
      };
      await expect(engine.runJob(prepared)).rejects.toThrow("the launcher died here");
      const submitted = double.jobs().filter((j) => j.appName === `edp-${prepared.execution.id}`);
      expect(submitted.map((j) => j.status)).toEqual(["PREP"]);
      crash = false;
      const submits = requestsFor((r) => r.method === "POST").length;
      const result = await engine.runJob(prepared);
      expect(result).toMatchObject({ engineJobId: submitted[0].id, status: "RUNNING" });
      expect(requestsFor((r) => r.method === "POST")).toHaveLength(submits);
      expect(await engine.runJob(prepared)).toMatchObject({ engineJobId: submitted[0].id, status: "RUNNING" });
    });

    it("readOutput returns the tail of Oozie's job log, and the error log for stderr", async () => {
      const prepared = job({ type: "Shell", mains: [binary("log.sh", "")] });
      const { result } = await run(prepared);
      double.finish(result.engineJobId, "ERROR");
      const launchedJob = launched(prepared, result.engineJobId);
      const full = await engine.readOutput(launchedJob, "stdout", 1000);
      expect(full.split("\n").length).toBeGreaterThanOrEqual(4);
      expect(full).toContain(`JOB[${result.engineJobId}]`);
      const lastTwo = await engine.readOutput(launchedJob, "stdout", 2);
      expect(lastTwo.split("\n")).toEqual(full.split("\n").slice(-2));
      const stderr = await engine.readOutput(launchedJob, "stderr", 10);
      expect(stderr).toContain("JA018");
      expect(stderr).not.toContain("SubmitXCommand");
      // An Oozie older than 4.2 has no show=errorlog: the whole log stands in for it.
      double.failNext((r) => r.query.show === "errorlog", {
        status: 400,
        headers: { "oozie-error-code": "E0303", "oozie-error-message": "E0303: Invalid parameter value, [show] = [errorlog]" },
      });
      expect(await engine.readOutput(launchedJob, "stderr", 2)).toBe(lastTwo);
    });
  });

  describe("errors from Oozie and HDFS surface as EngineErrors with the server's message", () => {
    it("Oozie's error headers become the message", async () => {
      double.failNext((r) => r.method === "POST" && r.path === "/oozie/v2/jobs", {
        status: 400,
        headers: {
          "oozie-error-code": "E0901",
          "oozie-error-message": "E0901: Namenode [localhost:8020] not allowed, not in Oozie's whitelist",
        },
        body: "<html><body>ignored</body></html>",
      });
      const error = await engine.runJob(job({ type: "Shell", mains: [binary("w.sh", "")] })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EngineError);
      expect((error as EngineError).message).toBe(
        "Oozie submit failed (HTTP 400 E0901): E0901: Namenode [localhost:8020] not allowed, not in Oozie's whitelist",
      );
      expect((error as EngineError).httpStatus).toBe(502);
    });

    it("an HTML error page without Oozie's headers is not echoed: the status says what happened", async () => {
      const prepared = job({ type: "Shell", mains: [binary("h.sh", "")] });
      const { result } = await run(prepared);
      double.failNext((r) => r.method === "GET" && r.path.endsWith(result.engineJobId), {
        status: 404,
        headers: { "Content-Type": "text/html" },
        body: "<html><head><title>x</title><style>p{}</style></head><body><h1>HTTP Status 404 - /oozie/v2/job</h1><p>The requested resource is not available.</p></body></html>",
      });
      await expect(engine.getJobStatus(launched(prepared, result.engineJobId))).rejects.toThrow(
        `Oozie info for ${result.engineJobId} failed (HTTP 404): Not Found`,
      );
    });

    it("HDFS permission errors carry the RemoteException's class, never its message", async () => {
      const denied = preparedJob({
        access: clusterAccess(double.connection({ workflow_base_dir: "/user/someone-else/edp" })),
        type: "Shell",
        mains: [binary("p.sh", "")],
      });
      await expect(engine.runJob(denied)).rejects.toThrow(
        `WebHDFS MKDIRS /user/someone-else/edp/wordcount/${denied.execution.id} failed (HTTP 403): AccessControlException`,
      );
    });

    it("the WebHDFS client honours overwrite=false and reports the server's reasons", async () => {
      const client = new WebHdfsClient(normaliseConnection(double.connection() as Parameters<typeof normaliseConnection>[0]), {
        fetch,
        timeoutMs: 5_000,
      });
      await client.mkdirs("/user/hadoop/rules", "755");
      await client.create("/user/hadoop/rules/a.txt", "one", { overwrite: false, permission: "640" });
      await expect(client.create("/user/hadoop/rules/a.txt", "two", { overwrite: false, permission: "640" })).rejects.toThrow(
        "WebHDFS CREATE /user/hadoop/rules/a.txt failed (HTTP 403): FileAlreadyExistsException",
      );
      expect(double.readHdfs("/user/hadoop/rules/a.txt")?.toString()).toBe("one");
      await client.create("/user/hadoop/rules/a.txt", "three", { overwrite: true, permission: "640" });
      expect(double.readHdfs("/user/hadoop/rules/a.txt")?.toString()).toBe("three");
      await expect(client.mkdirs("/user/hadoop/rules/x", "999")).rejects.toThrow("failed (HTTP 400): IllegalArgumentException");
      await expect(client.mkdirs("/user/hadoop/rules/a.txt/sub", "755")).rejects.toThrow("ParentNotDirectoryException");
    });

    it("an unreachable Oozie is named, without the query string", async () => {
      const stopped = await startOozieDouble();
      const connection = stopped.connection();
      await stopped.stop();
      const prepared = preparedJob({ access: clusterAccess(connection), type: "Shell", mains: [binary("u.sh", "")] });
      await expect(engine.runJob(prepared)).rejects.toThrow(
        /^Oozie at http:\/\/127\.0\.0\.1:\d+\/oozie\/v2\/jobs did not answer: ECONNREFUSED$/,
      );
    });
  });

  describe("basic auth through a gateway", () => {
    let gated: OozieDouble;
    beforeAll(async () => {
      gated = await startOozieDouble({ outcome: "HOLD", basicAuth: { user: "knox", password: "pw-123" } });
    });
    afterAll(async () => {
      await gated?.stop();
    });

    // Behind the gateway Oozie and HDFS act for the principal "knox" (BaseJobsServlet.doPost, Knox's doAs), so its
    // workflows live under its own home.
    const gatedConnection = (password: string) => gated.connection({ auth_user: "knox", password, workflow_base_dir: "/user/knox/edp" });

    it("sends the password to Oozie and the NameNode but never to a DataNode on another origin", async () => {
      const prepared = preparedJob({
        access: clusterAccess(gatedConnection("pw-123")),
        type: "Shell",
        mains: [binary("g.sh", "x")],
      });
      expect(await engine.runJob(prepared)).toMatchObject({ status: "RUNNING" });
      expect(gated.requests.filter((r) => r.server !== "datanode").every((r) => r.authorized)).toBe(true);
      const datanode = gated.requests.filter((r) => r.server === "datanode");
      expect(datanode.length).toBeGreaterThan(0);
      expect(datanode.some((r) => r.authorized)).toBe(false);
    });

    it("a wrong password is refused with the server's reason, and the password appears nowhere in it", async () => {
      const prepared = preparedJob({
        access: clusterAccess(gatedConnection("wrong-pw")),
        type: "Shell",
        mains: [binary("g.sh", "x")],
      });
      const error = await engine.runJob(prepared).catch((e: unknown) => e);
      // 10.5: a refused login never reaches Oozie's servlets, so it carries no oozie-error-code (Oozie never sends E0500).
      expect(String(error)).toMatch(/Oozie jobs listing failed \(HTTP 401\)/);
      expect(String(error)).not.toContain("wrong-pw");
    });
  });
});
