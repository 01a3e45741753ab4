import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EngineRegistration } from "@edp/core/engines/engine";
import { SparkEngine } from "@edp/core/engines/spark/engine";
import { sparkEngineRegistration } from "@edp/core/engines/spark/registration";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, startTestApi, type TestApi } from "../support/api.js";
import { type SshServer, sshLogin, startSshd } from "../support/sshd.js";
import { requireTools, TOOLS } from "../support/tools.js";

const tools = requireTools(TOOLS.sshd, TOOLS.sshKeygen, TOOLS.setsid, TOOLS.ps);

const SECRET = "tok-never-in-the-rendered-command-7c3d";
const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/**
 * Issue 16 on the real Spark engine over a real sshd: the rendered command a Shell job's snapshot
 * keeps (without its secrets), and re-runs that print the old and the new text.
 */
describe.runIf(tools.run)("16 run snapshots and re-runs on the Spark engine over a real sshd", () => {
  let sshd: SshServer;
  let api: TestApi;
  let token: string;
  let clusterId: string;
  const scratch = mkdtempSync(join(tmpdir(), "edp-snapshots-ssh-"));
  let real: SparkEngine | undefined;
  const registration: EngineRegistration = {
    ...sparkEngineRegistration,
    create: (deps) => {
      real = new SparkEngine({ settings: deps.settings, termGraceSeconds: 1 });
      return real;
    },
  };

  beforeAll(async () => {
    tools.assertPresent();
    sshd = await startSshd();
    api = await startTestApi({ registrations: [registration] });
    ({ token } = await api.newProject());
    clusterId = (
      await post("/v2/clusters", {
        name: "snapshots",
        plugin_name: "spark",
        plugin_version: "3.5.0",
        connection: {
          ...sshLogin(sshd),
          working_dir_base: join(scratch, "jobs"),
        },
      })
    ).cluster.id;
  }, 60_000);

  afterAll(async () => {
    await api?.close();
    await real?.close();
    await sshd?.dispose();
    rmSync(scratch, { recursive: true, force: true });
  });

  async function post(path: string, body: unknown) {
    const response = await api.request("POST", path, { token, body });
    if (response.status !== 202) throw new Error(`${path}: ${response.text}`);
    return response.body;
  }
  const get = async (id: string) => (await api.request("GET", `/v2/jobs/${id}`, { token })).body.job;
  const ended = (id: string) =>
    eventually(
      `job ${id} to end`,
      async () => {
        const job = (await api.request("GET", `/v2/jobs/${id}?refresh_status=true`, { token })).body.job;
        return ["SUCCEEDED", "FAILED", "KILLED", "DONEWITHERROR"].includes(job.info.status) && job;
      },
      30_000,
    );
  const output = async (id: string) => (await api.request("GET", `/v2/jobs/${id}/output`, { token })).body.output.text as string;

  it("16.2 16.3 a Shell job's snapshot keeps its rendered command without secrets; rerun exact prints the old text, current the new", async () => {
    const upload = await api.request("PUT", "/v2/job-binary-internals/hello.sh", { token, raw: 'echo "old-text $1"\n' });
    const internalId = upload.body.job_binary_internal.id as string;
    const binary = await post("/v2/job-binaries", { name: "hello.sh", url: `internal-db://${internalId}` });
    const templateId = (await post("/v2/job-templates", { name: "hello", type: "Shell", mains: [binary.job_binary.id] })).job_template.id;
    const created = await post("/v2/jobs", {
      cluster_id: clusterId,
      job_template_id: templateId,
      job_configs: { params: { API_TOKEN: SECRET, GREETING: "hi" }, args: ["arg-one"] },
    });
    const original = await ended(created.job.id);
    expect(original.info.status).toBe("SUCCEEDED");
    expect(await output(original.id)).toContain("old-text arg-one");
    const { snapshot } = original;
    expect(snapshot.code.mains[0]).toMatchObject({ name: "hello.sh", sha256: sha256('echo "old-text $1"\n'), commit: null });
    expect(snapshot.cluster).toMatchObject({ id: clusterId, plugin_name: "spark", plugin_version: "3.5.0" });
    // The shell command line, with the params as assignments: the credential-looking one scrubbed.
    expect(snapshot.rendered).toContain("GREETING=");
    expect(snapshot.rendered).toContain("API_TOKEN=");
    expect(snapshot.rendered).toContain("./hello.sh");
    expect(snapshot.rendered).toContain("arg-one");
    expect(snapshot.params).toEqual({ API_TOKEN: "", GREETING: "hi" });
    expect(JSON.stringify(snapshot)).not.toContain(SECRET);

    // The code changes under the binary, as a moved git ref or a re-upload does.
    await api.ports.binaries.put(`internal/${internalId}`, Buffer.from('echo "new-text $1"\n'));
    const exact = await post(`/v2/jobs/${original.id}/rerun`, { mode: "exact" });
    expect(exact.job.rerun_of).toBe(original.id);
    const exactRun = await ended(exact.job.id);
    expect(exactRun.info.status).toBe("SUCCEEDED");
    expect(await output(exactRun.id)).toContain("old-text arg-one");
    expect(exactRun.snapshot.code.mains[0].sha256).toBe(snapshot.code.mains[0].sha256);

    const current = await post(`/v2/jobs/${original.id}/rerun`, { mode: "current" });
    const currentRun = await ended(current.job.id);
    expect(currentRun.info.status).toBe("SUCCEEDED");
    expect(await output(currentRun.id)).toContain("new-text arg-one");
    expect(currentRun.rerun_of).toBe(original.id);

    const diff = (await api.request("GET", `/v2/jobs/${exactRun.id}/diff?other=${currentRun.id}`, { token })).body.diff;
    expect(diff.code[0]).toMatchObject({
      same: false,
      left: { sha256: sha256('echo "old-text $1"\n') },
      right: { sha256: sha256('echo "new-text $1"\n') },
    });
    expect(diff.changed).toContain("code");
    expect((await get(original.id)).snapshot.rendered).toBe(snapshot.rendered);
  }, 90_000);
});
