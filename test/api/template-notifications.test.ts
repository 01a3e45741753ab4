import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { SIGNATURE_HEADER, verifyWebhook } from "@edp/core/notifications/webhook-signature";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, startTestApi, type TestApi } from "../support/api.js";
import { TestEngine, testEngineRegistration } from "../support/test-engine.js";
import { createJobChain, fireNextSlot } from "./fixtures.js";

interface Received {
  path: string;
  body: string;
  signature: string | undefined;
}

/** A webhook receiver on loopback that records what arrives and answers 200. */
async function startReceiver(): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      received.push({
        path: request.url ?? "",
        body: Buffer.concat(chunks).toString("utf8"),
        signature: request.headers[SIGNATURE_HEADER] as string | undefined,
      });
      response.writeHead(200, { "content-type": "text/plain" });
      response.end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Issue 12: a template's webhooks, subscribed by every run of it, through the API with dynalite. */
describe("12 template notifications", () => {
  let api: TestApi;
  let engine: TestEngine;
  let token: string;
  let chain: Awaited<ReturnType<typeof createJobChain>>;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;

  beforeAll(async () => {
    engine = new TestEngine();
    receiver = await startReceiver();
    api = await startTestApi({
      registrations: [testEngineRegistration(engine)],
      // The loopback receiver is allowed; plain http anywhere else is not.
      env: { EDP_ALLOW_DESTINATIONS: "127.0.0.1/32", EDP_WEBHOOK_RETRY_BASE_SECONDS: "0.5" },
    });
    ({ token } = await api.newProject());
    chain = await createJobChain(api, token);
  });
  afterAll(async () => {
    await api?.close();
    await receiver?.close();
  });

  const arrived = (path: string) => receiver.received.filter((r) => r.path === path);
  const newTemplate = (body: Record<string, unknown>) =>
    api.request("POST", "/v2/job-templates", {
      token,
      body: { name: `t-${Math.random().toString(36).slice(2, 8)}`, type: "Shell", mains: [chain.binaryId], ...body },
    });

  it("12.2 a run of a template delivers its events, signed, to the template's webhook as well as to its own", async () => {
    const created = await newTemplate({ notifications: [{ url: `${receiver.url}/template`, events: ["started", "succeeded"] }] });
    expect(created.status, created.text).toBe(202);
    const template = created.body.job_template;
    expect(template.notifications).toEqual([{ url: `${receiver.url}/template`, events: ["started", "succeeded"] }]);
    const shown = await api.request("GET", `/v2/job-templates/${template.id}`, { token });
    expect(shown.body.job_template.notifications).toEqual(template.notifications);

    const response = await api.request("POST", "/v2/jobs", {
      token,
      body: {
        cluster_id: chain.clusterId,
        job_template_id: template.id,
        job_configs: { job_execution_info: { notifications: [{ url: `${receiver.url}/own`, events: ["succeeded"] }] } },
      },
    });
    expect(response.status, response.text).toBe(202);
    const job = response.body.job;
    const webhooks = job.notifications as { id: string; url: string; events: string[]; secret: string }[];
    expect(webhooks.map((w) => w.url).sort()).toEqual([`${receiver.url}/own`, `${receiver.url}/template`]);
    const fromTemplate = webhooks.find((w) => w.url.endsWith("/template"))!;
    const own = webhooks.find((w) => w.url.endsWith("/own"))!;
    // Each subscription has its own signing secret, made for this run.
    expect(fromTemplate.secret).toMatch(/^whsec_/);
    expect(own.secret).toMatch(/^whsec_/);
    expect(fromTemplate.secret).not.toBe(own.secret);

    await eventually("started", async () => arrived("/template").length === 1);
    engine.statuses.set(job.id, "SUCCEEDED");
    await api.core.jobs.sweep();
    await eventually("succeeded", async () => arrived("/template").length === 2 && arrived("/own").length === 1);
    const got = arrived("/template");
    expect(got.map((r) => JSON.parse(r.body).event)).toEqual(["started", "succeeded"]);
    for (const request of got) {
      expect(verifyWebhook(fromTemplate.secret, request.signature, request.body)).toBe(true);
      expect(verifyWebhook(own.secret, request.signature, request.body)).toBe(false);
      expect(JSON.parse(request.body).execution).toMatchObject({ id: job.id, job_template_id: template.id });
    }
    expect(verifyWebhook(own.secret, arrived("/own")[0].signature, arrived("/own")[0].body)).toBe(true);

    // A second run gets a secret of its own for the template's webhook.
    const second = await api.request("POST", "/v2/jobs", { token, body: { cluster_id: chain.clusterId, job_template_id: template.id } });
    expect(second.status, second.text).toBe(202);
    expect(second.body.job.notifications).toHaveLength(1);
    expect(second.body.job.notifications[0].secret).not.toBe(fromTemplate.secret);

    // Another project's run of the template, once public, tells the template's owner nothing.
    await api.request("PATCH", `/v2/job-templates/${template.id}`, { token, body: { is_public: true } });
    const binary = await api.request("PATCH", `/v2/job-binaries/${chain.binaryId}`, { token, body: { is_public: true } });
    expect(binary.status, binary.text).toBe(202);
    const stranger = await api.newProject();
    const strangerChain = await createJobChain(api, stranger.token);
    const theirs = await api.request("POST", "/v2/jobs", {
      token: stranger.token,
      body: { cluster_id: strangerChain.clusterId, job_template_id: template.id },
    });
    expect(theirs.status, theirs.text).toBe(202);
    expect(theirs.body.job.notifications).toBeUndefined();

    // No secret is ever shown with the template or the jobs afterwards.
    for (const path of [`/v2/job-templates/${template.id}`, "/v2/job-templates", `/v2/jobs/${job.id}`]) {
      const text = (await api.request("GET", path, { token })).text;
      expect(text).not.toContain(fromTemplate.secret);
      expect(text).not.toContain("secret");
    }
  });

  it("12.2 every run of a recurring series delivers to the webhooks it was created with, signed with the secrets shown then", async () => {
    const created = await newTemplate({ notifications: [{ url: `${receiver.url}/series-template`, events: ["started", "succeeded"] }] });
    expect(created.status, created.text).toBe(202);
    const response = await api.request("POST", "/v2/jobs", {
      token,
      body: {
        cluster_id: chain.clusterId,
        job_template_id: created.body.job_template.id,
        job_configs: { job_execution_info: { notifications: [{ url: `${receiver.url}/series-own`, events: ["succeeded"] }] } },
        job_execution_info: {
          job_execution_type: "scheduled",
          start: new Date(Date.now() + 1000).toISOString(),
          interval: "rate(1 minute)",
        },
      },
    });
    expect(response.status, response.text).toBe(202);
    const first = response.body.job;
    const secretOf = (suffix: string) => first.notifications.find((w: { url: string }) => w.url.endsWith(suffix)).secret as string;
    await eventually("the first run", async () => engine.launches.includes(first.id), 10_000);

    const second = await fireNextSlot(api, first.series_id);
    expect(second.id).toBeDefined();
    expect(second.id).not.toBe(first.id);
    engine.statuses.set(second.id, "SUCCEEDED");
    await api.core.jobs.sweep();

    const ofSecond = (path: string) => arrived(path).filter((r) => JSON.parse(r.body).execution.id === second.id);
    await eventually(
      "the second run's events",
      async () => ofSecond("/series-template").length === 2 && ofSecond("/series-own").length === 1,
    );
    expect(ofSecond("/series-template").map((r) => JSON.parse(r.body).event)).toEqual(["started", "succeeded"]);
    for (const request of ofSecond("/series-template"))
      expect(verifyWebhook(secretOf("/series-template"), request.signature, request.body)).toBe(true);
    expect(verifyWebhook(secretOf("/series-own"), ofSecond("/series-own")[0].signature, ofSecond("/series-own")[0].body)).toBe(true);
    // Its ledger is its own, and no secret is shown with it.
    const ledger = await api.request("GET", `/v2/jobs/${second.id}/notifications`, { token });
    expect(ledger.status, ledger.text).toBe(200);
    expect(ledger.text).not.toContain("whsec_");
    const shown = await api.request("GET", `/v2/job-series/${first.series_id}`, { token });
    expect(shown.body.job_series.notifications.map((w: { url: string }) => w.url).sort()).toEqual([
      `${receiver.url}/series-own`,
      `${receiver.url}/series-template`,
    ]);
    expect(shown.text).not.toContain("whsec_");
    expect(shown.text).not.toContain("secret");
    expect((await api.request("DELETE", `/v2/job-series/${first.series_id}`, { token })).status).toBe(204);
  });

  it("12.2 a template's webhook URL passes the destination rule at creation and on PATCH", async () => {
    for (const url of ["http://10.0.0.5/hook", "https://169.254.169.254/latest", "ftp://127.0.0.1/x", "http://192.168.1.1/"]) {
      const refused = await newTemplate({ notifications: [{ url, events: ["started"] }] });
      expect(refused.status, url).toBe(400);
      expect(refused.body.error_message, url).toContain("refused");
    }
    const badSchema = await newTemplate({ notifications: [{ url: `${receiver.url}/x`, events: ["exploded"] }] });
    expect(badSchema.status).toBe(400);

    const created = await newTemplate({});
    expect(created.status, created.text).toBe(202);
    const id = created.body.job_template.id;
    expect(created.body.job_template.notifications).toBeUndefined();
    const refused = await api.request("PATCH", `/v2/job-templates/${id}`, {
      token,
      body: { notifications: [{ url: "http://10.0.0.5/hook", events: ["failed"] }] },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error_message).toContain("refused");
    // A refused PATCH changes nothing.
    expect((await api.request("GET", `/v2/job-templates/${id}`, { token })).body.job_template.notifications).toBeUndefined();

    const patched = await api.request("PATCH", `/v2/job-templates/${id}`, {
      token,
      body: { notifications: [{ url: `${receiver.url}/patched`, events: ["failed", "failed"] }] },
    });
    expect(patched.status, patched.text).toBe(202);
    expect(patched.body.job_template.notifications).toEqual([{ url: `${receiver.url}/patched`, events: ["failed"] }]);
    const run = await api.request("POST", "/v2/jobs", { token, body: { cluster_id: chain.clusterId, job_template_id: id } });
    expect(run.status, run.text).toBe(202);
    expect(run.body.job.notifications.map((w: { url: string }) => w.url)).toEqual([`${receiver.url}/patched`]);

    // `[]` removes them: later runs subscribe nothing.
    const cleared = await api.request("PATCH", `/v2/job-templates/${id}`, { token, body: { notifications: [] } });
    expect(cleared.status, cleared.text).toBe(202);
    expect(cleared.body.job_template.notifications).toBeUndefined();
    const quiet = await api.request("POST", "/v2/jobs", { token, body: { cluster_id: chain.clusterId, job_template_id: id } });
    expect(quiet.body.job.notifications).toBeUndefined();
  });
});
