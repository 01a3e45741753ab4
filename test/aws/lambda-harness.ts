/**
 * TEST SUPPORT, NOT PRODUCT CODE: a small stand-in for the Lambda service in the AWS-mode tests.
 *
 * moto speaks Lambda's and EventBridge Scheduler's APIs but runs nothing (no Docker here), so this
 * harness plays the part of Lambda delivering events:
 * - It is a loopback HTTP proxy in front of moto that every AWS client of the runtime talks to
 *   (EDP_AWS_ENDPOINT). Every request goes on to moto unchanged, signature and all, so moto
 *   authenticates and authorizes it; when moto accepts an asynchronous `Invoke` (202), the harness
 *   keeps its payload, as Lambda's event queue would.
 * - `deliverInvocations()` calls the run handler with each kept payload, exactly what Lambda passes.
 * - `deliverDueSchedules()` reads the schedule group back from moto (ListSchedules, GetSchedule),
 *   calls the run handler with the `Target.Input` of every one-time schedule that is due, and
 *   deletes it if its ActionAfterCompletion is DELETE, as EventBridge Scheduler does.
 * - `fireSchedule()` delivers one occurrence of a recurring schedule.
 *
 * One thing of moto's it works around: moto checks a Lambda request's signature against the
 * decoded path, so an Invoke whose FunctionName is an ARN (as EDP's is, and as AWS accepts) never
 * matches once IAM is enforced. For such a request from a principal whose key the harness was given
 * (`knowKeys`), it forwards the same request with the function's name in the path, signed again with
 * that principal's key: moto still authenticates and authorizes it as that principal.
 */
import { createHash, createHmac, randomUUID } from "node:crypto";
import { createServer, request as httpRequest, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  DeleteScheduleCommand,
  GetScheduleCommand,
  type GetScheduleCommandOutput,
  ListSchedulesCommand,
  type SchedulerClient,
} from "@aws-sdk/client-scheduler";
import type { AwsCredentialIdentity } from "@aws-sdk/types";
import { SignatureV4 } from "@smithy/signature-v4";
import type { Context } from "aws-lambda";

export type LambdaHandler = (event: unknown, context: Context) => Promise<unknown>;

