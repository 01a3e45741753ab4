/**
 * TEST SUPPORT: one EDP stage on moto, made the way the stack makes it (infra/): a table, a bucket,
 * a schedule group, the scheduler role and the run function, with the real AWS adapters
 * (core/src/runtime/aws.ts) pointed at moto through the Lambda harness. The handlers under
 * functions/src/handlers are called with API Gateway v2 and EventBridge events, as Lambda calls them.
 */
import { createHash, randomUUID } from "node:crypto";
import { CreateRoleCommand, IAMClient } from "@aws-sdk/client-iam";
import { CreateFunctionCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { CreateScheduleGroupCommand, SchedulerClient } from "@aws-sdk/client-scheduler";
import type { AwsCredentialIdentity } from "@aws-sdk/types";
import { readSettings, type Settings } from "@edp/core/config/settings";
import { defaultEngineRegistrations } from "@edp/core/engines/index";
import { createAwsPorts } from "@edp/core/runtime/aws";
import { createCore } from "@edp/core/runtime/core";
import { createDocumentClient, ensureTable } from "@edp/core/store/dynamo-client";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { handler as cancelHandler } from "../../functions/src/handlers/cancel.js";
import { handler as createHandler } from "../../functions/src/handlers/create.js";
import { handler as runHandler } from "../../functions/src/handlers/run.js";
import { handler as statusHandler } from "../../functions/src/handlers/status.js";
import { handler as sweepHandler } from "../../functions/src/handlers/sweep.js";
import { useCore } from "../../functions/src/runtime.js";
import { ROUTES } from "../../infra/routes.js";
import type { MotoServer } from "../support/moto.js";
import { type LambdaHandler, LambdaHarness, lambdaContext } from "./lambda-harness.js";

export type FunctionKey = "create" | "status" | "cancel" | "run" | "sweep";

const HANDLERS = {
  create: createHandler,
  status: statusHandler,
  cancel: cancelHandler,
  run: runHandler,
  sweep: sweepHandler,
} as unknown as Record<FunctionKey, LambdaHandler>;

/** moto's fixed test credentials, never a real account's: the emulator accepts any key until IAM is enforced. */
export const MOTO_CREDENTIALS: AwsCredentialIdentity = { accessKeyId: "testing", secretAccessKey: "testing" };

export interface ApiAnswer {
  status: number;
  headers: Record<string, string | number | boolean>;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies of many shapes
  body: any;
}

export class AwsStage {
  readonly settings: Settings;
  /** Which function's principal the handlers act as; the least-privilege test switches it per function. */
  private credentialsOf: (fn: FunctionKey) => AwsCredentialIdentity;
  private active: FunctionKey | undefined;

  private constructor(
    readonly moto: MotoServer,
    readonly harness: LambdaHarness,
    readonly env: Record<string, string>,
    /** The credentials the stage was made with (every function's, until actAs says otherwise). */
    readonly admin: AwsCredentialIdentity,
  ) {
    this.settings = readSettings(env);
    this.credentialsOf = () => admin;
  }

  /** Creates the stage's resources on moto with `admin` credentials and starts the harness. */
  static async create(moto: MotoServer, admin: AwsCredentialIdentity = MOTO_CREDENTIALS): Promise<AwsStage> {
    if (new URL(moto.endpoint).hostname !== "127.0.0.1") throw new Error("the AWS-mode tests talk to loopback only");
    const stage = `t${randomUUID().slice(0, 8)}`;
    const config = { endpoint: moto.endpoint, region: moto.region, credentials: admin };
    const iam = new IAMClient(config);
    const trust = (service: string) =>
      JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }],
      });
    const schedulerRole = await iam.send(
      new CreateRoleCommand({ RoleName: `${stage}-scheduler`, AssumeRolePolicyDocument: trust("scheduler.amazonaws.com") }),
    );
    const runRole = await iam.send(
      new CreateRoleCommand({ RoleName: `${stage}-run`, AssumeRolePolicyDocument: trust("lambda.amazonaws.com") }),
    );
    const lambda = new LambdaClient(config);
    const zip = Buffer.from("UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==", "base64"); // an empty zip: moto stores the code, never runs it
    const run = await lambda.send(
      new CreateFunctionCommand({
        FunctionName: `${stage}-run`,
        Runtime: "nodejs24.x",
        Role: runRole.Role!.Arn!,
        Handler: "run.handler",
        Code: { ZipFile: zip },
      }),
    );
    lambda.destroy();
    const s3 = new S3Client({ ...config, forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: `${stage}-binaries` }));
    s3.destroy();
    const scheduler = new SchedulerClient(config);
    await scheduler.send(new CreateScheduleGroupCommand({ Name: stage }));
    const documents = createDocumentClient(undefined, config);
    await ensureTable(documents, stage);
    documents.destroy();
    iam.destroy();

    let self: AwsStage | undefined;
    const harness = await LambdaHarness.start(moto.endpoint, {
      scheduler,
      groupName: stage,
      run: (event, context) => self!.invoke("run", event, context),
    });
    const env = {
      EDP_RUNTIME: "aws",
      EDP_TABLE_NAME: stage,
      EDP_BINARY_BUCKET: `${stage}-binaries`,
      EDP_SECRET_PREFIX: `edp/${stage}/`,
      EDP_SCHEDULE_GROUP: stage,
      EDP_SCHEDULER_ROLE_ARN: schedulerRole.Role!.Arn!,
      EDP_RUN_FUNCTION_ARN: run.FunctionArn!,
      EDP_AWS_ENDPOINT: harness.endpoint,
      // The job's cluster is the test's sshd on loopback, which the AWS runtime refuses by default.
      EDP_ALLOW_DESTINATIONS: "127.0.0.0/8",
      EDP_CANCEL_GRACE_SECONDS: "1",
      AWS_REGION: moto.region,
    };
    self = new AwsStage(moto, harness, env, admin);
    return self;
  }

  /** The ports as the given function's principal sees them (for setting up and checking state directly). */
  portsForTest(fn: FunctionKey = "create") {
    return createAwsPorts(this.settings, { credentials: this.credentialsOf(fn), region: this.moto.region });
  }

  /** Makes each function act with its own credentials (the least-privilege test's principals). */
  actAs(credentialsOf: (fn: FunctionKey) => AwsCredentialIdentity): void {
    this.credentialsOf = credentialsOf;
    this.active = undefined;
  }

  /**
   * Calls a function's handler as Lambda would. The core it serves from is what getCore() builds
   * from the environment on Lambda (createAwsPorts over these settings), with this function's
   * credentials passed explicitly so nothing is taken from the test machine's environment.
   */
  async invoke(fn: FunctionKey, event: unknown, context = lambdaContext(fn)): Promise<unknown> {
    if (this.active !== fn) {
      useCore(
        createCore(
          createAwsPorts(this.settings, { credentials: this.credentialsOf(fn), region: this.moto.region }),
          defaultEngineRegistrations,
          this.settings,
        ),
      );
      this.active = fn;
    }
    return HANDLERS[fn](event, context);
  }

  /** An API request, turned into the API Gateway v2 event of its route and handed to that route's function. */
  async request(
    method: string,
    target: string,
    options: { token?: string; body?: unknown; raw?: Buffer; headers?: Record<string, string> } = {},
  ): Promise<ApiAnswer> {
    const url = new URL(target, "https://api.example.test");
    const route = ROUTES.map(([m, path, group]) => ({ m, path, group, match: match(path, url.pathname) })).find(
      (r) => r.m === method && r.match,
    );
    if (!route) throw new Error(`no route for ${method} ${url.pathname}`);
    const body = options.raw ?? (options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body)));
    const headers: Record<string, string> = {
      ...(options.token ? { "x-auth-token": options.token } : {}),
      ...(options.body !== undefined ? { "content-type": "application/json" } : {}),
      ...options.headers,
    };
    const query = Object.fromEntries(url.searchParams);
    const now = new Date();
    const event: APIGatewayProxyEventV2 = {
      version: "2.0",
      routeKey: `${method} ${route.path}`,
      rawPath: url.pathname,
      rawQueryString: url.search.slice(1),
      headers,
      queryStringParameters: Object.keys(query).length > 0 ? query : undefined,
      pathParameters: route.match && Object.keys(route.match).length > 0 ? route.match : undefined,
      body: body?.toString("base64"),
      isBase64Encoded: body !== undefined,
      requestContext: {
        accountId: this.moto.account,
        apiId: "api",
        domainName: url.host,
        domainPrefix: "api",
        http: { method, path: url.pathname, protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "aws-mode-test" },
        requestId: randomUUID(),
        routeKey: `${method} ${route.path}`,
        stage: "$default",
        time: now.toUTCString(),
        timeEpoch: now.getTime(),
      },
    };
    const result = (await this.invoke(route.group, event)) as APIGatewayProxyStructuredResultV2;
    const text = result.body === undefined ? "" : Buffer.from(result.body, result.isBase64Encoded ? "base64" : "utf8").toString();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: result.statusCode ?? 200, headers: result.headers ?? {}, text, body: parsed };
  }

  /** The sweep, as EventBridge's every-minute rule invokes it. */
  sweep(): Promise<unknown> {
    return this.invoke("sweep", {
      version: "0",
      id: randomUUID(),
      "detail-type": "Scheduled Event",
      source: "aws.events",
      account: this.moto.account,
      time: `${new Date().toISOString().slice(0, 19)}Z`,
      region: this.moto.region,
      resources: [`arn:aws:events:${this.moto.region}:${this.moto.account}:rule/sweep`],
      detail: {},
    });
  }

  async close(): Promise<void> {
    await this.harness.close();
  }
}

