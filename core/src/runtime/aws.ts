import { LambdaClient } from "@aws-sdk/client-lambda";
import { S3Client } from "@aws-sdk/client-s3";
import { SchedulerClient } from "@aws-sdk/client-scheduler";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { AwsCredentialIdentity } from "@aws-sdk/types";
import { S3BinaryStore } from "../binaries/s3-binary-store.js";
import type { Settings } from "../config/settings.js";
import { LambdaSweepWorkers } from "../manager/lambda-sweep-workers.js";
import { EventBridgeScheduler } from "../scheduling/eventbridge-scheduler.js";
import { SecretsManagerSecretStore } from "../secrets/aws-secrets-manager-store.js";
import { createDocumentClient } from "../store/dynamo-client.js";
import { Store } from "../store/store.js";
import type { Ports } from "./core.js";

/** Settings the AWS adapters cannot work without; the stack (infra/functions.ts) sets every one. */
const REQUIRED = ["EDP_BINARY_BUCKET", "EDP_SCHEDULE_GROUP", "EDP_SCHEDULER_ROLE_ARN", "EDP_RUN_FUNCTION_ARN"] as const;

export interface AwsPortsOptions {
  /** Credentials for every client; by default the SDK's chain (on Lambda, the function's role). */
  credentials?: AwsCredentialIdentity;
  /** The region for every client; by default AWS_REGION, which Lambda sets. */
  region?: string;
}

/**
 * The AWS adapters (DESIGN.md rule 3): DynamoDB, S3, Secrets Manager and EventBridge
 * Scheduler plus asynchronous Lambda invocation. Region and credentials come from the
 * Lambda environment. Building them sends no request, so a cold start pays nothing here.
 * `EDP_AWS_ENDPOINT` sends every client to one emulator (moto, in the AWS-mode tests);
 * `EDP_DYNAMODB_ENDPOINT` still redirects the store alone (the bundle smoke test points it at dynalite).
 */
export function createAwsPorts(settings: Settings, options: AwsPortsOptions = {}): Ports {
  const missing = REQUIRED.filter((name) => !settings[name]);
  if (missing.length > 0) throw new Error(`EDP_RUNTIME=aws needs ${missing.join(", ")}`);
  const config = clientConfig(settings, options);
  const lambda = new LambdaClient(config);
  return {
    store: new Store(createDocumentClient(settings.EDP_DYNAMODB_ENDPOINT, config), settings.EDP_TABLE_NAME),
    secrets: new SecretsManagerSecretStore(new SecretsManagerClient(config), settings.EDP_SECRET_PREFIX),
    // An emulator serves buckets by path: virtual-hosted names (`bucket.127.0.0.1`) would not resolve to it.
    binaries: new S3BinaryStore(
      new S3Client({ ...config, forcePathStyle: Boolean(settings.EDP_AWS_ENDPOINT) }),
      settings.EDP_BINARY_BUCKET!,
    ),
    scheduler: new EventBridgeScheduler({
      scheduler: new SchedulerClient(config),
      lambda,
      groupName: settings.EDP_SCHEDULE_GROUP!,
      roleArn: settings.EDP_SCHEDULER_ROLE_ARN!,
      targetArn: settings.EDP_RUN_FUNCTION_ARN!,
    }),
    // The sweep function's own ARN (infra/sweep.ts sets it on that function only): its shards are invocations of itself.
    ...(settings.EDP_SWEEP_FUNCTION_ARN ? { sweepWorkers: new LambdaSweepWorkers(lambda, settings.EDP_SWEEP_FUNCTION_ARN) } : {}),
  };
}

function clientConfig(settings: Settings, options: AwsPortsOptions) {
  return {
    ...(settings.EDP_AWS_ENDPOINT ? { endpoint: settings.EDP_AWS_ENDPOINT } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    ...(options.region ? { region: options.region } : {}),
  };
}
