import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { DestinationRule } from "@edp/core/net/destinations";
import { SIGNATURE_HEADER, verifyWebhook } from "@edp/core/notifications/webhook-signature";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { eventually, startTestApi, type TestApi } from "../support/api.js";
import { TestEngine, testEngineRegistration } from "../support/test-engine.js";
import { createJobChain } from "./fixtures.js";

interface Received {
  path: string;
  body: string;
  signature: string | undefined;
  eventId: string | undefined;
}

interface Receiver {
  url: string;
  received: Received[];
  /** Answers for the next requests, in order; 200 once they run out. */
  answers: number[];
  close(): Promise<void>;
}

/** A webhook receiver on loopback that records what arrives and answers as told. */
async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const answers: number[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      received.push({
        path: request.url ?? "",
        body: Buffer.concat(chunks).toString("utf8"),
        signature: request.headers[SIGNATURE_HEADER] as string | undefined,
        eventId: request.headers["x-edp-event-id"] as string | undefined,
      });
      response.writeHead(answers.shift() ?? 200, { "content-type": "text/plain" });
      response.end("a receiver's body, never kept");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    answers,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Issue 12 through the API, with a controllable engine and dynalite. */
describe("12 notifications", () => {
  let api: TestApi;
  let engine: TestEngine;
  let token: string;
  let chain: Awaited<ReturnType<typeof createJobChain>>;
  let receiver: Receiver;

  beforeAll(async () => {
    engine = new TestEngine();
    receiver = await startReceiver();
    api = await startTestApi({
      registrations: [testEngineRegistration(engine)],
      // The loopback receiver is allowed; plain http anywhere else is not.
      env: { EDP_CALLBACK_WINDOW_SECONDS: "1", EDP_ALLOW_DESTINATIONS: "127.0.0.1/32", EDP_WEBHOOK_RETRY_BASE_SECONDS: "0.5" },
    });
    ({ token } = await api.newProject());
    chain = await createJobChain(api, token);
  });
  afterAll(async () => {
    await api?.close();
    await receiver?.close();
  });

  const create = async (body: Record<string, unknown> = {}) => {
    const response = await api.request("POST", "/v2/jobs", {
      token,
      body: { cluster_id: chain.clusterId, job_template_id: chain.templateId, ...body },
    });
    expect(response.status, response.text).toBe(202);
    return response.body.job;
  };
  const running = async (body: Record<string, unknown> = {}) => {
    const job = await create(body);
    await eventually("RUNNING", async () => (await api.request("GET", `/v2/jobs/${job.id}`, { token })).body.job.info.status === "RUNNING");
    return job;
  };

  describe("12.3 conditional reads", () => {
    it("12.3 GET /v2/jobs/{id} carries an ETag and answers If-None-Match with 304 until the job changes", async () => {
      const job = await running();
      const first = await api.request("GET", `/v2/jobs/${job.id}`, { token });
      const etag = first.headers.get("etag");
      expect(etag).toMatch(/^W\/"[A-Za-z0-9_-]+"$/);
      const again = await api.request("GET", `/v2/jobs/${job.id}`, { token, headers: { "if-none-match": etag! } });
      expect(again.status).toBe(304);
      expect(again.text).toBe("");
      expect(again.headers.get("etag")).toBe(etag);
      // A list of tags, one of them this one, and `*`, match too; another tag does not.
      expect((await api.request("GET", `/v2/jobs/${job.id}`, { token, headers: { "if-none-match": `"other", ${etag}` } })).status).toBe(
        304,
      );
      expect((await api.request("GET", `/v2/jobs/${job.id}`, { token, headers: { "if-none-match": "*" } })).status).toBe(304);
      expect((await api.request("GET", `/v2/jobs/${job.id}`, { token, headers: { "if-none-match": '"other"' } })).status).toBe(200);

      engine.statuses.set(job.id, "SUCCEEDED");
      await api.core.jobs.sweep();
      const changed = await api.request("GET", `/v2/jobs/${job.id}`, { token, headers: { "if-none-match": etag! } });
      expect(changed.status).toBe(200);
      expect(changed.body.job.info.status).toBe("SUCCEEDED");
      expect(changed.headers.get("etag")).not.toBe(etag);
    });

    it("12.3 GET /v2/jobs carries an ETag and answers If-None-Match with 304 until the list changes", async () => {
      const first = await api.request("GET", "/v2/jobs", { token });
      const etag = first.headers.get("etag")!;
      expect(etag).toBeTruthy();
      expect((await api.request("GET", "/v2/jobs", { token, headers: { "if-none-match": etag } })).status).toBe(304);
      // The tag is of this page: another query is another body.
      expect((await api.request("GET", "/v2/jobs?status=killed", { token, headers: { "if-none-match": etag } })).status).toBe(200);
      await create();
      const changed = await api.request("GET", "/v2/jobs", { token, headers: { "if-none-match": etag } });
      expect(changed.status).toBe(200);
      expect(changed.headers.get("etag")).not.toBe(etag);
    });

    it("12.3 another project's job is still a 404, whatever If-None-Match says", async () => {
      const job = await running();
      const etag = (await api.request("GET", `/v2/jobs/${job.id}`, { token })).headers.get("etag")!;
      const stranger = await api.newProject();
      const hidden = await api.request("GET", `/v2/jobs/${job.id}`, { token: stranger.token, headers: { "if-none-match": etag } });
      expect(hidden.status).toBe(404);
    });
  });

  describe("12.2 webhooks", () => {
    beforeEach(() => {
      receiver.answers.length = 0;
    });

    const subscribe = async (path: string, events: string[]) => {
      const job = await create({ job_configs: { job_execution_info: { notifications: [{ url: `${receiver.url}${path}`, events }] } } });
      expect(job.notifications).toHaveLength(1);
      return { job, webhook: job.notifications[0] as { id: string; secret: string; url: string; events: string[] } };
    };
    const arrived = (path: string) => receiver.received.filter((r) => r.path === path);
    const ledger = async (id: string) => {
      const response = await api.request("GET", `/v2/jobs/${id}/notifications`, { token });
      expect(response.status, response.text).toBe(200);
      return response.body.notifications as Record<string, unknown>[];
    };

    it("12.2 a receiver that verifies signatures sees each subscribed event exactly once per delivery", async () => {
      const { job, webhook } = await subscribe("/once", ["started", "succeeded"]);
      expect(webhook.secret).toMatch(/^whsec_/);
      // Write-only: the secret is never shown again.
      const shown = await api.request("GET", `/v2/jobs/${job.id}`, { token });
      expect(shown.text).not.toContain(webhook.secret);
      await eventually("started", async () => arrived("/once").length === 1);
      engine.statuses.set(job.id, "SUCCEEDED");
      await api.core.jobs.sweep();
      await eventually("succeeded", async () => arrived("/once").length === 2);
      await new Promise((resolve) => setTimeout(resolve, 500));
      const got = arrived("/once");
      expect(got).toHaveLength(2);
      for (const request of got) expect(verifyWebhook(webhook.secret, request.signature, request.body)).toBe(true);
      // A forged or altered body does not verify.
      expect(verifyWebhook(webhook.secret, got[0].signature, got[0].body.replace("started", "killed"))).toBe(false);
      expect(verifyWebhook("whsec_other", got[0].signature, got[0].body)).toBe(false);
      const events = got.map((request) => JSON.parse(request.body));
      expect(events.map((e) => e.event)).toEqual(["started", "succeeded"]);
      expect(events[1]).toMatchObject({ execution: { id: job.id, status: "SUCCEEDED", attempt: 1 } });
      expect(events[1].execution.end_time).toBeTruthy();
      expect(new Set(events.map((e) => e.id)).size).toBe(2);
      expect(got.map((r) => r.eventId)).toEqual(events.map((e) => e.id));
      const entries = await ledger(job.id);
      expect(entries).toHaveLength(2);
      expect(entries.every((entry) => entry.delivered === true && entry.status_code === 200 && entry.attempt === 1)).toBe(true);
      // Response bodies are never stored or echoed.
      expect(JSON.stringify(entries)).not.toContain("never kept");
    });

    it("12.2 a receiver that answers 500 twice and then 200 shows three ledger entries and one success", async () => {
      receiver.answers.push(500, 500);
      const { job } = await subscribe("/flaky", ["started"]);
      await eventually("three attempts", async () => arrived("/flaky").length === 3, 20_000);
      const entries = await eventually("the ledger's third entry", async () => {
        const found = await ledger(job.id);
        return found.length === 3 && found;
      });
      expect(entries.map((entry) => entry.attempt)).toEqual([1, 2, 3]);
      expect(entries.map((entry) => entry.status_code)).toEqual([500, 500, 200]);
      expect(entries.filter((entry) => entry.delivered)).toHaveLength(1);
      expect(new Set(entries.map((entry) => entry.delivery_id)).size).toBe(1);
      expect(entries[0].next_retry_at).toBeTruthy();
      expect(entries[1].next_retry_at).toBeTruthy();
      expect(entries[2].next_retry_at).toBeUndefined();
      // Every retry carries the same event.
      expect(new Set(arrived("/flaky").map((r) => r.eventId)).size).toBe(1);
    });

    it("12.2 redelivery sends the delivery's event again as its next attempt", async () => {
      const { job, webhook } = await subscribe("/again", ["started"]);
      await eventually("the first delivery", async () => (await ledger(job.id)).length === 1);
      const [first] = await ledger(job.id);
      const redelivered = await api.request("POST", `/v2/jobs/${job.id}/notifications/${first.delivery_id}/redeliver`, { token });
      expect(redelivered.status, redelivered.text).toBe(202);
      await eventually("the redelivery", async () => (await ledger(job.id)).length === 2);
      const entries = await ledger(job.id);
      expect(entries[1]).toMatchObject({ delivery_id: first.delivery_id, attempt: 2, delivered: true, status_code: 200 });
      const got = arrived("/again");
      expect(got).toHaveLength(2);
      expect(got[1].eventId).toBe(got[0].eventId);
      expect(verifyWebhook(webhook.secret, got[1].signature, got[1].body)).toBe(true);
      // An unknown delivery is a 404; another project sees neither the ledger nor the delivery.
      const unknown = await api.request("POST", `/v2/jobs/${job.id}/notifications/${crypto.randomUUID()}/redeliver`, { token });
      expect(unknown.status).toBe(404);
      const stranger = await api.newProject();
      expect((await api.request("GET", `/v2/jobs/${job.id}/notifications`, { token: stranger.token })).status).toBe(404);
      const hidden = await api.request("POST", `/v2/jobs/${job.id}/notifications/${first.delivery_id}/redeliver`, {
        token: stranger.token,
      });
      expect(hidden.status).toBe(404);
    });

    it("12.2 overdue: a job still running past its edp.timeout is told once, then killed", async () => {
      const job = await create({
        job_configs: {
          configs: { "edp.timeout": 1 },
          job_execution_info: { notifications: [{ url: `${receiver.url}/overdue`, events: ["overdue", "killed"] }] },
        },
      });
      await eventually("overdue and killed", async () => arrived("/overdue").length >= 2, 15_000);
      // The sweep meets the deadline again: no second overdue.
      await api.core.jobs.sweep();
      await new Promise((resolve) => setTimeout(resolve, 500));
      const events = arrived("/overdue").map((r) => JSON.parse(r.body));
      expect(events.map((e) => e.event)).toEqual(["overdue", "killed"]);
      expect(events[0].execution).toMatchObject({ id: job.id, status: "RUNNING" });
      expect(events[1].execution.status).toBe("KILLED");
    });

    it("12.2 a webhook URL pointing at a private address is refused at creation with a 400, and again at delivery after a DNS change", async () => {
      for (const url of [
        "http://10.0.0.5/hook",
        "https://169.254.169.254/latest",
        "https://[fd00::1]/hook",
        "ftp://127.0.0.1/x",
        "http://192.168.1.1/",
      ]) {
        const refused = await api.request("POST", "/v2/jobs", {
          token,
          body: {
            cluster_id: chain.clusterId,
            job_template_id: chain.templateId,
            job_configs: { job_execution_info: { notifications: [{ url, events: ["started"] }] } },
          },
        });
        expect(refused.status, url).toBe(400);
        expect(refused.body.error_message, url).toContain("refused");
      }
      // A name that resolves to the receiver at creation, then to a private address (a resolver stub: no DNS).
      const addresses = new Map([["hooks.example.test", "127.0.0.1"]]);
      const original = api.core.jobs.webhooks!.destinations;
      api.core.jobs.webhooks!.destinations = new DestinationRule(["127.0.0.1/32"], async (host) => {
        const address = addresses.get(host);
        if (!address) throw Object.assign(new Error("not found"), { code: "ENOTFOUND" });
        return [{ address, family: 4 }];
      });
      try {
        const port = new URL(receiver.url).port;
        let release: () => void = () => {};
        engine.launchGate = new Promise((resolve) => {
          release = resolve;
        });
        const job = await create({
          job_configs: {
            job_execution_info: { notifications: [{ url: `http://hooks.example.test:${port}/renamed`, events: ["started"] }] },
          },
        });
        addresses.set("hooks.example.test", "10.0.0.7");
        release();
        const entries = await eventually("the refused delivery", async () => {
          const found = await ledger(job.id);
          return found.length >= 1 && found;
        });
        expect(entries[0].delivered).toBe(false);
        expect(String(entries[0].error)).toMatch(/10\.0\.0\.7 is a private address/);
        expect(arrived("/renamed")).toHaveLength(0);
      } finally {
        engine.launchGate = undefined;
        api.core.jobs.webhooks!.destinations = original;
      }
    });
  });
});
