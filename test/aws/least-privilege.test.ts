import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { GetScheduleCommand, SchedulerClient } from "@aws-sdk/client-scheduler";
import type { AwsCredentialIdentity } from "@aws-sdk/types";
import { TokenService } from "@edp/core/auth/tokens";
import { launchScheduleName } from "@edp/core/manager/schedule-names";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../support/api.js";
import { BOOTSTRAP_REQUESTS, bootstrapAdmin, createUserWithPolicy } from "../support/iam.js";
import { MOTO, type MotoServer, startMoto } from "../support/moto.js";
import { type SshServer, startSshd } from "../support/sshd.js";
import { requireTools, TOOLS } from "../support/tools.js";
import { type ApiAnswer, AwsStage, type FunctionKey, registerShellJob } from "./aws-stage.js";
import { type Grant, grantsOfTheStack, motoPolicy } from "./grants.js";

const tools = requireTools(MOTO, TOOLS.sshd, TOOLS.sshKeygen, TOOLS.setsid, TOOLS.ps);
const FUNCTIONS: FunctionKey[] = ["create", "status", "cancel", "run", "sweep"];
const ENDED = ["SUCCEEDED", "KILLED", "DONEWITHERROR", "FAILED"];

/** The HTTP status of a refused AWS request (moto answers JSON-protocol services' AccessDenied in XML, which the SDK cannot parse). */
async function statusOfFailure(promise: Promise<unknown>): Promise<number | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    const e = error as { $metadata?: { httpStatusCode?: number }; $response?: { statusCode?: number } };
    return e.$metadata?.httpStatusCode ?? e.$response?.statusCode ?? -1;
  }
}

/**
 * Least privilege, enforced by moto's IAM (INITIAL_NO_AUTH_ACTION_COUNT): one IAM user per function
 * with exactly the actions infra/permissions.ts grants it, every function's code paths run with
 * that user's keys, and actions outside a grant refused.
 *
 * What moto checks, and what it does not (so this test does not claim it):
 * - the action, for every service EDP calls (DynamoDB, S3, Secrets Manager, EventBridge Scheduler,
 *   Lambda Invoke);
 * - the resource for S3 only; for the others moto authorizes against `*`, so the ARN scoping of
 *   those statements is checked only by test/infra/infra.test.ts;
 * - not `iam:PassRole` on CreateSchedule, nor the `iam:PassedToService` condition: moto never asks
 *   for PassRole, so that grant is listed in the policy but not exercised;
 * - not the scheduler role's own permission to invoke the run function: the harness delivers schedules.
 */
