// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Oozie EL (`${...}`) in test data, not JavaScript templates
/**
 * Issue 10: the double behaves as Apache Oozie's source and documentation say. Each test names
 * the Oozie (or Hadoop) file it follows; paths are in apache/oozie unless said otherwise.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { normaliseConnection, type OozieConnectionInput } from "../../core/src/engines/oozie/connection.js";
import { OozieClient } from "../../core/src/engines/oozie/oozie-client.js";
import { WebHdfsClient } from "../../core/src/engines/oozie/webhdfs-client.js";
import { type OozieDouble, type OozieDoubleOptions, schemaTestsRun, startOozieDouble } from "../doubles/oozie-webhdfs.js";

const schemasPresent = schemaTestsRun("the Oozie double's fidelity tests");

const HTTP = { fetch, timeoutMs: 5_000 };

function properties(entries: Record<string, string>): string {
  const body = Object.entries(entries)
    .map(([name, value]) => `<property><name>${name}</name><value>${value}</value></property>`)
    .join("");
  return `<?xml version="1.0" encoding="UTF-8"?><configuration>${body}</configuration>`;
}

const KILL_MESSAGE = "Workflow failed, error message[${wf:errorMessage(wf:lastErrorNode())}]";

function workflow(action: string): string {
  return `<workflow-app xmlns="uri:oozie:workflow:0.5" name="fidelity"><start to="job-node"/>
<action name="job-node">${action}<ok to="end"/><error to="fail"/></action>
<kill name="fail"><message>${KILL_MESSAGE}</message></kill><end name="end"/></workflow-app>`;
}

const shellAction = (inner: string) =>
  `<shell xmlns="uri:oozie:shell-action:0.3"><job-tracker>\${jobTracker}</job-tracker><name-node>\${nameNode}</name-node>${inner}</shell>`;

interface Harness {
  double: OozieDouble;
  oozie: OozieClient;
  hdfs: WebHdfsClient;
  deploy(name: string, xml: string, files?: Record<string, string>): Promise<string>;
  props(app: string, extra?: Record<string, string>): Map<string, string>;
}

async function harness(options: OozieDoubleOptions = {}, connection: Record<string, unknown> = {}): Promise<Harness> {
  const double = await startOozieDouble({ outcome: "HOLD", ...options });
  const resolved = normaliseConnection(double.connection(connection) as OozieConnectionInput);
  const hdfs = new WebHdfsClient(resolved, HTTP);
  const home = `/user/${options.basicAuth?.user ?? double.hdfsUser}`;
  return {
    double,
    oozie: new OozieClient(resolved, HTTP),
    hdfs,
    async deploy(name, xml, files = { "run.sh": "#!/bin/sh\n" }) {
      const dir = `${home}/apps/${name}`;
      await hdfs.mkdirs(dir, "755");
      await hdfs.create(`${dir}/workflow.xml`, xml, { overwrite: true, permission: "644" });
      for (const [file, content] of Object.entries(files))
        await hdfs.create(`${dir}/${file}`, content, { overwrite: true, permission: "644" });
      return dir;
    },
    props: (app, extra = {}) =>
      new Map(
        Object.entries({
          "user.name": double.hdfsUser,
          nameNode: double.nameNode,
          jobTracker: double.resourceManager,
          "oozie.wf.application.path": `${double.nameNode}${app}`,
          ...extra,
        }),
      ),
  };
}

/** A loopback HTTP server standing in for a notification receiver; answers each path with the status given. */
async function receiver(statusFor: (path: string) => number): Promise<{ url: string; received: string[]; server: Server }> {
  const received: string[] = [];
  const server = createServer((req, res) => {
    received.push(req.url ?? "");
    res.writeHead(statusFor(req.url ?? ""));
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received, server };
}

describe.runIf(schemasPresent)("the Oozie double follows Oozie (issue 10)", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness();
  });
  afterAll(async () => {
    await h?.double.stop();
  });

  const put = (id: string, action: string) => fetch(`${h.double.oozieUrl}/v2/job/${id}?action=${action}`, { method: "PUT" });

  // core/src/main/java/org/apache/oozie/command/wf/ActionStartXCommand.java (catch ELException → EL_ERROR, handleError → failJob)
  it("10.1 an unknown EL function at action start fails the workflow too; nothing is left suspended", async () => {
    const app = await h.deploy("el-function", workflow(shellAction("<exec>run.sh</exec><argument>${wf:nosuch()}</argument>")));
    const id = await h.oozie.submit(h.props(app));
    await h.oozie.start(id);
    const info = await h.oozie.info(id);
    expect(info.status).toBe("FAILED");
    expect(info.actions?.[1]).toMatchObject({ name: "job-node", status: "FAILED", errorCode: "EL_ERROR" });

    // The whole action is evaluated, not only the parts the double keeps: here the job-tracker.
    const tracker = await h.deploy("el-tracker", workflow(shellAction("<exec>run.sh</exec>")));
    const trackerProps = h.props(tracker);
    trackerProps.delete("jobTracker");
    const trackerId = await h.oozie.submit(trackerProps);
    await h.oozie.start(trackerId);
    expect(await h.oozie.info(trackerId)).toMatchObject({
      status: "FAILED",
      actions: [{}, { status: "FAILED", errorCode: "EL_ERROR", errorMessage: "variable [jobTracker] cannot be resolved" }],
    });
  });

  // core/src/main/java/org/apache/oozie/action/hadoop/JavaActionExecutor.java (registerError FileNotFoundException → ERROR JA008;
  // checkForDisallowedProps(jobXmlConf, "job-xml"))
  it("10.2 a missing job-xml is JA008 and the workflow ends KILLED through its kill node; job-xml files are checked for disallowed properties", async () => {
    const missing = await h.deploy(
      "missing-job-xml",
      workflow(shellAction("<job-xml>nowhere.xml</job-xml><exec>run.sh</exec><file>run.sh</file>")),
    );
    const missingId = await h.oozie.submit(h.props(missing));
    await h.oozie.start(missingId);
    const killed = await h.oozie.info(missingId);
    expect(killed.status).toBe("KILLED");
    expect(killed.actions?.map((a) => [a.name, a.status, a.errorCode])).toEqual([
      [":start:", "OK", null],
      ["job-node", "ERROR", "JA008"],
      ["fail", "OK", "E0729"],
    ]);
    expect(killed.actions?.[1].errorMessage).toBe(`File does not exist: ${missing}/nowhere.xml`);

    for (const [property, reported] of [
      ["user.name", "user.name"],
      ["mapreduce.job.user.name", "mapreduce.job.user.name"],
      ["fs.default.name", "fs.default.name"],
      ["fs.defaultFS", "fs.default.name"],
      ["yarn.resourcemanager.address", "yarn.resourcemanager.address"],
    ]) {
      const app = await h.deploy(`job-xml-${property}`, workflow(shellAction("<job-xml>extra.xml</job-xml><exec>run.sh</exec>")), {
        "run.sh": "#!/bin/sh\n",
        "extra.xml": properties({ [property]: "x" }),
      });
      const id = await h.oozie.submit(h.props(app));
      await h.oozie.start(id);
      const info = await h.oozie.info(id);
      expect(info.status, property).toBe("FAILED");
      expect(info.actions?.[1], property).toMatchObject({
        status: "FAILED",
        errorCode: "JA010",
        errorMessage: `Property [${reported}] not allowed in action [job-xml] configuration`,
      });
    }
  });

  // Oozie 4.2's JavaActionExecutor.DISALLOWED_PROPERTIES (release-4.2.0): the JobTracker addresses instead of mapreduce.job.user.name
  it("10.2 the disallowed properties follow the Oozie version", async () => {
    const old = await harness({ version: "4.2" });
    try {
      const inline = (name: string) =>
        workflow(
          shellAction(`<configuration><property><name>${name}</name><value>x</value></property></configuration><exec>run.sh</exec>`),
        );
      const tracker = await old.deploy("tracker", inline("mapred.job.tracker"));
      const trackerId = await old.oozie.submit(old.props(tracker));
      await old.oozie.start(trackerId);
      expect((await old.oozie.info(trackerId)).actions?.[1]).toMatchObject({
        status: "FAILED",
        errorCode: "JA010",
        errorMessage: "Property [mapred.job.tracker] not allowed in action [inline configuration] configuration",
      });
      const mrUser = await old.deploy("mr-user", inline("mapreduce.job.user.name"));
      const mrUserId = await old.oozie.submit(old.props(mrUser));
      await old.oozie.start(mrUserId);
      expect((await old.oozie.info(mrUserId)).status).toBe("RUNNING");
    } finally {
      await old.double.stop();
    }
  });

  // core/src/main/java/org/apache/oozie/command/wf/KillXCommand.java (verifyPrecondition, execute: FAILED stays FAILED),
  // core/src/main/java/org/apache/oozie/command/XCommand.java (call: PreconditionException swallowed),
  // core/src/main/java/org/apache/oozie/command/wf/SignalXCommand.java (E0801 only when RUNNING, E0813 otherwise),
  // core/src/main/java/org/apache/oozie/command/wf/SuspendXCommand.java, ResumeXCommand.java (preconditions)
  it("10.3 kill of a SUCCEEDED or KILLED job is 200 and changes nothing; a FAILED job stays FAILED; start is refused only when RUNNING", async () => {
    const app = await h.deploy("preconditions", workflow(shellAction("<exec>run.sh</exec>")));
    const done = await h.oozie.submit(h.props(app));
    await h.oozie.start(done);
    h.double.finish(done, "SUCCEEDED");
    const before = await h.oozie.info(done);
    await h.oozie.kill(done);
    expect(await h.oozie.info(done)).toEqual(before);

    const killed = await h.oozie.submit(h.props(app));
    await h.oozie.kill(killed);
    const killedInfo = await h.oozie.info(killed);
    expect(killedInfo.status).toBe("KILLED");
    const again = await put(killed, "kill");
    expect(again.status).toBe(200);
    expect(again.headers.get("oozie-error-code")).toBeNull();
    expect(await h.oozie.info(killed)).toEqual(killedInfo);
    expect((await put(killed, "start")).status).toBe(200);
    expect((await h.oozie.info(killed)).status).toBe("KILLED");

    const failed = await h.oozie.submit(h.props(app));
    await h.oozie.start(failed);
    h.double.finish(failed, "FAILED");
    await h.oozie.kill(failed);
    const failedInfo = await h.oozie.info(failed);
    expect(failedInfo.status).toBe("FAILED");
    expect(failedInfo.actions?.find((a) => a.name === "job-node")?.status).toBe("FAILED");

    const running = await h.oozie.submit(h.props(app));
    await h.oozie.start(running);
    const refused = await put(running, "start");
    expect(refused.status).toBe(400);
    expect(refused.headers.get("oozie-error-code")).toBe("E0801");

    // SuspendXCommand / ResumeXCommand: their preconditions (E0727, E1100) are swallowed the same way.
    expect((await put(running, "resume")).status).toBe(200);
    expect((await h.oozie.info(running)).status).toBe("RUNNING");
    expect((await put(done, "suspend")).status).toBe(200);
    expect((await h.oozie.info(done)).status).toBe("SUCCEEDED");
  });

  // core/src/main/java/org/apache/oozie/servlet/BaseJobsServlet.java (doPost: conf.set(USER_NAME, getUser(request))),
  // core/src/main/java/org/apache/oozie/servlet/JsonRestServlet.java (getUser: the authenticated user, or doAs)
  it("10.4 the job belongs to the user who asked, not to the configuration's user.name", async () => {
    const app = await h.deploy("owner", workflow(shellAction("<exec>run.sh</exec>")));
    const submit = (query: string, user: string) =>
      fetch(`${h.double.oozieUrl}/v2/jobs?${query}`, {
        method: "POST",
        headers: { "Content-Type": "application/xml" },
        body: properties(Object.fromEntries(h.props(app, { "user.name": user }))),
      });
    // Pseudo authentication: the user.name query parameter is the authenticated user.
    const pseudo = (await (await submit("user.name=hadoop", "mallory")).json()) as { id: string };
    expect(h.double.job(pseudo.id)?.user).toBe("hadoop");
    expect(h.double.job(pseudo.id)?.conf.get("user.name")).toBe("hadoop");
    expect(h.double.job(pseudo.id)?.confXml).toContain("<value>hadoop</value>");
    expect(h.double.job(pseudo.id)?.confXml).not.toContain("mallory");
    // No authenticated user (UNDEF): the configuration's user.name stands.
    const undef = (await (await submit("", "hadoop")).json()) as { id: string };
    expect(h.double.job(undef.id)?.user).toBe("hadoop");

    const gateway = await harness({ basicAuth: { user: "knox", password: "pw" } }, { auth_user: "knox", password: "pw" });
    try {
      const gatedApp = await gateway.deploy("owner", workflow(shellAction("<exec>run.sh</exec>")));
      const id = await gateway.oozie.submit(gateway.props(gatedApp));
      expect(gateway.double.job(id)?.conf.get("user.name")).toBe("knox");
      expect((await gateway.oozie.info(id)).user).toBe("knox");
      expect(await gateway.oozie.listWorkflows({ user: "hadoop" }, 10)).toEqual([]);
      expect((await gateway.oozie.listWorkflows({ user: "knox" }, 10)).map((w) => w.id)).toEqual([id]);
      expect((await gateway.oozie.listWorkflows({ names: ["fidelity"] }, 10)).map((w) => w.id)).toEqual([id]);
    } finally {
      await gateway.double.stop();
    }
  });

  // core/src/main/java/org/apache/oozie/servlet/BaseJobServlet.java (checkAuthorizationForApp: SC_UNAUTHORIZED),
  // core/src/main/java/org/apache/oozie/service/AuthorizationService.java (authorizeForApp: E0504, E0505, E0507)
  it("10.5 app-path authorization errors are 401 with Oozie's headers; a refused login is a bare 401", async () => {
    const post = (app: string) =>
      fetch(`${h.double.oozieUrl}/v2/jobs?user.name=hadoop`, {
        method: "POST",
        headers: { "Content-Type": "application/xml" },
        body: properties({ "user.name": "hadoop", "oozie.wf.application.path": `${h.double.nameNode}${app}` }),
      });
    const absent = await post("/user/hadoop/no-such-app");
    expect([absent.status, absent.headers.get("oozie-error-code"), absent.headers.get("oozie-error-message")]).toEqual([
      401,
      "E0504",
      `E0504: App directory [${h.double.nameNode}/user/hadoop/no-such-app] does not exist`,
    ]);
    await h.hdfs.mkdirs("/user/hadoop/private-app", "700");
    await h.hdfs.create("/user/hadoop/private-app/workflow.xml", workflow(shellAction("<exec>run.sh</exec>")), {
      overwrite: true,
      permission: "600",
    });
    const denied = await fetch(`${h.double.oozieUrl}/v2/jobs?user.name=someone`, {
      method: "POST",
      headers: { "Content-Type": "application/xml" },
      body: properties({ "user.name": "someone", "oozie.wf.application.path": `${h.double.nameNode}/user/hadoop/private-app` }),
    });
    expect(denied.status).toBe(401);
    expect(denied.headers.get("oozie-error-code")).toBe("E0507");
    expect(denied.headers.get("oozie-error-message")).toMatch(
      new RegExp(`^E0507: Could not access to \\[${h.double.nameNode}/user/hadoop/private-app\\], Permission denied: user=someone`),
    );

    const gateway = await harness({ basicAuth: { user: "knox", password: "pw" } });
    try {
      const refused = await fetch(`${gateway.double.oozieUrl}/v2/jobs?jobtype=wf`, {
        headers: { Authorization: `Basic ${Buffer.from("knox:wrong").toString("base64")}` },
      });
      expect(refused.status).toBe(401);
      expect(refused.headers.get("oozie-error-code")).toBeNull();
      expect(refused.headers.get("oozie-error-message")).toBeNull();
    } finally {
      await gateway.double.stop();
    }
  });

  // core/src/main/java/org/apache/oozie/executor/jpa/WorkflowsJobGetJPAExecutor.java (a column projection: no appPath, conf,
  // consoleUrl or actions), client/.../JsonTags.java WORKFLOWS_JOBS
  it("10.6 listing items carry null appPath, conf and consoleUrl and no actions, while show=info has them", async () => {
    const app = await h.deploy("listing", workflow(shellAction("<exec>run.sh</exec>")));
    const id = await h.oozie.submit(h.props(app));
    await h.oozie.start(id);
    const body = (await (await fetch(`${h.double.oozieUrl}/v2/jobs?jobtype=wf&filter=${encodeURIComponent(`id=${id}`)}`)).json()) as {
      workflows: Record<string, unknown>[];
    };
    expect(body.workflows).toHaveLength(1);
    expect(body.workflows[0]).toMatchObject({
      id,
      status: "RUNNING",
      appName: "fidelity",
      appPath: null,
      conf: null,
      consoleUrl: null,
      actions: [],
    });
    const info = (await (await fetch(`${h.double.oozieUrl}/v2/job/${id}?show=info`)).json()) as Record<string, unknown>;
    expect(info.appPath).toBe(`${h.double.nameNode}${app}`);
    expect(info.conf).toEqual(expect.stringContaining("<configuration>"));
    expect(info.consoleUrl).toEqual(expect.any(String));
    expect((info.actions as unknown[]).length).toBe(2);
  });

  // core/src/main/java/org/apache/oozie/servlet/JsonRestServlet.java (validateContentType, getContentType; E1603 for an
  // IllegalArgumentException such as NumberFormatException), core/src/main/java/org/apache/oozie/DagEngine.java (parseFilter),
  // core/src/main/java/org/apache/oozie/servlet/V1JobsServlet.java (getWorkflowJobs: offset < 1 → 1, len < 1 → 50)
  it("10.7 submit wants exactly application/xml; malformed filters are E0420; len and offset are clamped or E1603", async () => {
    const app = await h.deploy("small", workflow(shellAction("<exec>run.sh</exec>")));
    const body = properties(Object.fromEntries(h.props(app)));
    const submitAs = (contentType: string) =>
      fetch(`${h.double.oozieUrl}/v2/jobs`, { method: "POST", headers: { "Content-Type": contentType }, body });
    expect((await submitAs("application/xml")).status).toBe(201);
    expect((await submitAs("Application/XML; charset=UTF-8")).status).toBe(201);
    for (const wrong of ["application/xml-dtd", "application/xmlfoo", "text/xml"]) {
      const response = await submitAs(wrong);
      expect([response.status, response.headers.get("oozie-error-code")], wrong).toEqual([400, "E0300"]);
    }

    const list = (query: string) => fetch(`${h.double.oozieUrl}/v2/jobs?jobtype=wf&${query}`);
    for (const filter of ["name=a=b", "name=", "user=hadoop;status="]) {
      const response = await list(`filter=${encodeURIComponent(filter)}`);
      expect([response.status, response.headers.get("oozie-error-message")], filter).toEqual([
        400,
        `E0420: Invalid jobs filter [${filter}], elements must be semicolon-separated name=value pairs`,
      ]);
    }
    const clamped = (await (await list("offset=0&len=-3")).json()) as { offset: number; len: number; workflows: unknown[] };
    expect([clamped.offset, clamped.len]).toEqual([1, 50]);
    expect(clamped.workflows.length).toBeGreaterThan(0);
    for (const query of ["len=abc", "offset=1.5", "len="]) {
      const response = await list(query);
      expect([response.status, response.headers.get("oozie-error-code")], query).toEqual([400, "E1603"]);
    }
  });

  // core/src/main/java/org/apache/oozie/command/wf/SignalXCommand.java (the kill node's message evaluated and set as the
  // error message itself, code E0729)
  it("10.7 a kill node's errorMessage is the evaluated message itself", async () => {
    const app = await h.deploy("kill-message", workflow(shellAction("<exec>gone.sh</exec><file>gone.sh</file>")));
    const id = await h.oozie.submit(h.props(app));
    await h.oozie.start(id);
    const info = await h.oozie.info(id);
    const killNode = info.actions?.find((a) => a.name === "fail");
    expect(killNode).toMatchObject({
      errorCode: "E0729",
      errorMessage: `Workflow failed, error message[File does not exist: ${app}/gone.sh]`,
    });
  });

  // docs/src/site/markdown/WorkflowFunctionalSpec.md §5 and §5.1; core/src/main/java/org/apache/oozie/command/NotificationXCommand.java
  // (GET, HTTP_OK only, MAX_RETRIES = 3, requeued 60 s apart), core/src/main/java/org/apache/oozie/command/wf/WorkflowNotificationXCommand.java
  // ($jobId, $status, $parentId by replaceAll), StartXCommand/SignalXCommand/KillXCommand/SuspendXCommand/ResumeXCommand (when it is sent)
  it("10.8 workflow notifications: a GET on start, suspend, resume, kill and end, never at submit; only 200 is delivered, else 3 retries", async () => {
    const target = await receiver((path) => (path.startsWith("/flaky") ? 204 : 200));
    try {
      const app = await h.deploy("notify", workflow(shellAction("<exec>run.sh</exec>")));
      const template = `${target.url}/wf?id=$jobId&s=$status&p=$parentId&raw=a b`;
      const id = await h.oozie.submit(h.props(app, { "oozie.wf.workflow.notification.url": template }));
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(target.received).toEqual([]);
      await h.oozie.start(id);
      expect((await put(id, "suspend")).status).toBe(200);
      expect((await put(id, "resume")).status).toBe(200);
      h.double.finish(id, "SUCCEEDED");
      const expected = ["RUNNING", "SUSPENDED", "RUNNING", "SUCCEEDED"].map((status) => `/wf?id=${id}&s=${status}&p=&raw=a%20b`);
      await expect.poll(() => target.received, { timeout: 5_000, interval: 20 }).toEqual(expected);
      // The substitution itself does no URL encoding: the URL Oozie opens is the plain replacement.
      expect(h.double.notifications.map((n) => n.url)).toEqual(
        ["RUNNING", "SUSPENDED", "RUNNING", "SUCCEEDED"].map((status) => `${target.url}/wf?id=${id}&s=${status}&p=&raw=a b`),
      );
      // The receiver records a request before it answers, and the double marks it delivered once the answer is back.
      await expect
        .poll(() => h.double.notifications.every((n) => n.delivered && n.attempt === 1), { timeout: 5_000, interval: 20 })
        .toBe(true);

      const killed = await h.oozie.submit(h.props(app, { "oozie.wf.workflow.notification.url": `${target.url}/kill/$status` }));
      await h.oozie.kill(killed);
      await expect
        .poll(() => target.received.filter((path) => path.startsWith("/kill/")), { timeout: 5_000, interval: 20 })
        .toEqual(["/kill/KILLED"]);

      const before = h.double.notifications.length;
      const flaky = await h.oozie.submit(h.props(app, { "oozie.wf.workflow.notification.url": `${target.url}/flaky/$jobId/$status` }));
      await h.oozie.start(flaky);
      await expect
        .poll(() => h.double.notifications.slice(before).map((n) => [n.attempt, n.status, n.delivered]), { timeout: 5_000, interval: 20 })
        .toEqual([
          [1, 204, false],
          [2, 204, false],
          [3, 204, false],
          [4, 204, false],
        ]);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(target.received.filter((path) => path.startsWith("/flaky/"))).toHaveLength(4);
    } finally {
      target.server.close();
    }
  });

  // hadoop: hadoop-yarn-project/hadoop-yarn/hadoop-yarn-site/src/site/markdown/ResourceManagerRest.md ("Cluster Metrics API")
  it("10.8 YARN's /ws/v1/cluster/metrics answers clusterMetrics with the documented fields", async () => {
    const response = await fetch(`${h.double.webhdfsUrl}/ws/v1/cluster/metrics`);
    expect(response.status).toBe(200);
    const { clusterMetrics } = (await response.json()) as { clusterMetrics: Record<string, unknown> };
    const fields = [
      "appsSubmitted",
      "appsCompleted",
      "appsPending",
      "appsRunning",
      "appsFailed",
      "appsKilled",
      "reservedMB",
      "availableMB",
      "allocatedMB",
      "totalMB",
      "reservedVirtualCores",
      "availableVirtualCores",
      "allocatedVirtualCores",
      "totalVirtualCores",
      "containersAllocated",
      "containersReserved",
      "containersPending",
      "totalNodes",
      "activeNodes",
      "lostNodes",
      "unhealthyNodes",
      "decommissioningNodes",
      "decommissionedNodes",
      "rebootedNodes",
      "shutdownNodes",
    ];
    expect(Object.keys(clusterMetrics).sort()).toEqual([...fields].sort());
    for (const field of fields) expect(Number.isInteger(clusterMetrics[field]), field).toBe(true);
    expect(clusterMetrics.availableMB).toBe((clusterMetrics.totalMB as number) - (clusterMetrics.allocatedMB as number));
    expect(clusterMetrics.appsRunning).toBe(
      h.double.jobs().filter((job) => job.actions.some((action) => action.externalStatus === "RUNNING")).length,
    );
  });
});
