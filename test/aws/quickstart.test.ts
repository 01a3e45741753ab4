// biome-ignore-all lint/suspicious/noTemplateCurlyInString: shell parameter expansion (`${NAP:-0}`) in a job script, not a JavaScript template
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TokenService } from "@edp/core/auth/tokens";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../support/api.js";
import { MOTO, type MotoServer, startMoto } from "../support/moto.js";
import { type SshServer, sshLogin, startSshd } from "../support/sshd.js";
import { requireTools, TOOLS } from "../support/tools.js";
import { AwsStage } from "./aws-stage.js";

const tools = requireTools(MOTO, TOOLS.sshd, TOOLS.sshKeygen, TOOLS.setsid, TOOLS.ps);

describe.runIf(tools.run)("18.2 the README quickstart on the AWS adapters against moto, the job on a real sshd", () => {
  let moto: MotoServer;
  let stage: AwsStage;
  let sshd: SshServer;
  let token: string;
  const scratch = mkdtempSync(join(tmpdir(), "edp-aws-quickstart-"));

  beforeAll(async () => {
    tools.assertPresent();
    [moto, sshd] = await Promise.all([startMoto(), startSshd()]);
    stage = await AwsStage.create(moto);
    token = await new TokenService(stage.portsForTest().store).issue("team-a", "test");
  });

  afterAll(async () => {
    await stage?.close();
    await moto?.stop();
    await sshd?.dispose();
    rmSync(scratch, { recursive: true, force: true });
  });

  const post = async (path: string, body: unknown) => {
    const response = await stage.request("POST", path, { token, body });
    expect(response.status, response.text).toBe(202);
    return response.body;
  };
  const job = async (id: string, refresh = false) =>
    (await stage.request("GET", `/v2/jobs/${id}${refresh ? "?refresh_status=true" : ""}`, { token })).body.job;

  it("18.2 upload to S3, template, run, status, output, cancel", async () => {
    const cluster = await post("/v2/clusters", {
      name: "over-ssh",
      plugin_name: "spark",
      plugin_version: "3.5.0",
      connection: {
        ...sshLogin(sshd),
        working_dir_base: join(scratch, "work"),
      },
    });
    const script = 'echo "hello, $GREETING"; echo "args: $@"; sleep "${NAP:-0}"\n';
    const upload = await stage.request("PUT", "/v2/job-binary-internals/hello.sh", { token, raw: Buffer.from(script) });
    expect(upload.status, upload.text).toBe(202);
    const binary = await post("/v2/job-binaries", { name: "hello.sh", url: `internal-db://${upload.body.job_binary_internal.id}` });
    // The bytes went to moto's S3 and come back from it.
    const data = await stage.request("GET", `/v2/job-binaries/${binary.job_binary.id}/data`, { token });
    expect(data.status).toBe(200);
    expect(data.text).toBe(script);
    const template = await post("/v2/job-templates", { name: "hello", type: "Shell", mains: [binary.job_binary.id] });

    const created = await post("/v2/jobs", {
      cluster_id: cluster.cluster.id,
      job_template_id: template.job_template.id,
      job_configs: { params: { GREETING: "world" }, args: ["one", "two"] },
    });
    const id = created.job.id as string;
    expect(created.job.info.status).toBe("PENDING");
    // The create function invoked the run function asynchronously through Lambda's API (moto accepted it).
    expect(stage.harness.queued.map((q) => q.payload)).toContainEqual({ action: "launch", execution_id: id });
    await stage.harness.deliverInvocations();
    const done = await eventually(
      "the job to end",
      async () => {
        const current = await job(id, true);
        return ["SUCCEEDED", "KILLED", "DONEWITHERROR", "FAILED"].includes(current.info.status) && current;
      },
      30_000,
    );
    expect(done.info.status, JSON.stringify(done.info)).toBe("SUCCEEDED");
    const output = await stage.request("GET", `/v2/jobs/${id}/output?stream=stdout&tail=20`, { token });
    expect(output.body.output.text).toContain("hello, world");
    expect(output.body.output.text).toContain("args: one two");

    const long = await post("/v2/jobs", {
      cluster_id: cluster.cluster.id,
      job_template_id: template.job_template.id,
      job_configs: { params: { NAP: "600" } },
    });
    await stage.harness.deliverInvocations();
    await eventually("the long job to run", async () => (await job(long.job.id, true)).info.status === "RUNNING", 30_000);
    const cancelled = await stage.request("PATCH", `/v2/jobs/${long.job.id}`, { token, body: { info: { status: "cancel" } } });
    expect(cancelled.status, cancelled.text).toBe(202);
    expect(cancelled.body.job.info.status).toBe("TOBEKILLED");
    await stage.harness.deliverInvocations();
    const killed = await eventually(
      "the cancel to end the job",
      async () => {
        await stage.sweep();
        await stage.harness.deliverInvocations();
        const current = await job(long.job.id);
        return current.info.status === "KILLED" && current;
      },
      30_000,
    );
    expect(killed.end_time).toBeTruthy();
  }, 120_000);
});
