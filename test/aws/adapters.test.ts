import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { GetSecretValueCommand, ListSecretsCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { TokenService } from "@edp/core/auth/tokens";
import { deadlineScheduleName, launchScheduleName, seriesScheduleName } from "@edp/core/manager/schedule-names";
import { createDocumentClient } from "@edp/core/store/dynamo-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../support/api.js";
import { MOTO, type MotoServer, startMoto } from "../support/moto.js";
import { type SshServer, startSshd } from "../support/sshd.js";
import { requireTools, TOOLS } from "../support/tools.js";
import { AwsStage, MOTO_CREDENTIALS, registerShellJob } from "./aws-stage.js";

const tools = requireTools(MOTO, TOOLS.sshd, TOOLS.sshKeygen, TOOLS.setsid, TOOLS.ps);
const run = promisify(execFile);

describe.runIf(tools.run)("18.2 the AWS adapters against moto: secrets, schedules, series, create-token", () => {
  let moto: MotoServer;
  let stage: AwsStage;
  let sshd: SshServer;
  let token: string;
  let job: { clusterId: string; templateId: string };
  const scratch = mkdtempSync(join(tmpdir(), "edp-aws-adapters-"));

  beforeAll(async () => {
    tools.assertPresent();
    [moto, sshd] = await Promise.all([startMoto(), startSshd()]);
    stage = await AwsStage.create(moto);
    token = await new TokenService(stage.portsForTest().store).issue("team-a", "test");
    job = await registerShellJob(stage, token, sshd, join(scratch, "work"), 'echo "hello, $GREETING"; sleep "$NAP"\n');
  });

  afterAll(async () => {
    await stage?.close();
    await moto?.stop();
    await sshd?.dispose();
    rmSync(scratch, { recursive: true, force: true });
  });

  const admin = () => new SecretsManagerClient({ endpoint: moto.endpoint, region: moto.region, credentials: MOTO_CREDENTIALS });
  const getJob = async (id: string, refresh = false) =>
    (await stage.request("GET", `/v2/jobs/${id}${refresh ? "?refresh_status=true" : ""}`, { token })).body.job;
  const inSeconds = (seconds: number) => new Date(Date.now() + seconds * 1000).toISOString().slice(0, 19);
  const postJob = async (body: Record<string, unknown>) => {
    const response = await stage.request("POST", "/v2/jobs", {
      token,
      body: { cluster_id: job.clusterId, job_template_id: job.templateId, ...body },
    });
    expect(response.status, response.text).toBe(202);
    return response.body.job;
  };

  it("18.2 a cluster's private key lives in Secrets Manager alone, is used to reach the cluster, and goes with the cluster", async () => {
    const secrets = admin();
    const listed = await secrets.send(new ListSecretsCommand({ Filters: [{ Key: "name", Values: [stage.settings.EDP_SECRET_PREFIX] }] }));
    const names = (listed.SecretList ?? []).map((s) => s.Name);
    expect(names.length).toBeGreaterThan(0);
    const values = await Promise.all(names.map((name) => secrets.send(new GetSecretValueCommand({ SecretId: name }))));
    expect(values.some((v) => v.SecretString?.includes(sshd.privateKey.trim().split("\n")[1]))).toBe(true);
    // The table holds no trace of the key: only the secret's id.
    const documents = createDocumentClient(undefined, { endpoint: moto.endpoint, region: moto.region, credentials: MOTO_CREDENTIALS });
    const items = await documents.scan({ TableName: stage.settings.EDP_TABLE_NAME });
    expect(JSON.stringify(items.Items)).not.toContain("PRIVATE KEY");
    documents.destroy();
    // The API never gives it back.
    const cluster = await stage.request("GET", `/v2/clusters/${job.clusterId}`, { token });
    expect(cluster.text).not.toContain("PRIVATE KEY");

    // A second cluster with its own key: deleting it deletes its secret in Secrets Manager.
    const second = await stage.request("POST", "/v2/clusters", {
      token,
      body: {
        name: "second",
        plugin_name: "spark",
        plugin_version: "3.5.0",
        connection: { host: sshd.host, port: sshd.port, user: sshd.user, private_key: sshd.privateKey, host_key: sshd.hostKey },
      },
    });
    expect(second.status, second.text).toBe(202);
    const before = await secrets.send(new ListSecretsCommand({ Filters: [{ Key: "name", Values: [stage.settings.EDP_SECRET_PREFIX] }] }));
    expect((await stage.request("DELETE", `/v2/clusters/${second.body.cluster.id}`, { token })).status).toBe(204);
    const after = await secrets.send(new ListSecretsCommand({ Filters: [{ Key: "name", Values: [stage.settings.EDP_SECRET_PREFIX] }] }));
    expect(after.SecretList?.length).toBe((before.SecretList?.length ?? 0) - 1);
    secrets.destroy();
  });

  it("18.2 a scheduled start is a real at() schedule in the group, delivered by the harness when due, deleted after it fires", async () => {
    const start = inSeconds(3);
    const created = await postJob({
      job_execution_info: { job_execution_type: "scheduled", start },
      job_configs: { params: { GREETING: "later", NAP: "0" } },
    });
    // Nothing launches it now: its launch is the schedule's (the queue may hold the clusters' health checks).
    expect(stage.harness.queued.map((q) => q.payload)).not.toContainEqual({ action: "launch", execution_id: created.id });
    const [schedule] = (await stage.harness.schedules()).filter((s) => s.Name === launchScheduleName(created.id));
    expect(schedule).toMatchObject({
      GroupName: stage.settings.EDP_SCHEDULE_GROUP,
      ScheduleExpression: `at(${start})`,
      ScheduleExpressionTimezone: "UTC",
      ActionAfterCompletion: "DELETE",
      FlexibleTimeWindow: { Mode: "OFF" },
      State: "ENABLED",
      Target: {
        Arn: stage.settings.EDP_RUN_FUNCTION_ARN,
        RoleArn: stage.settings.EDP_SCHEDULER_ROLE_ARN,
        RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 },
      },
    });
    expect(JSON.parse(schedule.Target!.Input!)).toEqual({ action: "launch", execution_id: created.id });
    // Not due yet: nothing is delivered.
    expect(await stage.harness.deliverDueSchedules()).toEqual([]);
    expect((await getJob(created.id)).info.status).toBe("PENDING");
    const delivered = await eventually(
      "the schedule to be due",
      async () => {
        const due = await stage.harness.deliverDueSchedules();
        return due.length > 0 && due;
      },
      15_000,
    );
    expect(delivered.map((d) => d.name)).toEqual([launchScheduleName(created.id)]);
    expect((await stage.harness.schedules()).map((s) => s.Name)).not.toContain(launchScheduleName(created.id));
    const done = await eventually(
      "the scheduled job to end",
      async () => {
        const current = await getJob(created.id, true);
        return ["SUCCEEDED", "KILLED", "DONEWITHERROR", "FAILED"].includes(current.info.status) && current;
      },
      30_000,
    );
    expect(done.info.status).toBe("SUCCEEDED");
  }, 60_000);

  it("18.2 edp.timeout is a real at() deadline schedule; delivered, it cancels the job", async () => {
    const created = await postJob({ job_configs: { configs: { "edp.timeout": 2 }, params: { GREETING: "slow", NAP: "600" } } });
    await stage.harness.deliverInvocations();
    await eventually("the job to run", async () => (await getJob(created.id, true)).info.status === "RUNNING", 30_000);
    const [deadline] = (await stage.harness.schedules()).filter((s) => s.Name === deadlineScheduleName(created.id));
    expect(deadline).toMatchObject({
      GroupName: stage.settings.EDP_SCHEDULE_GROUP,
      ScheduleExpression: expect.stringMatching(/^at\(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\)$/),
      ActionAfterCompletion: "DELETE",
      FlexibleTimeWindow: { Mode: "OFF" },
    });
    expect(JSON.parse(deadline.Target!.Input!)).toEqual({ action: "deadline", execution_id: created.id });
    await eventually("the deadline to be due", async () => (await stage.harness.deliverDueSchedules()).length > 0, 15_000);
    const ended = await eventually(
      "the deadline to end the job",
      async () => {
        await stage.harness.deliverInvocations();
        await stage.sweep();
        const current = await getJob(created.id);
        return current.info.status === "KILLED" && current;
      },
      30_000,
    );
    expect(ended.info.reason).toMatch(/edp.timeout/);
  }, 60_000);

  it("18.2 a recurring series is a real rate() schedule; its firing runs the series' job once however often delivered; deleting the series deletes the schedule", async () => {
    const start = inSeconds(2);
    const first = await postJob({
      job_execution_info: { job_execution_type: "scheduled", start, interval: "rate(5 minutes)" },
      job_configs: { params: { GREETING: "again", NAP: "0" } },
    });
    const seriesId = first.series_id as string;
    expect(seriesId).toEqual(expect.any(String));
    const name = seriesScheduleName(seriesId);
    const [schedule] = (await stage.harness.schedules()).filter((s) => s.Name === name);
    expect(schedule).toMatchObject({
      GroupName: stage.settings.EDP_SCHEDULE_GROUP,
      ScheduleExpression: "rate(5 minutes)",
      ScheduleExpressionTimezone: "UTC",
      ActionAfterCompletion: "NONE",
      FlexibleTimeWindow: { Mode: "OFF" },
      State: "ENABLED",
      Target: { Arn: stage.settings.EDP_RUN_FUNCTION_ARN, RoleArn: stage.settings.EDP_SCHEDULER_ROLE_ARN },
    });
    expect(schedule.StartDate?.toISOString().slice(0, 19)).toBe(start);
    expect(JSON.parse(schedule.Target!.Input!)).toEqual({ action: "series", series_id: seriesId });
    const runsOf = async () =>
      (await stage.request("GET", "/v2/jobs", { token })).body.jobs.filter((j: { series_id?: string }) => j.series_id === seriesId);
    expect((await getJob(first.id)).info.status).toBe("PENDING");

    // EventBridge fires the series at its start: the harness delivers that occurrence, twice (at least once).
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, new Date(`${start}Z`).getTime() - Date.now() + 200)));
    await stage.harness.fireSchedule(name);
    await stage.harness.fireSchedule(name);
    await stage.harness.deliverInvocations();
    const done = await eventually(
      "the series' first run to end",
      async () => {
        const current = await getJob(first.id, true);
        return ["SUCCEEDED", "KILLED", "DONEWITHERROR", "FAILED"].includes(current.info.status) && current;
      },
      30_000,
    );
    expect(done.info.status).toBe("SUCCEEDED");
    expect((await runsOf()).map((j: { id: string }) => j.id)).toEqual([first.id]);

    const deleted = await stage.request("DELETE", `/v2/job-series/${seriesId}`, { token });
    expect(deleted.status, deleted.text).toBe(204);
    expect((await stage.harness.schedules()).map((s) => s.Name)).not.toContain(name);
    expect((await stage.request("GET", `/v2/job-series/${seriesId}`, { token })).status).toBe(404);
  }, 60_000);

  it("18.2 the adapters' edge cases against moto: missing things, repeated schedules, a time already past", async () => {
    const { secrets, binaries, scheduler } = stage.portsForTest();
    // Secrets Manager: a missing secret reads as undefined, deleting it again is no error.
    const id = await secrets.put({ password: "p" });
    expect(await secrets.get(id)).toEqual({ password: "p" });
    await secrets.replace(id, { password: "q" });
    expect(await secrets.get(id)).toEqual({ password: "q" });
    await secrets.delete(id);
    expect(await secrets.get(id)).toBeUndefined();
    await secrets.delete(id);
    // S3: a missing key reads as undefined (NoSuchKey, not an error); deleting it again succeeds.
    await binaries.put("internal/edge", Buffer.from("bytes"));
    expect((await binaries.get("internal/edge"))?.toString()).toBe("bytes");
    // A HEAD says whether a key holds bytes (issue 16.2 writes content-addressed code only if absent).
    expect(await binaries.has("internal/edge")).toBe(true);
    await binaries.delete("internal/edge");
    expect(await binaries.get("internal/edge")).toBeUndefined();
    expect(await binaries.has("internal/edge")).toBe(false);
    await binaries.delete("internal/edge");
    // Scheduler: the same name twice is one schedule (ConflictException is success); cancelling twice is no error.
    const action = { action: "launch", execution_id: "00000000-0000-4000-8000-000000000000" } as const;
    await scheduler.runAt("edp-edge-case", new Date(Date.now() + 3_600_000), action);
    await scheduler.runAt("edp-edge-case", new Date(Date.now() + 3_600_000), action);
    expect((await stage.harness.schedules()).filter((s) => s.Name === "edp-edge-case")).toHaveLength(1);
    await scheduler.cancel("edp-edge-case");
    await scheduler.cancel("edp-edge-case");
    expect((await stage.harness.schedules()).map((s) => s.Name)).not.toContain("edp-edge-case");
    // A time already past is run at once (an asynchronous Invoke), never a schedule that would not fire.
    await scheduler.runAt("edp-edge-past", new Date(Date.now() - 1000), action);
    expect((await stage.harness.schedules()).map((s) => s.Name)).not.toContain("edp-edge-past");
    expect(stage.harness.queued.splice(0).map((q) => q.payload)).toEqual([action]);
    // A recurring schedule with an end completes, so it is deleted after it; the end date is EventBridge's EndDate.
    const end = new Date(Date.now() + 86_400_000);
    await scheduler.runRecurring(
      "edp-edge-series",
      { expression: "rate(1 hour)", start: new Date(Date.now() + 60_000), end },
      { action: "series", series_id: action.execution_id },
    );
    const [series] = (await stage.harness.schedules()).filter((s) => s.Name === "edp-edge-series");
    expect(series).toMatchObject({ ActionAfterCompletion: "DELETE", ScheduleExpression: "rate(1 hour)" });
    expect(Math.abs((series.EndDate?.getTime() ?? 0) - end.getTime())).toBeLessThan(1000);
    await scheduler.cancel("edp-edge-series");
  });

  it("18.2 scripts/create-token.ts issues a token into the table on moto's DynamoDB that the API accepts", async () => {
    const { stdout } = await run(
      process.execPath,
      ["--import", "tsx", "scripts/create-token.ts", "--project", "team-b", "--table", stage.settings.EDP_TABLE_NAME],
      {
        // The usual AWS chain, pointed at the emulator only: fixed test credentials and an endpoint override.
        env: {
          PATH: process.env.PATH ?? "",
          AWS_REGION: moto.region,
          AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
          AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
          AWS_ENDPOINT_URL: moto.endpoint,
          AWS_EC2_METADATA_DISABLED: "true",
        },
        timeout: 60_000,
      },
    );
    const issued = stdout.trim();
    expect(issued).toMatch(/^edp_/);
    const clusters = await stage.request("GET", "/v2/clusters", { token: issued });
    expect(clusters.status, clusters.text).toBe(200);
    expect(clusters.body.clusters).toEqual([]);
    expect((await stage.request("GET", "/v2/clusters", { token: `${issued}x` })).status).toBe(401);
  });
});
