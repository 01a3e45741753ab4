import { CreateFunctionCommand, LambdaClient } from "@aws-sdk/client-lambda";
import type { AwsCredentialIdentity } from "@aws-sdk/types";
import { readSettings } from "@edp/core/config/settings";
import type { SweepReport } from "@edp/core/manager/job-manager";
import type { Cluster } from "@edp/core/model/cluster";
import { createAwsPorts } from "@edp/core/runtime/aws";
import { createCore } from "@edp/core/runtime/core";
import { handler as sweepHandler } from "@edp/functions/handlers/sweep";
import { useCore } from "@edp/functions/runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BOOTSTRAP_REQUESTS, bootstrapAdmin, createUserWithPolicy } from "../support/iam.js";
import { MOTO, type MotoServer, startMoto } from "../support/moto.js";
import { TestEngine, testEngineRegistration } from "../support/test-engine.js";
import { requireTools } from "../support/tools.js";
import { AwsStage } from "./aws-stage.js";
import { type Grant, grantsOfTheStack, motoPolicy } from "./grants.js";
import { lambdaContext } from "./lambda-harness.js";

const tools = requireTools(MOTO);

/**
 * Issue 17.3 on the AWS adapters, against moto with its IAM enforced: the coordinator, acting as a
 * principal that holds exactly the sweep function's grants (infra/permissions.ts, as the stack
 * makes them), hands each shard to the sweep function itself as an asynchronous Invoke; the Lambda
 * harness keeps each accepted payload as Lambda's event queue would, and delivers it to the real
 * sweep handler, which sweeps that shard. moto checks the action, not the resource, for Lambda: the
 * ARN scoping (the sweep may invoke itself and the run function, nothing else) is the infra test's.
 */
describe.runIf(tools.run)("17.3 the sweep's fan-out on the AWS adapters (moto, IAM enforced)", () => {
  let moto: MotoServer;
  let stage: AwsStage;
  let grants: Record<string, Grant[]>;
  let sweepArn: string;
  const principals: Record<string, AwsCredentialIdentity> = {};
  const engine = new TestEngine();
  const clusterIds: string[] = [];

  const coreAs = (credentials: AwsCredentialIdentity) => {
    const settings = readSettings({ ...stage.env, EDP_SWEEP_FUNCTION_ARN: sweepArn, EDP_SWEEP_SHARD_SIZE: "2" });
    return createCore(createAwsPorts(settings, { credentials, region: moto.region }), [testEngineRegistration(engine)], settings);
  };

  beforeAll(async () => {
    tools.assertPresent();
    grants = await grantsOfTheStack();
    moto = await startMoto({ enforceIamAfter: BOOTSTRAP_REQUESTS });
    const admin = await bootstrapAdmin(moto);
    stage = await AwsStage.create(moto, admin);
    const config = { endpoint: moto.endpoint, region: moto.region, credentials: admin };

    // The sweep function itself, as the stack names it (`<stage>-sweep`): moto keeps it, never runs it.
    const lambda = new LambdaClient(config);
    const created = await lambda.send(
      new CreateFunctionCommand({
        FunctionName: `${stage.settings.EDP_TABLE_NAME}-sweep`,
        Runtime: "nodejs24.x",
        Role: stage.settings.EDP_SCHEDULER_ROLE_ARN!,
        Handler: "sweep.handler",
        Code: { ZipFile: Buffer.from("UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==", "base64") },
      }),
    );
    lambda.destroy();
    sweepArn = created.FunctionArn!;

    // One principal with the sweep's grants; one with the same grants but Lambda's, to show the Invoke needs it.
    const withoutLambda = grants.sweep.filter((g) => !g.actions.includes("lambda:InvokeFunction"));
    for (const [name, policy] of [
      ["sweep", grants.sweep],
      ["sweep-without-invoke", withoutLambda],
    ] as const) {
      const user = `${stage.settings.EDP_TABLE_NAME}-${name}`;
      principals[name] = await createUserWithPolicy(moto, admin, user, name, motoPolicy(policy, stage.settings.EDP_BINARY_BUCKET!));
    }
    stage.harness.knowKeys(...Object.values(principals));

    // Five idle clusters, registered with the administrator's rights: three shards of at most two.
    const setup = coreAs(admin);
    for (let i = 0; i < 5; i++) {
      const cluster = await setup.clusters.create(
        { projectId: "team-a" },
        { name: `fanout-${i}`, plugin_name: "test", plugin_version: "2.0", connection: {} },
      );
      clusterIds.push(cluster.id);
    }
    stage.harness.queued.splice(0);
  }, 120_000);

  afterAll(async () => {
    await stage?.close();
    await moto?.stop();
  });

  const shardEvents = () =>
    stage.harness.queued.splice(0).filter((q) => q.functionName.endsWith("-sweep") && "edp_sweep_shard" in (q.payload as object));

  it("17.3 the coordinator invokes the sweep function once per shard with the sweep's own grants, and each worker sweeps its shard", async () => {
    const coordinator = await coreAs(principals.sweep).jobs.sweep();
    expect(stage.harness.refusals, JSON.stringify(stage.harness.refusals)).toEqual([]);
    expect(coordinator).toMatchObject({ shards: 3, clusters: 5, errors: 0, statusCalls: 0 });
    const events = shardEvents();
    expect(events).toHaveLength(3);
    const shards = events.map((e) => (e.payload as { edp_sweep_shard: { cluster_ids: string[]; of: number } }).edp_sweep_shard);
    expect(shards.flatMap((s) => s.cluster_ids).sort()).toEqual([...clusterIds].sort());
    expect(shards.every((s) => s.of === 3 && s.cluster_ids.length <= 2)).toBe(true);

    // Lambda delivers each event to the sweep handler: each is that shard's worker.
    const worker = coreAs(principals.sweep);
    useCore(worker);
    const reports: SweepReport[] = [];
    for (const event of events) reports.push((await sweepHandler(event.payload, lambdaContext("sweep"))) as SweepReport);
    expect(stage.harness.refusals, JSON.stringify(stage.harness.refusals)).toEqual([]);
    expect(reports.map((r) => r.clusters).reduce((a, b) => a + b, 0)).toBe(5);
    expect(reports.every((r) => r.errors === 0 && r.skipped === 0 && r.shards === 0)).toBe(true);
    // A worker invokes nothing further, and every cluster now has its load from this sweep.
    expect(shardEvents()).toEqual([]);
    for (const id of clusterIds) {
      const cluster = await worker.ports.store.get<Cluster & { version: number }>("cluster", id);
      expect(cluster?.load?.observed_at, id).toBeDefined();
    }
  });

  it("17.3 without lambda:InvokeFunction the coordinator's invocations are refused, and counted as errors", async () => {
    const report = await coreAs(principals["sweep-without-invoke"]).jobs.sweep();
    expect(report).toMatchObject({ shards: 3, errors: 3 });
    expect(shardEvents()).toEqual([]);
    expect(stage.harness.refusals.some((r) => r.path?.includes("-sweep"))).toBe(true);
    stage.harness.refusals.splice(0);
  });
});
