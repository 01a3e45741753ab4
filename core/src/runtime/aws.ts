import type { AwsCredentialIdentity } from "@aws-sdk/types";
import type { BinaryStore } from "../binaries/binary-store.js";
import type { Settings } from "../config/settings.js";
import type { SweepWorkers } from "../manager/sweep-shards.js";
import type { Scheduler } from "../scheduling/scheduler.js";
import type { SecretStore } from "../secrets/secret-store.js";
import { createDocumentClient } from "../store/dynamo-client.js";
import { Store } from "../store/store.js";
import type { Ports } from "./core.js";
import { type LazyPort, lazyPort } from "./lazy-port.js";

/** Settings the AWS adapters cannot work without; the stack (infra/functions.ts) sets every one. */
const REQUIRED = ["EDP_BINARY_BUCKET", "EDP_SCHEDULE_GROUP", "EDP_SCHEDULER_ROLE_ARN", "EDP_RUN_FUNCTION_ARN"] as const;

export interface AwsPortsOptions {
  /** Credentials for every client; by default the SDK's chain (on Lambda, the function's role). */
  credentials?: AwsCredentialIdentity;
  /** The region for every client; by default AWS_REGION, which Lambda sets. */
  region?: string;
}

/** The AWS ports; all but the store are built on first use (lazy-port.ts), and say so in their type. */
export interface AwsPorts extends Ports {
  secrets: LazyPort<SecretStore>;
  binaries: LazyPort<BinaryStore>;
  scheduler: LazyPort<Scheduler>;
}

/**
 * The AWS adapters (DESIGN.md rule 3): DynamoDB, S3, Secrets Manager and EventBridge
 * Scheduler plus asynchronous Lambda invocation. Region and credentials come from the
 * Lambda environment. Building them sends no request, so a cold start pays nothing here.
 * `EDP_AWS_ENDPOINT` sends every client to one emulator (moto, in the AWS-mode tests);
 * `EDP_DYNAMODB_ENDPOINT` still redirects the store alone (the bundle smoke test points it at dynalite).
 *
 * Every function uses the store, so DynamoDB is loaded with the function. The other adapters and
 * their SDK clients are imported on their first call (issue 17.1): a function that never touches
 * Secrets Manager, S3 or the scheduler never loads their code; esbuild puts each in its own chunk.
 */
export function createAwsPorts(settings: Settings, options: AwsPortsOptions = {}): AwsPorts {
  const missing = REQUIRED.filter((name) => !settings[name]);
  if (missing.length > 0) throw new Error(`EDP_RUNTIME=aws needs ${missing.join(", ")}`);
  const config = clientConfig(settings, options);
  return {
    store: new Store(createDocumentClient(settings.EDP_DYNAMODB_ENDPOINT, config), settings.EDP_TABLE_NAME),
    secrets: lazyPort(
      async () => {
        const [{ SecretsManagerClient }, { SecretsManagerSecretStore }] = await Promise.all([
          import("@aws-sdk/client-secrets-manager"),
          import("../secrets/aws-secrets-manager-store.js"),
        ]);
        return new SecretsManagerSecretStore(new SecretsManagerClient(config), settings.EDP_SECRET_PREFIX);
      },
      { put: true, get: true, replace: true, delete: true },
    ),
    binaries: lazyPort(
      async () => {
        const [{ S3Client }, { S3BinaryStore }] = await Promise.all([
          import("@aws-sdk/client-s3"),
          import("../binaries/s3-binary-store.js"),
        ]);
        // An emulator serves buckets by path: virtual-hosted names (`bucket.127.0.0.1`) would not resolve to it.
        return new S3BinaryStore(
          new S3Client({ ...config, forcePathStyle: Boolean(settings.EDP_AWS_ENDPOINT) }),
          settings.EDP_BINARY_BUCKET!,
        );
      },
      { put: true, get: true, has: true, delete: true },
    ),
    scheduler: lazyPort(
      async () => {
        const [{ SchedulerClient }, { LambdaClient }, { EventBridgeScheduler }] = await Promise.all([
          import("@aws-sdk/client-scheduler"),
          import("@aws-sdk/client-lambda"),
          import("../scheduling/eventbridge-scheduler.js"),
        ]);
        return new EventBridgeScheduler({
          scheduler: new SchedulerClient(config),
          lambda: new LambdaClient(config),
          groupName: settings.EDP_SCHEDULE_GROUP!,
          roleArn: settings.EDP_SCHEDULER_ROLE_ARN!,
          targetArn: settings.EDP_RUN_FUNCTION_ARN!,
        });
      },
      { runSoon: true, runAt: true, runRecurring: true, cancel: true },
    ),
    // The sweep function's own ARN (infra/sweep.ts sets it on that function only): its shards are invocations of itself.
    ...(settings.EDP_SWEEP_FUNCTION_ARN
      ? {
          sweepWorkers: lazyPort<SweepWorkers>(
            async () => {
              const [{ LambdaClient }, { LambdaSweepWorkers }] = await Promise.all([
                import("@aws-sdk/client-lambda"),
                import("../manager/lambda-sweep-workers.js"),
              ]);
              return new LambdaSweepWorkers(new LambdaClient(config), settings.EDP_SWEEP_FUNCTION_ARN!);
            },
            { start: true },
          ),
        }
      : {}),
  };
}

function clientConfig(settings: Settings, options: AwsPortsOptions) {
  return {
    ...(settings.EDP_AWS_ENDPOINT ? { endpoint: settings.EDP_AWS_ENDPOINT } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    ...(options.region ? { region: options.region } : {}),
  };
}
