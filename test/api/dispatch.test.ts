import { execFile, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { oozieEngineRegistration } from "@edp/core/engines/oozie/registration";
import { parseMasterLoad } from "@edp/core/engines/spark/master-load";
import { sparkEngineRegistration } from "@edp/core/engines/spark/registration";
import { statusScript } from "@edp/core/engines/spark/remote-scripts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type OozieDouble, schemaToolingProblem, startOozieDouble } from "../doubles/oozie-webhdfs.js";
import { eventually, startTestApi, type TestApi } from "../support/api.js";
import { freePort, type SshServer, startSshd } from "../support/sshd.js";
import { TOOLS } from "../support/tools.js";

const sshdPresent = TOOLS.sshd.present() && TOOLS.sshKeygen.present();

/**
 * Issue 13, points 0-2: cluster health, load and placement, through the real API over dynalite,
 * with the real Spark engine on real sshd servers (a fake spark-submit that prints Spark's banner
 * stands in for Spark itself; test/e2e/spark-load.test.ts uses the real master).
 */
describe.runIf(sshdPresent)("13.0 cluster health that means something", () => {
  let sshd: SshServer;
  let noSftp: SshServer;
  let api: TestApi;
  let token: string;
  const scratch = mkdtempSync(join(tmpdir(), "edp-dispatch-"));
  const sparkSubmit = join(scratch, "spark-submit");

  beforeAll(async () => {
    writeFileSync(sparkSubmit, "#!/bin/sh\necho 'Welcome to'\necho '   /___/ .__/\\_,_/_/ /_/\\_\\   version 3.5.1'\n");
    chmodSync(sparkSubmit, 0o755);
    [sshd, noSftp] = await Promise.all([startSshd(), startSshd({ sftp: false })]);
    api = await startTestApi({ registrations: [sparkEngineRegistration], env: { EDP_CONNECT_TIMEOUT_MS: "3000" } });
    ({ token } = await api.newProject());
  }, 60_000);

  afterAll(async () => {
    await api?.close();
    await Promise.all([sshd?.dispose(), noSftp?.dispose()]);
    rmSync(scratch, { recursive: true, force: true });
  });

  const connection = (server: SshServer, extra: Record<string, unknown> = {}) => ({
    host: server.host,
    port: server.port,
    user: server.user,
    private_key: server.privateKey,
    host_key: server.hostKey,
    spark_submit: sparkSubmit,
    working_dir_base: join(scratch, "work"),
    ...extra,
  });
  const register = async (name: string, conn: Record<string, unknown>) => {
    const created = await api.request("POST", "/v2/clusters", {
      token,
      body: { name, plugin_name: "spark", plugin_version: "3.5.1", connection: conn },
    });
    expect(created.status, created.text).toBe(202);
    return created.body.cluster as { id: string; status: string };
  };
  const settled = (id: string) =>
    eventually(
      `cluster ${id} checked`,
      async () => {
        const cluster = (await api.request("GET", `/v2/clusters/${id}`, { token })).body.cluster;
        return cluster.status !== "Checking" && cluster;
      },
      30_000,
    );

  it("13.0 a well-registered cluster is Checking at once, then Active with the spark-submit version it found", async () => {
    const created = await register("good", connection(sshd));
    expect(created.status).toBe("Checking");
    const checked = await settled(created.id);
    expect(checked).toMatchObject({ status: "Active", status_description: "" });
    expect(checked.check_details).toEqual({
      spark_submit: sparkSubmit,
      spark_submit_version: "3.5.1",
      // How its jobs call back (issue 12): whatever this machine has.
      completion_callbacks: expect.stringMatching(/^(curl|wget|none)/),
    });
    expect(checked.checked_at).toEqual(expect.any(String));
  });

  it("13.0 a wrong port, a wrong host key, no SFTP subsystem and a missing spark-submit each end in Error with the reason in words", async () => {
    const wrongPort = await register("wrong-port", connection(sshd, { port: await freePort() }));
    const wrongKey = await register("wrong-key", connection(sshd, { host_key: sshd.otherHostKey }));
    const withoutSftp = await register("no-sftp", connection(noSftp));
    const noSubmit = await register("no-submit", connection(sshd, { spark_submit: join(scratch, "nowhere", "spark-submit") }));
    expect((await settled(wrongPort.id)).status_description).toMatch(/Cannot connect to .*ECONNREFUSED/);
    expect(await settled(wrongKey.id)).toMatchObject({
      status: "Error",
      status_description: expect.stringMatching(/^host key mismatch: /),
    });
    expect(await settled(withoutSftp.id)).toMatchObject({
      status: "Error",
      status_description: expect.stringMatching(/^no sftp subsystem: /),
    });
    expect(await settled(noSubmit.id)).toMatchObject({
      status: "Error",
      status_description: `spark-submit not found at ${join(scratch, "nowhere", "spark-submit")} on 127.0.0.1`,
    });
    expect((await settled(wrongPort.id)).status).toBe("Error");
  });

  it("13.0 a cluster in Error refuses new jobs with a 400 that gives the reason; fixing it and checking again makes it Active", async () => {
    const cluster = await register("fixable", connection(sshd, { spark_submit: join(scratch, "later", "spark-submit") }));
    expect((await settled(cluster.id)).status).toBe("Error");
    const upload = await api.request("PUT", "/v2/job-binary-internals/hello.sh", { token, raw: "echo hello\n" });
    const binary = await api.request("POST", "/v2/job-binaries", {
      token,
      body: { name: "hello.sh", url: `internal-db://${upload.body.job_binary_internal.id}` },
    });
    const template = await api.request("POST", "/v2/job-templates", {
      token,
      body: { name: "hello", type: "Shell", mains: [binary.body.job_binary.id] },
    });
    const refused = await api.request("POST", "/v2/jobs", {
      token,
      body: { cluster_id: cluster.id, job_template_id: template.body.job_template.id },
    });
    expect(refused.status, refused.text).toBe(400);
    expect(refused.body).toMatchObject({ error_code: 400, error_name: "INVALID_DATA" });
    expect(refused.body.error_message).toContain(`spark-submit not found at ${join(scratch, "later", "spark-submit")}`);
    expect((await api.request("GET", "/v2/jobs", { token })).body.jobs).toEqual([]);

    // The node answers the sweep's status command, but that proves nothing about spark-submit: still Error.
    await api.core.jobs.sweep();
    expect((await settled(cluster.id)).status_description).toContain(`spark-submit not found at ${join(scratch, "later", "spark-submit")}`);

    // Put spark-submit where the cluster says, then ask for the check again.
    const later = join(scratch, "later");
    rmSync(later, { recursive: true, force: true });
    mkdirSync(later);
    writeFileSync(join(later, "spark-submit"), "#!/bin/sh\necho 'version 3.5.1'\n", { mode: 0o755 });
    const recheck = await api.request("POST", `/v2/clusters/${cluster.id}/check`, { token });
    expect(recheck.status, recheck.text).toBe(202);
    expect(recheck.body.cluster.status).toBe("Checking");
    expect(await settled(cluster.id)).toMatchObject({ status: "Active", status_description: "" });
    const accepted = await api.request("POST", "/v2/jobs", {
      token,
      body: { cluster_id: cluster.id, job_template_id: template.body.job_template.id },
    });
    expect(accepted.status, accepted.text).toBe(202);
  });

  it("13.0 changing a cluster's connection checks it again; the sweep keeps the status current", async () => {
    const cluster = await register("changing", connection(sshd));
    expect((await settled(cluster.id)).status).toBe("Active");
    const patched = await api.request("PATCH", `/v2/clusters/${cluster.id}`, {
      token,
      body: { connection: { host_key: sshd.otherHostKey } },
    });
    expect(patched.status, patched.text).toBe(202);
    expect(patched.body.cluster.status).toBe("Checking");
    expect((await settled(cluster.id)).status_description).toMatch(/^host key mismatch/);
    await api.request("PATCH", `/v2/clusters/${cluster.id}`, { token, body: { connection: { host_key: sshd.hostKey } } });
    expect((await settled(cluster.id)).status).toBe("Active");

    // The node goes down: the sweep finds it unreachable, and back up, Active again.
    await sshd.stop();
    try {
      await api.core.jobs.sweep();
      const down = (await api.request("GET", `/v2/clusters/${cluster.id}`, { token })).body.cluster;
      expect(down.status).toBe("Error");
      expect(down.status_description).toMatch(/Cannot connect/);
    } finally {
      await sshd.start();
    }
    await api.core.jobs.sweep();
    expect((await api.request("GET", `/v2/clusters/${cluster.id}`, { token })).body.cluster.status).toBe("Active");
  });

  it("13.0 checking another project's cluster is refused, and an unknown one is a 404", async () => {
    const mine = await register("mine", connection(sshd));
    const other = (await api.newProject()).token;
    const refused = await api.request("POST", `/v2/clusters/${mine.id}/check`, { token: other });
    expect(refused.status).toBe(404);
    const missing = await api.request("POST", "/v2/clusters/00000000-0000-4000-8000-000000000000/check", { token });
    expect(missing.status).toBe(404);
  });
});

/**
 * 13.2 with two Oozie clusters (two loopback doubles): "near" holds the input's HDFS and runs one
 * of EDP's jobs, "idle" holds nothing and runs nothing.
 */
describe.skipIf(schemaToolingProblem() !== undefined)("13.2 placement hints and automatic placement", () => {
  let near: OozieDouble;
  let idle: OozieDouble;
  let api: TestApi;
  let token: string;
  const ids = { near: "", idle: "", template: "", input: "", output: "", elsewhere: "" };

  beforeAll(async () => {
    [near, idle] = await Promise.all([startOozieDouble(), startOozieDouble()]);
    near.setOutcome("HOLD");
    api = await startTestApi({ registrations: [oozieEngineRegistration] });
    ({ token } = await api.newProject());
    const post = async (path: string, body: unknown) => {
      const response = await api.request("POST", path, { token, body });
      if (response.status !== 202) throw new Error(`${path}: ${response.text}`);
      return response.body;
    };
    const cluster = async (name: string, double: OozieDouble, nameNode: string) =>
      (
        await post("/v2/clusters", {
          name,
          plugin_name: "vanilla",
          plugin_version: "2.7.1",
          connection: double.connection({ name_node: nameNode, resourcemanager_url: double.webhdfsUrl }),
        })
      ).cluster.id as string;
    // The double's file system is hdfs://localhost:8020: near's jobs really run there.
    ids.near = await cluster("near", near, near.nameNode);
    ids.idle = await cluster("idle", idle, "hdfs://namenode-idle:8020");
    for (const id of [ids.near, ids.idle])
      await eventually(
        "the check",
        async () => (await api.request("GET", `/v2/clusters/${id}`, { token })).body.cluster.status === "Active",
      );
    const source = async (name: string, url: string) =>
      (await post("/v2/data-sources", { name, type: "hdfs", url })).data_source.id as string;
    ids.input = await source("input", `${near.nameNode}/data/in`);
    ids.output = await source("output", "hdfs://namenode-idle:8020/data/out");
    ids.elsewhere = await source("elsewhere", "hdfs://namenode-other:8020/data/in");
    const upload = await api.request("PUT", "/v2/job-binary-internals/job.sh", { token, raw: "echo hi\n" });
    const binary = await post("/v2/job-binaries", { name: "job.sh", url: `internal-db://${upload.body.job_binary_internal.id}` });
    ids.template = (await post("/v2/job-templates", { name: "shell", type: "Shell", mains: [binary.job_binary.id] })).job_template.id;
    // One of EDP's jobs holds a container on "near"; then a sweep records both clusters' loads.
    const running = await post("/v2/jobs", { cluster_id: ids.near, job_template_id: ids.template });
    await eventually("RUNNING on near", async () => {
      const job = (await api.request("GET", `/v2/jobs/${running.job.id}`, { token })).body.job;
      if (job.info.status !== "PENDING" && job.info.status !== "RUNNING") throw new Error(JSON.stringify(job.info));
      return job.info.status === "RUNNING";
    });
    const report = await api.core.jobs.sweep();
    if (report.errors > 0) throw new Error(`the sweep had ${report.errors} errors`);
  }, 60_000);

  afterAll(async () => {
    await api?.close();
    await Promise.all([near?.stop(), idle?.stop()]);
  });

  const placement = async (query = "") => {
    const response = await api.request("GET", `/v2/job-templates/${ids.template}/placement${query}`, { token });
    expect(response.status, response.text).toBe(200);
    return response.body.placement as { cluster_id: string; cluster_name: string; score: number; usable: boolean; reasons: string[] }[];
  };

  it("13.2 with the input on near's HDFS, near ranks first, and each cluster's reasons say why", async () => {
    const ranking = await placement(`?input_id=${ids.input}`);
    expect(ranking.map((c) => c.cluster_name)).toEqual(["near", "idle"]);
    expect(ranking[0].reasons).toEqual([
      "holds the input's HDFS",
      "7 of 8 vcores free",
      "16384 of 17408 MB memory free",
      "1 EDP job running",
    ]);
    expect(ranking[1].reasons).toEqual(["8 of 8 vcores free", "17408 of 17408 MB memory free"]);
    expect(ranking[0].score).toBeGreaterThan(ranking[1].score);
    expect(ranking.every((c) => c.usable)).toBe(true);
  });

  it("13.2 without locality the idle cluster ranks first; the output's HDFS counts too", async () => {
    expect((await placement()).map((c) => c.cluster_name)).toEqual(["idle", "near"]);
    expect((await placement(`?input_id=${ids.elsewhere}`)).map((c) => c.cluster_name)).toEqual(["idle", "near"]);
    const byOutput = await placement(`?output_id=${ids.output}`);
    expect(byOutput[0]).toMatchObject({ cluster_name: "idle", reasons: expect.arrayContaining(["holds the output's HDFS"]) });
  });

  it('13.2 "cluster_id": "auto" chooses as ranked and records the reasons in info.placement', async () => {
    const local = await api.request("POST", "/v2/jobs", {
      token,
      body: { cluster_id: "auto", job_template_id: ids.template, input_id: ids.input, output_id: ids.output },
    });
    expect(local.status, local.text).toBe(202);
    expect(local.body.job.cluster_id).toBe(ids.near);
    expect(local.body.job.info.placement).toMatchObject({
      cluster_id: ids.near,
      reasons: expect.arrayContaining(["holds the input's HDFS"]),
      alternatives: [{ cluster_id: ids.idle, score: expect.any(Number) }],
    });
    const anywhere = await api.request("POST", "/v2/jobs", { token, body: { cluster_id: "auto", job_template_id: ids.template } });
    expect(anywhere.status, anywhere.text).toBe(202);
    expect(anywhere.body.job.cluster_id).toBe(ids.idle);
    expect((await api.request("GET", `/v2/jobs/${anywhere.body.job.id}`, { token })).body.job.info.placement.cluster_id).toBe(ids.idle);
  });

  it("13.2 bad input is a 400 that changes nothing; another project's template is a 404; a cluster_id neither a UUID nor auto is refused", async () => {
    const badId = await api.request("GET", `/v2/job-templates/${ids.template}/placement?input_id=nope`, { token });
    expect(badId.status).toBe(400);
    expect(badId.body.error_name).toBe("VALIDATION_ERROR");
    const unknownKey = await api.request("GET", `/v2/job-templates/${ids.template}/placement?cluster=1`, { token });
    expect(unknownKey.status).toBe(400);
    const missingSource = await api.request(
      "GET",
      `/v2/job-templates/${ids.template}/placement?input_id=00000000-0000-4000-8000-000000000000`,
      {
        token,
      },
    );
    expect(missingSource.status).toBe(400);
    const other = (await api.newProject()).token;
    expect((await api.request("GET", `/v2/job-templates/${ids.template}/placement`, { token: other })).status).toBe(404);
    const jobsBefore = (await api.request("GET", "/v2/jobs", { token })).body.jobs.length;
    const notAuto = await api.request("POST", "/v2/jobs", { token, body: { cluster_id: "automatic", job_template_id: ids.template } });
    expect(notAuto.status).toBe(400);
    expect((await api.request("GET", "/v2/jobs", { token })).body.jobs.length).toBe(jobsBefore);
  });

  it("13.2 a cluster in Error is listed last with its reason and never chosen", async () => {
    const broken = await api.request("POST", "/v2/clusters", {
      token,
      body: {
        name: "broken",
        plugin_name: "vanilla",
        plugin_version: "2.7.1",
        connection: idle.connection({ name_node: near.nameNode, oozie_url: `${idle.webhdfsUrl}/nothing-here` }),
      },
    });
    const id = broken.body.cluster.id as string;
    await eventually("Error", async () => (await api.request("GET", `/v2/clusters/${id}`, { token })).body.cluster.status === "Error");
    const ranking = await placement(`?input_id=${ids.input}`);
    expect(ranking.at(-1)).toMatchObject({
      cluster_name: "broken",
      usable: false,
      reasons: expect.arrayContaining([expect.stringMatching(/^in Error: /)]),
    });
    const auto = await api.request("POST", "/v2/jobs", {
      token,
      body: { cluster_id: "auto", job_template_id: ids.template, input_id: ids.input },
    });
    expect(auto.body.job.cluster_id).toBe(ids.near);
    await api.request("DELETE", `/v2/clusters/${id}`, { token });
  });
});

/**
 * 13.1 on the node: the status command's load read, run by /bin/sh as the engine sends it, with a
 * PATH that has curl, wget or neither.
 */
describe("13.1 the status command reads the master's /json/ with curl or wget, or records the load as unknown", () => {
  const bin = mkdtempSync(join(tmpdir(), "edp-load-bin-"));
  let server: Server;
  let uiUrl: string;
  const masterJson = {
    aliveworkers: 2,
    cores: 16,
    coresused: 12,
    memory: 32768,
    memoryused: 8192,
    activeapps: [{ id: "app-1" }, { id: "app-2" }],
  };

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === "/json/") res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(masterJson));
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    uiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // What edp_snapshot needs, and nothing else: curl and wget are added per case.
    for (const tool of ["sh", "ps", "awk"])
      symlinkSync(execFileSync("/bin/sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).trim(), join(bin, tool));
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(bin, { recursive: true, force: true });
  });

  const readLoad = async (tools: string[], url = uiUrl) => {
    const dir = mkdtempSync(join(bin, "case-"));
    for (const entry of ["sh", "ps", "awk"]) symlinkSync(join(bin, entry), join(dir, entry));
    for (const tool of tools)
      symlinkSync(execFileSync("/bin/sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).trim(), join(dir, tool));
    const boundary = `EDP-${randomBytes(8).toString("hex")}`;
    // Asynchronously: the master's UI is served by this very process.
    const output = await new Promise<string>((resolve, reject) => {
      const child = execFile("/bin/sh", ["-s"], { env: { PATH: dir }, encoding: "utf8" }, (error, stdout) =>
        error ? reject(error) : resolve(stdout),
      );
      child.stdin?.end(statusScript(boundary, [], { masterUiUrl: url }));
    });
    return parseMasterLoad(output, boundary);
  };
  const expected = {
    source: "spark-master",
    alive_workers: 2,
    cores_total: 16,
    cores_used: 12,
    memory_mb_total: 32768,
    memory_mb_used: 8192,
    running_applications: 2,
  };

  it.runIf(TOOLS.ps.present())("13.1 with curl, and with only wget, the load is the master's figures", async () => {
    expect(await readLoad(["curl"])).toEqual(expected);
    expect(await readLoad(["wget"])).toEqual(expected);
  });

  it.runIf(TOOLS.ps.present())(
    "13.1 with neither curl nor wget, or a master UI that does not answer, the load is unknown and says why",
    async () => {
      expect(await readLoad([])).toEqual({
        source: "unknown",
        unknown_reason: "the master node has neither curl nor wget to read the master's /json/",
      });
      expect(await readLoad(["curl"], `${uiUrl}/elsewhere`)).toEqual({
        source: "unknown",
        unknown_reason: "the master's web UI did not answer /json/ (see master_ui_url)",
      });
    },
  );
});