/** What Lambda hands a handler as its context. */
export function lambdaContext(functionName: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: "1024",
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: "harness",
    getRemainingTimeInMillis: () => 60_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

export interface DeliveredSchedule {
  name: string;
  schedule: GetScheduleCommandOutput;
}

export class LambdaHarness {
  /** Payloads of accepted asynchronous invocations not yet delivered, with the function they named. */
  readonly queued: { functionName: string; payload: unknown }[] = [];
  /** Every request moto refused with 403 (its body names the action), so a test can show none of its paths was. */
  readonly refusals: { method?: string; path?: string; body: string }[] = [];
  /** Every schedule delivered, as GetSchedule returned it (the test checks how the adapter set it). */
  readonly deliveredSchedules: DeliveredSchedule[] = [];

  private readonly keys = new Map<string, AwsCredentialIdentity>();

  /** Principals whose ARN-named Invoke requests the harness may re-sign (see above). */
  knowKeys(...credentials: AwsCredentialIdentity[]): void {
    for (const c of credentials) this.keys.set(c.accessKeyId, c);
  }

  /** The request as moto can verify it: an ARN-named Invoke re-signed with the function's name, anything else unchanged. */
  private async forMoto(incoming: IncomingMessage, body: Buffer, moto: URL) {
    const headers = { ...incoming.headers } as Record<string, string>;
    const url = new URL(incoming.url ?? "/", "http://x");
    const invoked = INVOKE_PATH.exec(url.pathname);
    const keyId = /Credential=([^/]+)\//.exec(headers.authorization ?? "")?.[1];
    const credentials = keyId ? this.keys.get(keyId) : undefined;
    const functionName = invoked ? decodeURIComponent(invoked[1]) : "";
    if (!invoked || !functionName.startsWith("arn:") || !credentials) return { path: incoming.url, headers };
    const path = `/2015-03-31/functions/${functionName.split(":").pop()}/invocations`;
    const signer = new SignatureV4({ service: "lambda", region: "us-east-1", credentials, sha256: Sha256 });
    const unsigned = Object.fromEntries(
      Object.entries(headers).filter(
        ([name]) => !["authorization", "x-amz-date", "x-amz-content-sha256", "x-amz-security-token"].includes(name),
      ),
    );
    const signed = await signer.sign({
      method: incoming.method ?? "POST",
      protocol: "http:",
      hostname: moto.hostname,
      port: Number(moto.port),
      path,
      query: Object.fromEntries(url.searchParams),
      headers: unsigned,
      body,
    });
    return { path: `${path}${url.search}`, headers: signed.headers };
  }

  private constructor(
    private readonly server: Server,
    readonly endpoint: string,
    private readonly options: { run: LambdaHandler; scheduler: SchedulerClient; groupName: string },
  ) {}

  static async start(motoEndpoint: string, options: { run: LambdaHandler; scheduler: SchedulerClient; groupName: string }) {
    const moto = new URL(motoEndpoint);
    let harness: LambdaHarness | undefined;
    const server = createServer((incoming, outgoing) => {
      readAll(incoming)
        .then(async (body) => ({ body, target: await harness!.forMoto(incoming, body, moto) }))
        .then(({ body, target }) => {
          const forward = httpRequest(
            { host: moto.hostname, port: moto.port, method: incoming.method, path: target.path, headers: target.headers },
            (answer) => {
              readAll(answer).then((answerBody) => {
                const invoked = INVOKE_PATH.exec(new URL(incoming.url ?? "/", "http://x").pathname);
                if (invoked && answer.statusCode === 202 && incoming.headers["x-amz-invocation-type"] === "Event") {
                  harness?.queued.push({ functionName: decodeURIComponent(invoked[1]), payload: JSON.parse(body.toString()) });
                }
                if (answer.statusCode === 403)
                  harness?.refusals.push({ method: incoming.method, path: incoming.url, body: answerBody.toString() });
                outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
                outgoing.end(answerBody);
              }, outgoing.destroy.bind(outgoing));
            },
          );
          forward.on("error", (error) => outgoing.destroy(error));
          forward.end(body);
        }, outgoing.destroy.bind(outgoing));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    harness = new LambdaHarness(server, `http://127.0.0.1:${port}`, options);
    return harness;
  }

  /** Delivers queued invocations (and those they queue in turn) to the run handler, one at a time. */
  async deliverInvocations(): Promise<unknown[]> {
    const delivered: unknown[] = [];
    for (let next = this.queued.shift(); next; next = this.queued.shift()) {
      delivered.push(next.payload);
      await this.options.run(next.payload, lambdaContext("run"));
    }
    return delivered;
  }

  /** Every schedule in the group, as GetSchedule returns it. */
  async schedules(): Promise<GetScheduleCommandOutput[]> {
    const names: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.options.scheduler.send(new ListSchedulesCommand({ GroupName: this.options.groupName, NextToken: token }));
      names.push(...(page.Schedules ?? []).map((s) => s.Name!));
      token = page.NextToken;
    } while (token);
    return Promise.all(
      names.map((name) => this.options.scheduler.send(new GetScheduleCommand({ Name: name, GroupName: this.options.groupName }))),
    );
  }

  /** Delivers every one-time `at()` schedule due by `now`, then deletes it where ActionAfterCompletion says DELETE. */
  async deliverDueSchedules(now = new Date()): Promise<DeliveredSchedule[]> {
    const due: DeliveredSchedule[] = [];
    for (const schedule of await this.schedules()) {
      const at = /^at\((.+)\)$/.exec(schedule.ScheduleExpression ?? "");
      if (!at || schedule.State !== "ENABLED" || new Date(`${at[1]}Z`).getTime() > now.getTime()) continue;
      due.push(await this.deliver(schedule));
      if (schedule.ActionAfterCompletion === "DELETE") {
        await this.options.scheduler.send(new DeleteScheduleCommand({ Name: schedule.Name, GroupName: this.options.groupName }));
      }
    }
    return due;
  }

  /** One occurrence of a (recurring) schedule: its target input delivered to the run handler. */
  async fireSchedule(name: string): Promise<DeliveredSchedule> {
    const schedule = await this.options.scheduler.send(new GetScheduleCommand({ Name: name, GroupName: this.options.groupName }));
    return this.deliver(schedule);
  }

  private async deliver(schedule: GetScheduleCommandOutput): Promise<DeliveredSchedule> {
    const delivered = { name: schedule.Name!, schedule };
    this.deliveredSchedules.push(delivered);
    await this.options.run(JSON.parse(schedule.Target?.Input ?? "null"), lambdaContext("run"));
    return delivered;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function readAll(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("end", () => resolve(Buffer.concat(chunks)));
    stream.on("error", reject);
  });
}

/** SHA-256 and HMAC-SHA-256 from node:crypto, in the shape the SDK's signer takes. */
class Sha256 {
  private readonly hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash("sha256") : createHmac("sha256", bytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

function bytes(data: string | ArrayBuffer | ArrayBufferView): string | Buffer {
  if (typeof data === "string") return data;
  return ArrayBuffer.isView(data) ? Buffer.from(data.buffer, data.byteOffset, data.byteLength) : Buffer.from(data);
}
