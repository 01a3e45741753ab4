import { readSettings } from "@edp/core/config/settings";
import { createAwsPorts } from "@edp/core/runtime/aws";
import { describe, expect, it } from "vitest";

interface ConfiguredClient {
  config: {
    endpoint?: () => Promise<{ protocol: string; hostname: string; port?: number; path: string }>;
    credentials: () => Promise<{ accessKeyId: string }>;
    forcePathStyle?: boolean;
  };
}

/**
 * The SDK clients behind the AWS ports (their adapters keep them private, as they should). All but
 * the store load on first use (issue 17.1), so their adapters are loaded here first.
 */
async function clientsOf(ports: ReturnType<typeof createAwsPorts>): Promise<Record<string, ConfiguredClient>> {
  const inner = (object: unknown, field: string) => (object as Record<string, unknown>)[field] as ConfiguredClient;
  const scheduler = inner(await ports.scheduler.loaded(), "options") as unknown as {
    scheduler: ConfiguredClient;
    lambda: ConfiguredClient;
  };
  return {
    dynamodb: inner(inner(ports.store, "documents"), "client"),
    secretsmanager: inner(await ports.secrets.loaded(), "client"),
    s3: inner(await ports.binaries.loaded(), "client"),
    scheduler: scheduler.scheduler,
    lambda: scheduler.lambda,
  };
}

const ENV = {
  EDP_RUNTIME: "aws",
  EDP_BINARY_BUCKET: "bucket",
  EDP_SCHEDULE_GROUP: "group",
  EDP_SCHEDULER_ROLE_ARN: "arn:aws:iam::123456789012:role/scheduler",
  EDP_RUN_FUNCTION_ARN: "arn:aws:lambda:us-east-1:123456789012:function:run",
};

/** Checked on the clients' own configuration, so no request is sent anywhere to show it. */
describe("18.1 the AWS-mode runtime reaches only the emulator it is given", () => {
  it("18.1 with EDP_AWS_ENDPOINT every client of the AWS ports resolves to that endpoint, with the credentials it is given", async () => {
    const settings = readSettings({ ...ENV, EDP_AWS_ENDPOINT: "http://127.0.0.1:4566" });
    const clients = await clientsOf(
      createAwsPorts(settings, { credentials: { accessKeyId: "emulator", secretAccessKey: "x" }, region: "us-east-1" }),
    );
    expect(Object.keys(clients)).toEqual(["dynamodb", "secretsmanager", "s3", "scheduler", "lambda"]);
    for (const [service, client] of Object.entries(clients)) {
      const endpoint = await client.config.endpoint?.();
      expect(endpoint, service).toMatchObject({ protocol: "http:", hostname: "127.0.0.1", port: 4566 });
      expect((await client.config.credentials()).accessKeyId, service).toBe("emulator");
    }
    // Buckets by path: a virtual-hosted name (bucket.127.0.0.1) would not reach the emulator.
    expect(clients.s3.config.forcePathStyle).toBe(true);
  });

  it("18.1 without it, the clients keep AWS's own endpoints (no override left behind for a deploy)", async () => {
    const clients = await clientsOf(createAwsPorts(readSettings(ENV), { region: "us-east-1" }));
    for (const [service, client] of Object.entries(clients)) expect(client.config.endpoint, service).toBeUndefined();
    expect(clients.s3.config.forcePathStyle).toBe(false);
  });
});
