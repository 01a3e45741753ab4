import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { readSettings } from "@edp/core/config/settings";
import type { SweepWorkers } from "@edp/core/manager/sweep-shards";
import { createAwsPorts } from "@edp/core/runtime/aws";
import { AWS_PORT_ACTIONS, iamActionOf } from "@edp/core/runtime/aws-actions";
import type { LazyPort } from "@edp/core/runtime/lazy-port";
import { TTL_ATTRIBUTE, tableDefinition } from "@edp/core/store/table";
import { operations } from "@edp/functions/api/index";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { ROUTES } from "../../infra/routes.js";
import { createRecorder, nameOf, type Recorded, text } from "./sst-recorder.js";

/**
 * Runs the real sst.config.ts (app() and run()) with SST's globals replaced by recorders
 * (./sst-recorder.ts) and checks what it would deploy: no `.sst`, no Pulumi, no AWS.
 */

interface SstConfig {
  app(input: { stage: string }): { name: string; home: string; removal: string; protect: boolean; version?: string };
  run(): Promise<Record<string, unknown>>;
}

interface Statement {
  actions: string[];
  resources: unknown[];
  effect?: string;
  conditions?: { test: string; variable: string; values: unknown[] }[];
}

interface FunctionArgs {
  name?: string;
  handler: string;
  runtime: string;
  nodejs: { esbuild: { external: string[] } };
  environment: Record<string, unknown>;
  permissions: Statement[];
  link?: unknown[];
}

async function synthesize(stage: string) {
  const recorder = createRecorder({ name: "edp", stage });
  recorder.install();
  try {
    vi.resetModules();
    // A computed specifier: tsc must not follow it into files that need SST's platform types.
    const config = (await import(/* @vite-ignore */ pathToFileURL(resolve("sst.config.ts")).href)).default as SstConfig;
    const app = config.app({ stage });
    const outputs = await config.run();
    return { recorder, app, outputs };
  } finally {
    recorder.uninstall();
  }
}

type Synthesized = Awaited<ReturnType<typeof synthesize>>;

function functionsOf(stack: Synthesized) {
  return stack.recorder
    .constructs("sst.aws.Function")
    .map((r) => ({ id: String(r.args[0]), ref: r.result, args: r.args[1] as FunctionArgs }));
}

function groupOf(handler: string): string {
  return /^functions\/src\/handlers\/(\w+)\.handler$/.exec(handler)?.[1] ?? `<not a handler path: ${handler}>`;
}

function functionByGroup(stack: Synthesized, group: string) {
  const found = functionsOf(stack).filter((fn) => groupOf(fn.args.handler) === group);
  expect(found, `exactly one function for ${group}`).toHaveLength(1);
  return found[0];
}

