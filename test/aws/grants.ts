/**
 * TEST SUPPORT: each function's IAM grants exactly as the stack makes them. The real sst.config.ts
 * runs with SST's globals replaced by the infra test's recorders (test/infra/sst-recorder.ts), so the
 * statements are infra/permissions.ts's own output, not a copy of it.
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { vi } from "vitest";
import { createRecorder } from "../infra/sst-recorder.js";
import type { FunctionKey } from "./aws-stage.js";

export interface Grant {
  actions: string[];
  /** The scope as the stack names it (recorded SST values, as text), for the report. */
  resources: string[];
}

export async function grantsOfTheStack(): Promise<Record<FunctionKey, Grant[]>> {
  const recorder = createRecorder({ name: "edp", stage: "test" });
  recorder.install();
  try {
    vi.resetModules();
    const config = (await import(/* @vite-ignore */ pathToFileURL(resolve("sst.config.ts")).href)).default as {
      app(input: { stage: string }): unknown;
      run(): Promise<unknown>;
    };
    config.app({ stage: "test" });
    await config.run();
  } finally {
    recorder.uninstall();
  }
  const grants: Partial<Record<FunctionKey, Grant[]>> = {};
  for (const record of recorder.constructs("sst.aws.Function")) {
    const args = record.args[1] as { handler: string; permissions: { actions: string[]; resources: unknown[] }[] };
    const group = /^functions\/src\/handlers\/(\w+)\.handler$/.exec(args.handler)?.[1] as FunctionKey | undefined;
    if (!group) continue;
    grants[group] = args.permissions.map((s) => ({ actions: [...s.actions], resources: s.resources.map(String) }));
  }
  for (const fn of ["create", "status", "cancel", "run", "sweep"] as const)
    if (!grants[fn]) throw new Error(`the stack has no ${fn} function`);
  return grants as Record<FunctionKey, Grant[]>;
}

/**
 * A grant as an IAM policy for moto. The actions are the stack's, unchanged. The resources are this
 * stage's where moto checks them, which is S3 only (the bucket for ListBucket, its objects for the
 * object actions); for DynamoDB, Secrets Manager, EventBridge Scheduler, Lambda and IAM moto
 * authorizes every request against the resource `*`, so a statement scoped to an ARN would match
 * nothing there: those statements say `*`, and their resource scoping is shown only by the infra test.
 * moto names one action by its API operation rather than by IAM's name for it: asynchronous Invoke
 * is authorized as `lambda:Invoke`, where AWS asks for `lambda:InvokeFunction`. The policy grants
 * moto's name next to AWS's for that one permission (MOTO_ACTION_NAMES), and nothing else.
 */
const MOTO_ACTION_NAMES: Record<string, string> = { "lambda:InvokeFunction": "lambda:Invoke" };

export function motoPolicy(grants: Grant[], bucket: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: grants.map((grant) => ({
      Effect: "Allow",
      Action: grant.actions.flatMap((a) => (MOTO_ACTION_NAMES[a] ? [a, MOTO_ACTION_NAMES[a]] : [a])),
      Resource: grant.actions.every((a) => a.startsWith("s3:"))
        ? grant.actions.includes("s3:ListBucket")
          ? `arn:aws:s3:::${bucket}`
          : `arn:aws:s3:::${bucket}/*`
        : "*",
    })),
  });
}
