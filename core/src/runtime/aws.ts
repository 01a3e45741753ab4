import { LambdaClient } from "@aws-sdk/client-lambda";
import { S3Client } from "@aws-sdk/client-s3";
import { SchedulerClient } from "@aws-sdk/client-scheduler";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { S3BinaryStore } from "../binaries/s3-binary-store.js";
import type { Settings } from "../config/settings.js";
import { EventBridgeScheduler } from "../scheduling/eventbridge-scheduler.js";
import { SecretsManagerSecretStore } from "../secrets/aws-secrets-manager-store.js";
import { createDocumentClient } from "../store/dynamo-client.js";
import { Store } from "../store/store.js";
import type { Ports } from "./core.js";

/** Settings the AWS adapters cannot work without; the stack (infra/functions.ts) sets every one. */
const REQUIRED = ["EDP_BINARY_BUCKET", "EDP_SCHEDULE_GROUP", "EDP_SCHEDULER_ROLE_ARN", "EDP_RUN_FUNCTION_ARN"] as const;

/**
 * The AWS adapters (DESIGN.md rule 3): DynamoDB, S3, Secrets Manager and EventBridge
 * Scheduler plus asynchronous Lambda invocation. Region and credentials come from the
 * Lambda environment. Building them sends no request, so a cold start pays nothing here.
 * `EDP_DYNAMODB_ENDPOINT` still redirects the store (the bundle smoke test points it at dynalite).
 */
export function createAwsPorts(settings: Settings): Ports {
  const missing = REQUIRED.filter((name) => !settings[name]);
  if (missing.length > 0) throw new Error(`EDP_RUNTIME=aws needs ${missing.join(", ")}`);
  return {
    store: new Store(createDocumentClient(settings.EDP_DYNAMODB_ENDPOINT), settings.EDP_TABLE_NAME),
    secrets: new SecretsManagerSecretStore(new SecretsManagerClient({}), settings.EDP_SECRET_PREFIX),
    binaries: new S3BinaryStore(new S3Client({}), settings.EDP_BINARY_BUCKET!),
    scheduler: new EventBridgeScheduler({
      scheduler: new SchedulerClient({}),
      lambda: new LambdaClient({}),
      groupName: settings.EDP_SCHEDULE_GROUP!,
      roleArn: settings.EDP_SCHEDULER_ROLE_ARN!,
      targetArn: settings.EDP_RUN_FUNCTION_ARN!,
    }),
  };
}