/** Plain data from recorded arguments: recorded values become their names. */
function plain(value: unknown): unknown {
  if (nameOf(value) !== undefined) return text(value);
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

/** The statements of an `aws.iam.getPolicyDocumentOutput(...)` whose `.json` was passed on. */
function policyStatements(stack: Synthesized, json: unknown): Statement[] {
  const origin = stack.recorder.origin(json) as Recorded;
  expect(origin?.target).toBe("aws.iam.getPolicyDocumentOutput");
  return (origin.args[0] as { statements: Statement[] }).statements;
}

/** The IAM actions each function must have: what its code paths call through the ports (infra/permissions.ts). */
const STORE = ["dynamodb:BatchGetItem", "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"];
const EXPECTED_ACTIONS: Record<string, string[]> = {
  create: [
    ...STORE,
    "iam:PassRole",
    "lambda:InvokeFunction",
    "s3:DeleteObject",
    "s3:PutObject",
    "scheduler:CreateSchedule",
    "secretsmanager:CreateSecret",
    "secretsmanager:DeleteSecret",
    "secretsmanager:GetSecretValue",
    "secretsmanager:PutSecretValue",
  ],
  // Issue 12: a completion callback hands its check to the run function, now or at its window's end.
  status: [
    ...STORE,
    "iam:PassRole",
    "lambda:InvokeFunction",
    "s3:GetObject",
    "s3:ListBucket",
    "scheduler:CreateSchedule",
    "secretsmanager:GetSecretValue",
  ],
  // Issue 11.2: removing a job deletes its credential configs' secret.
  cancel: [...STORE, "lambda:InvokeFunction", "scheduler:DeleteSchedule", "secretsmanager:DeleteSecret", "secretsmanager:GetSecretValue"],
  run: [
    ...STORE,
    "iam:PassRole",
    "lambda:InvokeFunction",
    "s3:GetObject",
    "s3:ListBucket",
    // Issue 16.2: a launch keeps its code once per hash (cas/<sha256>).
    "s3:PutObject",
    "scheduler:CreateSchedule",
    "scheduler:DeleteSchedule",
    // Issue 11.2: a series run keeps its credential configs in the secret store.
    "secretsmanager:CreateSecret",
    "secretsmanager:DeleteSecret",
    "secretsmanager:GetSecretValue",
  ],
  sweep: [
    ...STORE,
    "iam:PassRole",
    "lambda:InvokeFunction",
    // Issue 16.2: a re-driven launch keeps its code; the retention pass deletes expired code.
    "s3:DeleteObject",
    "s3:GetObject",
    "s3:ListBucket",
    "s3:PutObject",
    "scheduler:CreateSchedule",
    "scheduler:DeleteSchedule",
    // Issue 12: a re-driven launch may be the one that makes the completion-callback key.
    "secretsmanager:CreateSecret",
    // Issue 11.2: removing a deleted job once it ends deletes its credential configs' secret.
    "secretsmanager:DeleteSecret",
    "secretsmanager:GetSecretValue",
  ],
};

/** A DynamoDocuments method (core/src/store/dynamo-documents.ts) → the IAM action DynamoDB checks for the request it sends. */
const DOCUMENT_REQUESTS: Record<string, string> = {
  get: "dynamodb:GetItem",
  put: "dynamodb:PutItem",
  update: "dynamodb:UpdateItem",
  delete: "dynamodb:DeleteItem",
  query: "dynamodb:Query",
  scan: "dynamodb:Scan",
  batchGet: "dynamodb:BatchGetItem",
  batchWrite: "dynamodb:BatchWriteItem",
};

/** The DynamoDocuments methods a source file calls (`documents.get(` …). */
function documentRequestsOf(path: string): string[] {
  return [...new Set([...readFileSync(path, "utf8").matchAll(/\bdocuments\.(\w+)\(/g)].map((m) => m[1]))].sort();
}

/** The `new XCommand(` a source file sends. */
function commandsSentBy(path: string): string[] {
  return [...new Set([...readFileSync(path, "utf8").matchAll(/new (\w+Command)\(/g)].map((m) => m[1]))].sort();
}

describe("sst.config.ts (recorded, stage 'test')", () => {
  let stack: Synthesized;

  beforeAll(async () => {
    stack = await synthesize("test");
  });

  it("names the app, pins the SST version and keeps non-production stages removable", () => {
    expect(stack.app).toMatchObject({ name: "edp", home: "aws", removal: "remove", protect: false, version: "4.17.1" });
    const pinned = JSON.parse(readFileSync("package.json", "utf8")).devDependencies.sst;
    expect(pinned, "package.json pins the same sst version the config requires").toBe(stack.app.version);
  });

  it("declares the five functions, each handler an existing file that exports it", async () => {
    const fns = functionsOf(stack);
    expect(fns.map((fn) => groupOf(fn.args.handler)).sort()).toEqual(["cancel", "create", "run", "status", "sweep"]);
    for (const fn of fns) {
      const [, file, exportName] = /^(.+)\.(\w+)$/.exec(fn.args.handler) ?? [];
      const path = resolve(`${file}.ts`);
      expect(existsSync(path), `${path} exists`).toBe(true);
      const module = await import(/* @vite-ignore */ pathToFileURL(path).href);
      expect(typeof module[exportName], `${fn.args.handler} is exported`).toBe("function");
    }
  });

  // Node 24 carries the logger's AsyncLocalStorage without promise hooks (bench/async-context.ts).
  it("runs every function on nodejs24.x or later with ssh2's native add-ons left out of the bundle", () => {
    for (const { id, args } of functionsOf(stack)) {
      const version = Number(/^nodejs(\d+)\.x$/.exec(args.runtime)?.[1]);
      expect(version, `${id} runtime ${args.runtime}`).toBeGreaterThanOrEqual(24);
      expect(args.nodejs.esbuild.external).toEqual(expect.arrayContaining(["cpu-features", "*.node"]));
    }
  });

  describe("HTTP API", () => {
    const routes = () =>
      stack.recorder.calls("sst.aws.ApiGatewayV2#Api.route").map((call) => ({ key: String(call.args[0]), handler: call.args[1] }));

    it("has exactly one route per API operation", () => {
      const keys = routes().map((r) => r.key);
      expect(new Set(keys).size, "no route declared twice").toBe(keys.length);
      expect([...keys].sort()).toEqual(operations.map((o) => `${o.method} ${o.path}`).sort());
    });

    it("keeps infra/routes.ts equal to the operations list (paste the printed list when it fails)", () => {
      const expected = operations.map((o) => [o.method, o.path, o.group]);
      const printed = expected.map((r) => `  ${JSON.stringify(r).replaceAll(",", ", ")},`).join("\n");
      expect(
        ROUTES.map((r) => [...r]),
        `infra/routes.ts should hold:\n${printed}\n`,
      ).toEqual(expected);
    });

    it("points each route at the function serving the operation's group", () => {
      const groupOfRoute = new Map(operations.map((o) => [`${o.method} ${o.path}`, o.group]));
      for (const route of routes()) {
        const fn = functionByGroup(stack, groupOfRoute.get(route.key) ?? "?");
        expect(nameOf(route.handler), route.key).toBe(`${fn.ref}.arn`);
      }
    });

    it("has no two routes whose path variables differ at the same level (API Gateway rejects them with a ConflictException)", () => {
      const conflicts: string[] = [];
      const keys = routes().map((r) => r.key);
      for (const a of keys)
        for (const b of keys) {
          if (a >= b) continue;
          const pa = a.split(" ")[1].split("/");
          const pb = b.split(" ")[1].split("/");
          for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
            const bothVariables = pa[i].startsWith("{") && pb[i].startsWith("{");
            if (bothVariables && pa[i] !== pb[i]) {
              conflicts.push(`${a}  vs  ${b}`);
              break;
            }
            if (pa[i] !== pb[i]) break;
          }
        }
      expect(conflicts).toEqual([]);
    });
  });

  it("declares the table the store uses: same keys, same indexes, all strings, projection ALL", () => {
    const [dynamo] = stack.recorder.constructs("sst.aws.Dynamo");
    const args = plain(dynamo.args[1]) as {
      fields: Record<string, string>;
      primaryIndex: { hashKey: string; rangeKey: string };
      globalIndexes: Record<string, { hashKey: string; rangeKey: string; projection?: string }>;
      deletionProtection: boolean;
    };
    const definition = tableDefinition("any");
    expect(args.fields).toEqual(Object.fromEntries(definition.AttributeDefinitions!.map((a) => [a.AttributeName!, "string"])));
    const keyOf = (schema: { AttributeName?: string; KeyType?: string }[] | undefined, type: string) =>
      schema?.find((k) => k.KeyType === type)?.AttributeName;
    expect(args.primaryIndex).toEqual({ hashKey: keyOf(definition.KeySchema, "HASH"), rangeKey: keyOf(definition.KeySchema, "RANGE") });
    expect(args.globalIndexes).toEqual(
      Object.fromEntries(
        definition.GlobalSecondaryIndexes!.map((index) => {
          expect(index.Projection?.ProjectionType).toBe("ALL");
          return [
            index.IndexName!,
            { hashKey: keyOf(index.KeySchema, "HASH"), rangeKey: keyOf(index.KeySchema, "RANGE"), projection: "all" },
          ];
        }),
      ),
    );
    expect(args.deletionProtection).toBe(false);
  });

  it("9.2 lets DynamoDB expire key records through the TTL attribute the store writes", () => {
    const [dynamo] = stack.recorder.constructs("sst.aws.Dynamo");
    expect((plain(dynamo.args[1]) as { ttl?: string }).ttl).toBe(TTL_ATTRIBUTE);
  });

  it("gives every function the settings createAwsPorts needs, naming the stack's own resources", () => {
    const [dynamo] = stack.recorder.constructs("sst.aws.Dynamo");
    const [bucket] = stack.recorder.constructs("sst.aws.Bucket");
    const [group] = stack.recorder.constructs("aws.scheduler.ScheduleGroup");
    const [role] = stack.recorder.constructs("aws.iam.Role").filter((r) => r.args[0] === "SchedulerRole");
    const run = functionByGroup(stack, "run");
    for (const { id, args } of functionsOf(stack)) {
      const env = Object.fromEntries(Object.entries(args.environment).map(([k, v]) => [k, String(v)]));
      // Issue 12: clusters call back on the stack's own API (the recorder renders its URL as a reference).
      const [httpApi] = stack.recorder.constructs("sst.aws.ApiGatewayV2");
      expect(env.EDP_PUBLIC_BASE_URL, id).toBe(`<${httpApi.result}.url>`);
      const deployed = { ...env, EDP_PUBLIC_BASE_URL: "https://abc123.execute-api.us-east-1.amazonaws.com" };
      expect(() => createAwsPorts(readSettings(deployed)), id).not.toThrow();
      expect(env).toMatchObject({
        EDP_RUNTIME: "aws",
        EDP_TABLE_NAME: `<${dynamo.result}.name>`,
        EDP_BINARY_BUCKET: `<${bucket.result}.name>`,
        EDP_SCHEDULE_GROUP: `<${group.result}.name>`,
        EDP_SCHEDULER_ROLE_ARN: `arn:${role.result}.arn`,
        EDP_SECRET_PREFIX: "edp/edp-test/",
      });
      expect(env.EDP_RUN_FUNCTION_ARN).toMatch(new RegExp(`^arn:.*:lambda:.*:function:${run.args.name}$`));
      expect(args.link ?? [], `${id} links nothing, so no link grants a wildcard`).toEqual([]);
    }
    expect(run.args.name).toBe("edp-test-run");
  });

  describe("permissions", () => {
    it("grant each function exactly the actions its code calls", () => {
      for (const [group, expected] of Object.entries(EXPECTED_ACTIONS)) {
        const granted = functionByGroup(stack, group).args.permissions.flatMap((s) => s.actions);
        expect(new Set(granted).size, `${group}: no action granted twice`).toBe(granted.length);
        expect([...granted].sort(), group).toEqual([...expected].sort());
      }
    });

    it("use no wildcard action, no wildcard resource and no deny", () => {
      for (const { id, args } of functionsOf(stack))
        for (const statement of args.permissions) {
          for (const action of statement.actions) expect(action, id).not.toContain("*");
          for (const resource of statement.resources) expect(String(resource), id).not.toBe("*");
          expect(statement.effect ?? "allow").toBe("allow");
        }
    });

    it("scope every action to EDP's own resources", () => {
      const [dynamo] = stack.recorder.constructs("sst.aws.Dynamo");
      const [bucket] = stack.recorder.constructs("sst.aws.Bucket");
      const [role] = stack.recorder.constructs("aws.iam.Role").filter((r) => r.args[0] === "SchedulerRole");
      const runArn = String(functionByGroup(stack, "run").args.environment.EDP_RUN_FUNCTION_ARN);
      const sweepArn = String(functionByGroup(stack, "sweep").args.environment.EDP_SWEEP_FUNCTION_ARN);
      const table = `arn:${dynamo.result}.arn`;
      const objects = `arn:${bucket.result}.arn/*`;
      for (const { id, args } of functionsOf(stack))
        for (const statement of args.permissions) {
          const resources = statement.resources.map(String).sort();
          const service = statement.actions[0].split(":")[0];
          expect(
            statement.actions.every((a) => a.startsWith(`${service}:`)),
            `${id}: one service per statement`,
          ).toBe(true);
          const where = `${id} ${statement.actions.join(",")}`;
          if (statement.actions.includes("dynamodb:Query")) expect(resources, where).toEqual([table, `${table}/index/*`]);
          else if (service === "dynamodb") expect(resources, where).toEqual([table]);
          else if (statement.actions.includes("s3:ListBucket")) expect(resources, where).toEqual([`arn:${bucket.result}.arn`]);
          else if (service === "s3") expect(resources, where).toEqual([objects]);
          else if (service === "secretsmanager")
            expect(resources, where).toEqual([expect.stringMatching(/:secretsmanager:.*:secret:edp\/edp-test\/\*$/)]);
          // Issue 17.3: the sweep alone may also invoke itself (its fan-out).
          else if (service === "lambda")
            expect(resources, where).toEqual(groupOf(args.handler) === "sweep" ? [runArn, sweepArn].sort() : [runArn]);
          else if (service === "scheduler")
            expect(resources, where).toEqual([expect.stringMatching(/:scheduler:.*:schedule\/edp-test\/\*$/)]);
          else if (service === "iam") {
            expect(statement.actions, where).toEqual(["iam:PassRole"]);
            expect(resources, where).toEqual([`arn:${role.result}.arn`]);
            expect(plain(statement.conditions), where).toEqual([
              { test: "StringEquals", variable: "iam:PassedToService", values: ["scheduler.amazonaws.com"] },
            ]);
          } else throw new Error(`${where}: unexpected service`);
        }
    });

    it("let exactly the functions that create schedules pass the scheduler role", () => {
      for (const { id, args } of functionsOf(stack)) {
        const actions = args.permissions.flatMap((s) => s.actions);
        expect(actions.includes("iam:PassRole"), id).toBe(actions.includes("scheduler:CreateSchedule"));
      }
    });

    it("list for the store exactly the DynamoDB requests core/src/store/store.ts sends", () => {
      const sent = documentRequestsOf("core/src/store/store.ts").map((m) => DOCUMENT_REQUESTS[m] ?? `unmapped ${m}`);
      expect([...new Set(sent)].sort()).toEqual([...AWS_PORT_ACTIONS.store].sort());
    });

    it("cover every request the AWS adapters can send", () => {
      const listed = new Set<string>(Object.values(AWS_PORT_ACTIONS).flat());
      const adapters = [
        ["core/src/binaries/s3-binary-store.ts", "s3"],
        ["core/src/secrets/aws-secrets-manager-store.ts", "secretsmanager"],
        ["core/src/scheduling/eventbridge-scheduler.ts", "scheduler"],
        ["core/src/manager/lambda-sweep-workers.ts", "lambda"],
      ] as const;
      for (const [file, service] of adapters)
        for (const command of commandsSentBy(file)) {
          const action = command === "InvokeCommand" ? iamActionOf("lambda", command) : iamActionOf(service, command);
          expect(listed.has(action), `${file}: ${command} → ${action}`).toBe(true);
        }
    });
  });

  it("creates the schedule group and a role only EventBridge Scheduler can assume, allowed to invoke the run function", () => {
    const [group] = stack.recorder.constructs("aws.scheduler.ScheduleGroup");
    expect(plain(group.args[1])).toEqual({ name: "edp-test" });
    const [role] = stack.recorder.constructs("aws.iam.Role").filter((r) => r.args[0] === "SchedulerRole");
    const args = role.args[1] as { assumeRolePolicy: unknown; inlinePolicies: { policy: unknown }[] };
    const trust = policyStatements(stack, args.assumeRolePolicy);
    expect(plain(trust)).toEqual([
      expect.objectContaining({
        actions: ["sts:AssumeRole"],
        principals: [{ type: "Service", identifiers: ["scheduler.amazonaws.com"] }],
        conditions: [expect.objectContaining({ variable: "aws:SourceAccount" })],
      }),
    ]);
    const runArn = String(functionByGroup(stack, "run").args.environment.EDP_RUN_FUNCTION_ARN);
    const policies = args.inlinePolicies.flatMap((p) => policyStatements(stack, p.policy));
    expect(plain(policies)).toEqual([{ actions: ["lambda:InvokeFunction"], resources: [runArn, `${runArn}:*`] }]);
  });

  it("runs the sweep every minute through EventBridge Scheduler (CronV2), not the deprecated Cron", () => {
    expect(stack.recorder.constructs("sst.aws.Cron")).toEqual([]);
    const [cron] = stack.recorder.constructs("sst.aws.CronV2");
    const args = cron.args[1] as { schedule: string; function: unknown };
    expect(args.schedule).toBe("rate(1 minute)");
    expect(nameOf(args.function)).toBe(`${functionByGroup(stack, "sweep").ref}.arn`);
  });

  describe("17.3 the sweep's fan-out", () => {
    it("17.3 names the sweep function's own ARN in its environment, and in no other function's", async () => {
      const sweep = functionByGroup(stack, "sweep");
      expect(sweep.args.name).toBe("edp-test-sweep");
      expect(String(sweep.args.environment.EDP_SWEEP_FUNCTION_ARN)).toMatch(/^arn:.*:lambda:.*:function:edp-test-sweep$/);
      for (const { id, args } of functionsOf(stack))
        if (id !== sweep.id) expect(args.environment.EDP_SWEEP_FUNCTION_ARN, `${id} does not fan out`).toBeUndefined();
      // With it, the AWS ports hand shards to Lambda (in-process without it).
      const env = Object.fromEntries(Object.entries(sweep.args.environment).map(([k, v]) => [k, String(v)]));
      const ports = createAwsPorts(readSettings({ ...env, EDP_PUBLIC_BASE_URL: "https://abc123.execute-api.us-east-1.amazonaws.com" }));
      // A lazy port (issue 17.1): the adapter behind it is loaded on first use.
      const workers = ports.sweepWorkers as LazyPort<SweepWorkers> | undefined;
      expect((await workers?.loaded())?.constructor.name).toBe("LambdaSweepWorkers");
    });

    it("17.3 lets the sweep function invoke itself, and no other function invoke it", () => {
      const sweepArn = String(functionByGroup(stack, "sweep").args.environment.EDP_SWEEP_FUNCTION_ARN);
      for (const { id, args } of functionsOf(stack)) {
        const invoking = args.permissions.filter((s) => s.resources.map(String).includes(sweepArn));
        if (groupOf(args.handler) === "sweep") {
          expect(invoking, id).toHaveLength(1);
          expect(invoking[0].actions).toEqual(["lambda:InvokeFunction"]);
        } else expect(invoking, `${id} may not invoke the sweep`).toEqual([]);
      }
      // The scheduler role invokes the run function only.
      const [role] = stack.recorder.constructs("aws.iam.Role").filter((r) => r.args[0] === "SchedulerRole");
      const policies = (role.args[1] as { inlinePolicies: { policy: unknown }[] }).inlinePolicies.flatMap((p) =>
        policyStatements(stack, p.policy),
      );
      expect(JSON.stringify(plain(policies))).not.toContain("edp-test-sweep");
    });

    it("17.3 neither retries a shard nor sweeps one later than an interval (the next sweep covers it)", () => {
      const configs = stack.recorder.constructs("aws.lambda.FunctionEventInvokeConfig");
      expect(configs).toHaveLength(1);
      const args = configs[0].args[1] as { functionName: unknown; maximumRetryAttempts: number; maximumEventAgeInSeconds: number };
      expect(nameOf(args.functionName)).toBe(`${functionByGroup(stack, "sweep").ref}.name`);
      expect(args.maximumRetryAttempts).toBe(0);
      expect(args.maximumEventAgeInSeconds).toBeLessThanOrEqual(60);
    });
  });

  it("stores binaries in a bucket of its own", () => {
    expect(stack.recorder.constructs("sst.aws.Bucket").map((b) => b.args[0])).toEqual(["Binaries"]);
  });

  it("outputs the API URL and the names an operator needs", () => {
    expect(Object.keys(stack.outputs)).toEqual(expect.arrayContaining(["api", "table", "bucket", "runFunction"]));
    expect(nameOf(stack.outputs.api)).toBe("sst.aws.ApiGatewayV2#Api.url");
  });
});

describe("sst.config.ts (recorded, stage 'production')", () => {
  it("retains and protects production, with deletion protection on the table", async () => {
    const stack = await synthesize("production");
    expect(stack.app).toMatchObject({ removal: "retain", protect: true });
    const [dynamo] = stack.recorder.constructs("sst.aws.Dynamo");
    expect((dynamo.args[1] as { deletionProtection: boolean }).deletionProtection).toBe(true);
  });
});