/** The path variables of `pattern` (`/v2/jobs/{id}`) in `path`, or undefined when it does not match. */
function match(pattern: string, path: string): Record<string, string> | undefined {
  const names: string[] = [];
  const source = pattern.replace(/\{(\w+)\}/g, (_, name: string) => {
    names.push(name);
    return "([^/]+)";
  });
  const found = new RegExp(`^${source}$`).exec(path);
  if (!found) return undefined;
  return Object.fromEntries(names.map((name, i) => [name, decodeURIComponent(found[i + 1])]));
}

export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** A Shell job on the test's sshd: a cluster (its key to Secrets Manager), the script uploaded to S3, a binary and a template. */
export async function registerShellJob(
  stage: AwsStage,
  token: string,
  sshd: { host: string; port: number; user: string; privateKey: string; hostKey: string },
  workDir: string,
  script: string,
): Promise<{ clusterId: string; templateId: string }> {
  const post = async (path: string, body: unknown) => {
    const response = await stage.request("POST", path, { token, body });
    if (response.status !== 202) throw new Error(`${path}: ${response.status} ${response.text}`);
    return response.body;
  };
  const cluster = await post("/v2/clusters", {
    name: `over-ssh-${randomUUID().slice(0, 8)}`,
    plugin_name: "spark",
    plugin_version: "3.5.0",
    connection: {
      host: sshd.host,
      port: sshd.port,
      user: sshd.user,
      private_key: sshd.privateKey,
      host_key: sshd.hostKey,
      working_dir_base: workDir,
    },
  });
  const upload = await stage.request("PUT", "/v2/job-binary-internals/job.sh", { token, raw: Buffer.from(script) });
  if (upload.status !== 202) throw new Error(`upload: ${upload.status} ${upload.text}`);
  const binary = await post("/v2/job-binaries", { name: "job.sh", url: `internal-db://${upload.body.job_binary_internal.id}` });
  const template = await post("/v2/job-templates", {
    name: `job-${randomUUID().slice(0, 8)}`,
    type: "Shell",
    mains: [binary.job_binary.id],
  });
  return { clusterId: cluster.cluster.id, templateId: template.job_template.id };
}
