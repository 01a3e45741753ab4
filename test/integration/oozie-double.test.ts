// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Oozie EL (`${...}`) in test data, not JavaScript templates
/**
 * The double's own fidelity: the documented request/response formats of Oozie's v2 API and
 * WebHDFS, and the rejections a real server makes. The engine's tests are only as good as this.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { normaliseConnection, type OozieConnectionInput } from "../../core/src/engines/oozie/connection.js";
import { OozieClient } from "../../core/src/engines/oozie/oozie-client.js";
import { WebHdfsClient } from "../../core/src/engines/oozie/webhdfs-client.js";
import { EngineError } from "../../core/src/errors.js";
import { type OozieDouble, schemaTestsRun, startOozieDouble } from "../doubles/oozie-webhdfs.js";

// In CI a missing xmllint or XSD directory fails this file; elsewhere it is skipped, saying where the XSDs come from.
const schemasPresent = schemaTestsRun("the Oozie double's tests");

const HTTP = { fetch, timeoutMs: 5_000 };

function properties(entries: Record<string, string>): string {
  const body = Object.entries(entries)
    .map(([name, value]) => `<property><name>${name}</name><value>${value}</value></property>`)
    .join("");
  return `<?xml version="1.0" encoding="UTF-8"?><configuration>${body}</configuration>`;
}

function workflow(action: string): string {
  return `<workflow-app xmlns="uri:oozie:workflow:0.5" name="hand-made"><start to="job-node"/>
<action name="job-node">${action}<ok to="end"/><error to="fail"/></action>
<kill name="fail"><message>failed [\${wf:errorMessage(wf:lastErrorNode())}]</message></kill><end name="end"/></workflow-app>`;
}

const shellAction = (inner: string) =>
  `<shell xmlns="uri:oozie:shell-action:0.3"><job-tracker>\${jobTracker}</job-tracker><name-node>\${nameNode}</name-node>${inner}</shell>`;

describe.runIf(schemasPresent)("the Oozie/WebHDFS double", () => {
  let double: OozieDouble;
  let oozie: OozieClient;
  let hdfs: WebHdfsClient;

  beforeAll(async () => {
    double = await startOozieDouble({ outcome: "HOLD" });
    const connection = normaliseConnection(double.connection() as OozieConnectionInput);
    oozie = new OozieClient(connection, HTTP);
    hdfs = new WebHdfsClient(connection, HTTP);
  });
  afterAll(async () => {
    await double?.stop();
  });

  const post = (body: string, contentType = "application/xml;charset=UTF-8", query = "") =>
    fetch(`${double.oozieUrl}/v2/jobs${query}`, { method: "POST", headers: { "Content-Type": contentType }, body });
  const jobProperties = (app: string, extra: Record<string, string> = {}) =>
    new Map(
      Object.entries({
        "user.name": "hadoop",
        nameNode: double.nameNode,
        jobTracker: double.resourceManager,
        "oozie.wf.application.path": `${double.nameNode}${app}`,
        ...extra,
      }),
    );

  async function deploy(name: string, xml: string): Promise<string> {
    const dir = `/user/hadoop/apps/${name}`;
    await hdfs.mkdirs(dir, "755");
    await hdfs.create(`${dir}/workflow.xml`, xml, { overwrite: true, permission: "644" });
    await hdfs.create(`${dir}/run.sh`, "#!/bin/sh\n", { overwrite: true, permission: "755" });
    return dir;
  }

  async function expectOozieError(response: Response, status: number, code: string, message: string | RegExp) {
    expect(response.status).toBe(status);
    expect(response.headers.get("oozie-error-code")).toBe(code);
    const header = response.headers.get("oozie-error-message") ?? "";
    if (typeof message === "string") expect(header).toBe(message);
    else expect(header).toMatch(message);
    expect(await response.text()).toContain("<html>");
  }

  describe("Oozie v2 API", () => {
    it("serves the versions end-point", async () => {
      const response = await fetch(`${double.oozieUrl}/versions`);
      expect(await response.json()).toEqual([0, 1, 2]);
    });

    it("rejects malformed submissions with Oozie's codes", async () => {
      await expectOozieError(
        await post(properties({ "user.name": "hadoop" }), "text/plain"),
        400,
        "E0300",
        "E0300: Invalid content-type [text/plain]",
      );
      await expectOozieError(await post("<configuration><property>"), 400, "E0700", /^E0700: XML error, /);
      await expectOozieError(
        await post(properties({ "oozie.wf.application.path": `${double.nameNode}/x` })),
        400,
        "E0401",
        "E0401: Missing configuration property [user.name]",
      );
      await expectOozieError(
        await post(properties({ "user.name": "hadoop" })),
        400,
        "E0405",
        "E0405: Submission request doesn't have any application or lib path",
      );
      // 10.5: app-path authorization errors are 401 (BaseJobServlet.checkAuthorizationForApp, AuthorizationService.authorizeForApp).
      await expectOozieError(
        await post(properties({ "user.name": "hadoop", "oozie.wf.application.path": `${double.nameNode}/user/hadoop/nothing-here` })),
        401,
        "E0504",
        `E0504: App directory [${double.nameNode}/user/hadoop/nothing-here] does not exist`,
      );
      await hdfs.mkdirs("/user/hadoop/apps/empty", "755");
      await expectOozieError(
        await post(properties({ "user.name": "hadoop", "oozie.wf.application.path": `${double.nameNode}/user/hadoop/apps/empty` })),
        401,
        "E0505",
        `E0505: App definition [${double.nameNode}/user/hadoop/apps/empty] does not exist`,
      );
      await expectOozieError(
        await post(properties({ "user.name": "hadoop", "oozie.wf.application.path": "/a", "oozie.coord.application.path": "/b" })),
        400,
        "E0404",
        /^E0404: Only one of the properties are allowed/,
      );
    });

    it("validates the workflow against the XSDs on submit (E0701) and refuses a DOCTYPE (E0700)", async () => {
      const noExec = await deploy("no-exec", workflow(shellAction("<argument>x</argument>")));
      const error = await oozie.submit(jobProperties(noExec)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EngineError);
      expect(String(error)).toMatch(
        /^OozieError: Oozie submit failed \(HTTP 400 E0701\): E0701: XML schema error, .*argument.*This element is not expected/,
      );
      const unknownAction = await deploy("unknown-ns", workflow('<shell xmlns="uri:oozie:shell-action:9.9"><exec>run.sh</exec></shell>'));
      await expect(oozie.submit(jobProperties(unknownAction))).rejects.toThrow(/E0701.*No matching global element declaration/);
      const doctype = await deploy("doctype", `<!DOCTYPE x [<!ENTITY e "boom">]>${workflow(shellAction("<exec>&e;</exec>"))}`);
      await expect(oozie.submit(jobProperties(doctype))).rejects.toThrow(/E0700: XML error, DOCTYPE is disallowed/);
    });

    it("moves a workflow PREP → RUNNING → SUCCEEDED and reports it in the documented JSON", async () => {
      const app = await deploy("ok", workflow(shellAction("<exec>run.sh</exec><file>run.sh</file>")));
      const id = await oozie.submit(jobProperties(app));
      expect(id).toMatch(/^\d{7}-\d+-oozie-oozi-W$/);
      expect((await oozie.info(id)).status).toBe("PREP");
      await oozie.start(id);
      const running = await oozie.info(id);
      expect(running).toMatchObject({ id, status: "RUNNING", appName: "hand-made", user: "hadoop", endTime: null });
      expect(running.startTime).toMatch(/^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
      expect(running.actions?.map((a) => [a.name, a.type, a.status])).toEqual([
        [":start:", ":START:", "OK"],
        ["job-node", "shell", "RUNNING"],
      ]);
      double.finish(id, "SUCCEEDED");
      const done = await fetch(`${double.oozieUrl}/v2/job/${id}?show=status`);
      expect(await done.json()).toEqual({ status: "SUCCEEDED" });
      const definition = await fetch(`${double.oozieUrl}/v2/job/${id}?show=definition`);
      expect(await definition.text()).toContain('name="hand-made"');
    });

    it("runs to the outcome on its own when not held, and `?action=start` starts on submit", async () => {
      const timed = await startOozieDouble({ outcome: "SUCCEEDED", runMs: 400 });
      try {
        const connection = normaliseConnection(timed.connection() as OozieConnectionInput);
        const client = new OozieClient(connection, HTTP);
        const files = new WebHdfsClient(connection, HTTP);
        await files.create("/user/hadoop/a/workflow.xml", workflow(shellAction("<exec>run.sh</exec>")), {
          overwrite: false,
          permission: "644",
        });
        const props = new Map(
          Object.entries({
            "user.name": "hadoop",
            nameNode: timed.nameNode,
            jobTracker: "rm",
            "oozie.wf.application.path": `${timed.nameNode}/user/hadoop/a`,
          }),
        );
        const response = await fetch(`${timed.oozieUrl}/v2/jobs?action=start`, {
          method: "POST",
          headers: { "Content-Type": "application/xml;charset=UTF-8" },
          body: properties(Object.fromEntries(props)),
        });
        expect(response.status).toBe(201);
        const { id } = (await response.json()) as { id: string };
        expect((await client.info(id)).status).toBe("RUNNING");
        await expect.poll(async () => (await client.info(id)).status, { timeout: 5_000, interval: 20 }).toBe("SUCCEEDED");
        const failing = await client.submit(new Map([...props, ["oozie.double.outcome", "ERROR"]]));
        await client.start(failing);
        await expect.poll(async () => (await client.info(failing)).status, { timeout: 5_000, interval: 20 }).toBe("KILLED");
        expect((await client.info(failing)).actions?.map((a) => [a.name, a.status])).toEqual([
          [":start:", "OK"],
          ["job-node", "ERROR"],
          ["fail", "OK"],
        ]);
      } finally {
        await timed.stop();
      }
    });

    // ActionStartXCommand: an ELException sets EL_ERROR and fails the job (handleError → failJob).
    it("10.1 evaluates EL at action start: an unknown variable fails the action and the workflow (EL_ERROR), the escape stays literal", async () => {
      const raw = await deploy("el-raw", workflow(shellAction("<exec>run.sh</exec><argument>${secretVariable}</argument>")));
      const rawId = await oozie.submit(jobProperties(raw));
      await oozie.start(rawId);
      const failed = await oozie.info(rawId);
      expect(failed.status).toBe("FAILED");
      expect(failed.endTime).not.toBeNull();
      expect(failed.actions?.map((a) => [a.name, a.status])).toEqual([
        [":start:", "OK"],
        ["job-node", "FAILED"],
      ]);
      expect(failed.actions?.[1]).toMatchObject({
        status: "FAILED",
        errorCode: "EL_ERROR",
        errorMessage: "variable [secretVariable] cannot be resolved",
      });

      const evaluated = await deploy(
        "el-eval",
        workflow(shellAction("<exec>run.sh</exec><argument>${wf:conf('user.name')}@${nameNode}</argument>")),
      );
      const evaluatedId = await oozie.submit(jobProperties(evaluated));
      await oozie.start(evaluatedId);
      expect(double.job(evaluatedId)?.resolvedAction?.arguments).toEqual([`hadoop@${double.nameNode}`]);

      const escaped = await deploy("el-escaped", workflow(shellAction("<exec>run.sh</exec><argument>${'$'}{secretVariable}</argument>")));
      const escapedId = await oozie.submit(jobProperties(escaped));
      await oozie.start(escapedId);
      expect((await oozie.info(escapedId)).status).toBe("RUNNING");
      expect(double.job(escapedId)?.resolvedAction?.arguments).toEqual(["${secretVariable}"]);
    });

    // JavaActionExecutor: checkForDisallowedProps (JA010, FAILED); FileNotFoundException registered as ERROR JA008.
    it("10.2 fails an action with a disallowed property (JA010) and errors one whose files are missing (JA008, KILLED)", async () => {
      const disallowed = await deploy(
        "disallowed",
        workflow(
          shellAction(
            "<configuration><property><name>fs.defaultFS</name><value>hdfs://other</value></property></configuration><exec>run.sh</exec>",
          ),
        ),
      );
      const failedId = await oozie.submit(jobProperties(disallowed));
      await oozie.start(failedId);
      expect(await oozie.info(failedId)).toMatchObject({ status: "FAILED", actions: [{}, { status: "FAILED", errorCode: "JA010" }] });

      const missing = await deploy("missing", workflow(shellAction("<exec>gone.sh</exec><file>gone.sh</file>")));
      const missingId = await oozie.submit(jobProperties(missing));
      await oozie.start(missingId);
      const info = await oozie.info(missingId);
      expect(info.status).toBe("KILLED");
      expect(info.actions?.map((a) => [a.name, a.status])).toEqual([
        [":start:", "OK"],
        ["job-node", "ERROR"],
        ["fail", "OK"],
      ]);
      expect(info.actions?.[1]).toMatchObject({
        status: "ERROR",
        errorCode: "JA008",
        transition: "fail",
        errorMessage: `File does not exist: ${missing}/gone.sh`,
      });
    });

    // SignalXCommand (E0801 for RUNNING), KillXCommand (E0725 precondition), XCommand.call (preconditions swallowed).
    it("10.3 manages jobs the way Oozie's commands do", async () => {
      const app = await deploy("manage", workflow(shellAction("<exec>run.sh</exec>")));
      const id = await oozie.submit(jobProperties(app));
      const put = (action: string, jobId = id) => fetch(`${double.oozieUrl}/v2/job/${jobId}?action=${action}`, { method: "PUT" });
      await expectOozieError(await put("explode"), 400, "E0303", "E0303: Invalid parameter value, [action] = [explode]");
      expect((await put("start")).status).toBe(200);
      await expectOozieError(await put("start"), 400, "E0801", `E0801: Workflow already running, workflow [${id}]`);
      expect((await put("suspend")).status).toBe(200);
      expect((await oozie.info(id)).status).toBe("SUSPENDED");
      expect((await put("resume")).status).toBe(200);
      double.finish(id, "SUCCEEDED");
      // E0725 is a PreconditionException, which XCommand.call logs and swallows: 200 and nothing changes.
      const kill = await put("kill");
      expect(kill.status).toBe(200);
      expect(kill.headers.get("oozie-error-code")).toBeNull();
      expect((await oozie.info(id)).status).toBe("SUCCEEDED");
      // E0813 (start of a job neither PREP nor RUNNING) is swallowed the same way.
      expect((await put("start")).status).toBe(200);
      expect((await oozie.info(id)).status).toBe("SUCCEEDED");
      await expectOozieError(await put("kill", "0000000-nope-W"), 400, "E0604", "E0604: Job does not exist [0000000-nope-W]");
      const badShow = await fetch(`${double.oozieUrl}/v2/job/${id}?show=graph`);
      await expectOozieError(badShow, 400, "E0303", "E0303: Invalid parameter value, [show] = [graph]");
    });

    // DagEngine.parseFilter, V1JobsServlet.getWorkflowJobs.
    it("10.7 lists workflows with filters (AND across names, OR within a name) under `workflows`", async () => {
      const app = await deploy("list", workflow(shellAction("<exec>run.sh</exec>")));
      const first = await oozie.submit(jobProperties(app));
      const listing = await fetch(
        `${double.oozieUrl}/v2/jobs?jobtype=wf&filter=${encodeURIComponent("user=hadoop;name=hand-made;status=PREP")}&offset=1&len=2`,
      );
      const body = (await listing.json()) as { total: number; offset: number; len: number; workflows: { id: string; status: string }[] };
      expect(body).toMatchObject({ offset: 1, len: 2 });
      expect(body.total).toBeGreaterThanOrEqual(1);
      expect(body.workflows.length).toBeLessThanOrEqual(2);
      expect(body.workflows[0]).toMatchObject({ id: first, status: "PREP" });
      expect(body.workflows.every((w) => w.status === "PREP")).toBe(true);
      expect(await oozie.listWorkflows({ user: "someone-else" }, 10)).toEqual([]);
      await expectOozieError(
        await fetch(`${double.oozieUrl}/v2/jobs?filter=colour%3Dred`),
        400,
        "E0420",
        "E0420: Invalid jobs filter [colour=red], invalid name [colour]",
      );
      await expectOozieError(
        await fetch(`${double.oozieUrl}/v2/jobs?filter=status%3DBLUE`),
        400,
        "E0420",
        "E0420: Invalid jobs filter [status=BLUE], invalid status [BLUE]",
      );
    });
  });

  describe("WebHDFS", () => {
    const url = (path: string, query: string) => `${double.webhdfsUrl}/webhdfs/v1${path}?user.name=hadoop&${query}`;

    it("MKDIRS answers {boolean: true}; GETFILESTATUS and LISTSTATUS use the documented JSON", async () => {
      const made = await fetch(url("/user/hadoop/docs/a", "op=MKDIRS&permission=750"), { method: "PUT" });
      expect(made.status).toBe(200);
      expect(await made.json()).toEqual({ boolean: true });
      const status = (await (await fetch(url("/user/hadoop/docs/a", "op=GETFILESTATUS"))).json()) as {
        FileStatus: Record<string, unknown>;
      };
      expect(status.FileStatus).toMatchObject({ type: "DIRECTORY", owner: "hadoop", permission: "750", pathSuffix: "", length: 0 });
      const list = (await (await fetch(url("/user/hadoop/docs", "op=LISTSTATUS"))).json()) as {
        FileStatuses: { FileStatus: { pathSuffix: string }[] };
      };
      expect(list.FileStatuses.FileStatus.map((s) => s.pathSuffix)).toEqual(["a"]);
    });

    it("CREATE redirects (307, empty body) to a DataNode on another port, which answers 201 with the file's URI", async () => {
      const first = await fetch(url("/user/hadoop/docs/f.txt", "op=CREATE&overwrite=false"), { method: "PUT", redirect: "manual" });
      expect(first.status).toBe(307);
      expect(first.headers.get("content-length")).toBe("0");
      const location = new URL(first.headers.get("location") ?? "");
      expect(location.origin).toBe(double.datanodeUrl);
      expect(location.origin).not.toBe(double.webhdfsUrl);
      expect(location.searchParams.get("namenoderpcaddress")).toBeTruthy();
      expect(location.searchParams.get("user.name")).toBe("hadoop");
      const second = await fetch(location, { method: "PUT", body: "hello" });
      expect(second.status).toBe(201);
      expect(second.headers.get("location")).toBe(`${double.nameNode.replace("hdfs", "webhdfs")}/user/hadoop/docs/f.txt`);
      const open = await fetch(url("/user/hadoop/docs/f.txt", "op=OPEN"));
      expect(await open.text()).toBe("hello");
    });

    it("errors are RemoteException JSON with Hadoop's status codes", async () => {
      const expectRemote = async (response: Response, status: number, exception: string, message: string | RegExp) => {
        expect(response.status).toBe(status);
        const body = (await response.json()) as { RemoteException: { exception: string; javaClassName: string; message: string } };
        expect(body.RemoteException.exception).toBe(exception);
        expect(body.RemoteException.javaClassName).toContain(exception);
        if (typeof message === "string") expect(body.RemoteException.message).toBe(message);
        else expect(body.RemoteException.message).toMatch(message);
      };
      await expectRemote(await fetch(url("/nope", "op=GETFILESTATUS")), 404, "FileNotFoundException", "File does not exist: /nope");
      await expectRemote(
        await fetch(url("/x", "op=FROB"), { method: "PUT" }),
        400,
        "IllegalArgumentException",
        'Invalid value for webhdfs parameter "op": No enum constant org.apache.hadoop.hdfs.web.resources.PutOpParam.Op.FROB',
      );
      await expectRemote(
        await fetch(url("/user/hadoop/docs/b", "op=MKDIRS&permission=888"), { method: "PUT" }),
        400,
        "IllegalArgumentException",
        /"permission"/,
      );
      await expectRemote(
        await fetch(url("/user/hadoop/docs/f.txt", "op=CREATE&overwrite=maybe"), { method: "PUT", redirect: "manual" }),
        400,
        "IllegalArgumentException",
        'Invalid value for webhdfs parameter "overwrite": Failed to parse "maybe" to Boolean.',
      );
      await expectRemote(
        await fetch(`${double.datanodeUrl}/webhdfs/v1/user/hadoop/x?op=CREATE&user.name=hadoop`, { method: "PUT", body: "x" }),
        400,
        "IllegalArgumentException",
        "namenoderpcaddress is not specified.",
      );
      await expectRemote(
        await fetch(`${double.webhdfsUrl}/webhdfs/v1/user/new-dir?op=MKDIRS&user.name=hadoop`, { method: "PUT" }),
        403,
        "AccessControlException",
        'Permission denied: user=hadoop, access=WRITE, inode="/user":hdfs:supergroup:drwxr-xr-x',
      );
      await expectRemote(
        await fetch(url("/user/hadoop/docs", "op=DELETE"), { method: "DELETE" }),
        403,
        "PathIsNotEmptyDirectoryException",
        /is non empty/,
      );
    });
  });
});