describe.runIf(tools.run)("18.3 least privilege, enforced by moto's IAM", () => {
  let moto: MotoServer;
  let stage: AwsStage;
  let sshd: SshServer;
  let token: string;
  let grants: Record<FunctionKey, Grant[]>;
  const principals = {} as Record<FunctionKey, AwsCredentialIdentity>;
  const scratch = mkdtempSync(join(tmpdir(), "edp-aws-iam-"));

  beforeAll(async () => {
    tools.assertPresent();
    grants = await grantsOfTheStack();
    // Only the administrator's requests go unchecked; the administrator makes everything else.
    [moto, sshd] = await Promise.all([startMoto({ enforceIamAfter: BOOTSTRAP_REQUESTS }), startSshd()]);
    const admin = await bootstrapAdmin(moto);
    stage = await AwsStage.create(moto, admin);
    for (const fn of FUNCTIONS) {
      const user = `${stage.settings.EDP_TABLE_NAME}-${fn}`;
      principals[fn] = await createUserWithPolicy(moto, admin, user, fn, motoPolicy(grants[fn], stage.settings.EDP_BINARY_BUCKET!));
    }
    stage.harness.knowKeys(...Object.values(principals));
    // The operator's token, issued with admin rights as scripts/create-token.ts would be.
    token = await new TokenService(stage.portsForTest().store).issue("team-a", "test");
    stage.actAs((fn) => principals[fn]);
  });

  afterAll(async () => {
    await stage?.close();
    await moto?.stop();
    await sshd?.dispose();
    rmSync(scratch, { recursive: true, force: true });
  });

  const getJob = async (id: string, refresh = false) => {
    const response = await stage.request("GET", `/v2/jobs/${id}${refresh ? "?refresh_status=true" : ""}`, { token });
    expect(response.status, response.text).toBe(200);
    return response.body.job;
  };
  const ok = (response: ApiAnswer, status: number): ApiAnswer => {
    expect(response.status, `${response.text} ${JSON.stringify(stage.harness.refusals)}`).toBe(status);
    return response;
  };
  const inSeconds = (seconds: number) => new Date(Date.now() + seconds * 1000).toISOString().slice(0, 19);

  it("18.3 the policies are the stack's grants, one principal per function", () => {
    for (const fn of FUNCTIONS) {
      const policy = JSON.parse(motoPolicy(grants[fn], "b")) as { Statement: { Action: string[] }[] };
      const actions = policy.Statement.flatMap((s) => s.Action).filter((a) => a !== "lambda:Invoke");
      expect(actions.sort()).toEqual(grants[fn].flatMap((g) => g.actions).sort());
    }
    expect(new Set(FUNCTIONS.map((fn) => principals[fn].accessKeyId)).size).toBe(FUNCTIONS.length);
  });

  it("18.3 every function's code paths succeed with only its own grant", async () => {
    // create: a cluster (its key to Secrets Manager), uploaded code (S3), binaries, a template.
    const job = await registerShellJob(stage, token, sshd, join(scratch, "work"), 'echo "hi $GREETING"; sleep "$NAP"\n');
    // create: a cluster's key replaced (GetSecretValue, PutSecretValue); a cluster removed (DeleteSecret).
    ok(
      await stage.request("PATCH", `/v2/clusters/${job.clusterId}`, { token, body: { connection: { private_key: sshd.privateKey } } }),
      202,
    );
    const spare = ok(
      await stage.request("POST", "/v2/clusters", {
        token,
        body: {
          name: "spare",
          plugin_name: "spark",
          plugin_version: "3.5.0",
          connection: { host: sshd.host, port: sshd.port, user: sshd.user, private_key: sshd.privateKey, host_key: sshd.hostKey },
        },
      }),
      202,
    );
    ok(await stage.request("DELETE", `/v2/clusters/${spare.body.cluster.id}`, { token }), 204);
    // create: uploaded code removed (DeleteObject); status: binary data read back (GetObject, ListBucket).
    const extra = ok(await stage.request("PUT", "/v2/job-binary-internals/extra.sh", { token, raw: Buffer.from("true\n") }), 202);
    ok(await stage.request("GET", `/v2/job-binary-internals/${extra.body.job_binary_internal.id}`, { token }), 200);
    ok(await stage.request("DELETE", `/v2/job-binary-internals/${extra.body.job_binary_internal.id}`, { token }), 204);
    const binaries = ok(await stage.request("GET", "/v2/job-binaries", { token }), 200);
    ok(await stage.request("GET", `/v2/job-binaries/${binaries.body.binaries[0].id}/data`, { token }), 200);

    // create → run (Invoke), run: launch (GetObject, GetSecretValue, a deadline's CreateSchedule); status: refresh, output.
    const quick = ok(
      await stage.request("POST", "/v2/jobs", {
        token,
        body: {
          cluster_id: job.clusterId,
          job_template_id: job.templateId,
          job_configs: { params: { GREETING: "x", NAP: "0" }, configs: { "edp.timeout": 600 } },
        },
      }),
      202,
    ).body.job;
    expect(stage.harness.queued.map((q) => q.payload)).toContainEqual({ action: "launch", execution_id: quick.id });
    await stage.harness.deliverInvocations();
    const done = await eventually(
      "the job to end",
      async () => {
        const current = await getJob(quick.id, true);
        return ENDED.includes(current.info.status) && current;
      },
      30_000,
    );
    expect(done.info.status, JSON.stringify(done.info)).toBe("SUCCEEDED");
    expect(ok(await stage.request("GET", `/v2/jobs/${quick.id}/output?stream=stdout`, { token }), 200).body.output.text).toContain("hi x");

    // run: a deadline (edp.timeout) cancels the job (Invoke for the signal); cancel/sweep finish it.
    const slow = ok(
      await stage.request("POST", "/v2/jobs", {
        token,
        body: {
          cluster_id: job.clusterId,
          job_template_id: job.templateId,
          job_configs: { params: { GREETING: "y", NAP: "600" }, configs: { "edp.timeout": 2 } },
        },
      }),
      202,
    ).body.job;
    await stage.harness.deliverInvocations();
    await eventually("the slow job to run", async () => (await getJob(slow.id, true)).info.status === "RUNNING", 30_000);
    await eventually("its deadline to be due", async () => (await stage.harness.deliverDueSchedules()).length > 0, 15_000);
    const timedOut = await eventually(
      "the deadline to end it",
      async () => {
        await stage.harness.deliverInvocations();
        await stage.sweep();
        const current = await getJob(slow.id);
        return current.info.status === "KILLED" && current;
      },
      30_000,
    );
    expect(timedOut.info.reason).toMatch(/edp.timeout/);

    // cancel: a running job cancelled (Invoke), then deleted.
    const long = ok(
      await stage.request("POST", "/v2/jobs", {
        token,
        body: { cluster_id: job.clusterId, job_template_id: job.templateId, job_configs: { params: { GREETING: "z", NAP: "600" } } },
      }),
      202,
    ).body.job;
    await stage.harness.deliverInvocations();
    await eventually("the long job to run", async () => (await getJob(long.id, true)).info.status === "RUNNING", 30_000);
    expect(
      ok(await stage.request("PATCH", `/v2/jobs/${long.id}`, { token, body: { info: { status: "cancel" } } }), 202).body.job.info.status,
    ).toBe("TOBEKILLED");
    await eventually(
      "the cancel to end it",
      async () => {
        await stage.harness.deliverInvocations();
        await stage.sweep();
        return (await getJob(long.id)).info.status === "KILLED";
      },
      30_000,
    );
    ok(await stage.request("DELETE", `/v2/jobs/${long.id}`, { token }), 204);

    // create: a scheduled start (CreateSchedule); cancel: cancelling it deletes the schedule (DeleteSchedule).
    const later = ok(
      await stage.request("POST", "/v2/jobs", {
        token,
        body: {
          cluster_id: job.clusterId,
          job_template_id: job.templateId,
          job_execution_info: { job_execution_type: "scheduled", start: inSeconds(600) },
        },
      }),
      202,
    ).body.job;
    expect((await stage.harness.schedules()).map((s) => s.Name)).toContain(launchScheduleName(later.id));
    ok(await stage.request("PATCH", `/v2/jobs/${later.id}`, { token, body: { info: { status: "cancel" } } }), 202);
    await stage.harness.deliverInvocations();
    expect((await stage.harness.schedules()).map((s) => s.Name)).not.toContain(launchScheduleName(later.id));

    // create: a series (CreateSchedule); run: its firing; cancel: deleting it (DeleteSchedule).
    const start = inSeconds(2);
    const first = ok(
      await stage.request("POST", "/v2/jobs", {
        token,
        body: {
          cluster_id: job.clusterId,
          job_template_id: job.templateId,
          job_configs: { params: { GREETING: "s", NAP: "0" } },
          job_execution_info: { job_execution_type: "scheduled", start, interval: "rate(5 minutes)" },
        },
      }),
      202,
    ).body.job;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, new Date(`${start}Z`).getTime() - Date.now() + 200)));
    await stage.harness.fireSchedule(`edp-series-${first.series_id}`);
    const fired = await eventually(
      "the series run to end",
      async () => {
        const current = await getJob(first.id, true);
        return ENDED.includes(current.info.status) && current;
      },
      30_000,
    );
    expect(fired.info.status).toBe("SUCCEEDED");
    ok(await stage.request("DELETE", `/v2/job-series/${first.series_id}`, { token }), 204);

    // status, run, sweep: a missing object reads as missing with their grant (GetObject and ListBucket).
    for (const fn of ["status", "run", "sweep"] as const)
      expect(await stage.portsForTest(fn).binaries.get("internal/missing"), fn).toBeUndefined();

    // sweep: the scheduled sweep over what is left.
    await stage.sweep();
    ok(await stage.request("GET", "/v2/jobs", { token }), 200);
    // No request of any path was refused on the way (a refused one could hide behind a retry or a re-drive).
    expect(stage.harness.refusals).toEqual([]);
  }, 180_000);

  it("18.3 an action outside a function's grant is refused", async () => {
    const { settings } = stage;
    // Refused for that action, not for a bad signature: moto's answer names the principal's missing action.
    const refused = async (action: string, attempt: Promise<unknown>) => {
      const before = stage.harness.refusals.length;
      expect(await statusOfFailure(attempt), action).toBe(403);
      const body = stage.harness.refusals
        .slice(before)
        .map((r) => r.body)
        .join("\n");
      expect(body, action).toMatch(/AccessDenied/);
      if (!action.startsWith("s3:")) expect(body, action).toContain(action);
    };
    // status may read secrets but not create them.
    await refused("secretsmanager:CreateSecret", stage.portsForTest("status").secrets.put({ password: "p" }));
    // create may put uploaded code but not read it back (only status, run and sweep read binaries).
    await refused("s3:GetObject", stage.portsForTest("create").binaries.get("internal/nothing"));
    // status may not schedule anything, nor delete a schedule.
    await refused("scheduler:DeleteSchedule", stage.portsForTest("status").scheduler.cancel("edp-launch-x"));
    // status may read secrets but not delete them (only create, cancel, run and sweep remove them).
    await refused("secretsmanager:DeleteSecret", stage.portsForTest("status").secrets.delete("nothing-here"));
    // No function may read schedules back.
    const scheduler = new SchedulerClient({ endpoint: stage.harness.endpoint, region: moto.region, credentials: principals.run });
    await refused("scheduler:GetSchedule", scheduler.send(new GetScheduleCommand({ Name: "x", GroupName: settings.EDP_SCHEDULE_GROUP })));
    scheduler.destroy();
    // S3 is scoped by resource too: create's PutObject reaches only the stage's bucket.
    const s3 = new S3Client({
      endpoint: stage.harness.endpoint,
      region: moto.region,
      credentials: principals.create,
      forcePathStyle: true,
    });
    await refused("s3:PutObject", s3.send(new PutObjectCommand({ Bucket: "some-other-bucket", Key: "k", Body: "x" })));
    expect(
      await statusOfFailure(s3.send(new PutObjectCommand({ Bucket: settings.EDP_BINARY_BUCKET, Key: "internal/ok", Body: "x" }))),
    ).toBeUndefined();
    s3.destroy();
  });
});
