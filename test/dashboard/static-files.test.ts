import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DASHBOARD_HEADERS } from "../../dashboard/security-headers.js";
import { serveDashboardFile } from "../../functions/src/local/static-files.js";

describe("the local server's dashboard files", () => {
  let base: string;
  let root: string;
  let server: Server;
  let url: string;

  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), "edp-static-"));
    root = join(base, "dist");
    await mkdir(join(root, "assets"), { recursive: true });
    await writeFile(join(root, "index.html"), "<!doctype html><title>EDP</title>");
    await writeFile(join(root, "assets", "index-abc.js"), "export {};");
    await writeFile(join(base, "secret.json"), '{"not": "served"}');
    server = createServer(async (request, response) => {
      const path = new URL(request.url ?? "/", "http://localhost").pathname;
      if (!(await serveDashboardFile(path, request.method ?? "GET", response, root))) response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await rm(base, { recursive: true, force: true });
  });

  it("14.1 serves index.html at / and the built assets, each with the strict headers", async () => {
    const index = await fetch(`${url}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(index.headers.get("cache-control")).toBe("no-cache");
    for (const [name, value] of Object.entries(DASHBOARD_HEADERS)) expect(index.headers.get(name)).toBe(value);
    expect(await index.text()).toContain("<title>EDP</title>");
    const script = await fetch(`${url}/assets/index-abc.js`);
    expect(script.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(script.headers.get("cache-control")).toContain("immutable");
    expect(script.headers.get("x-content-type-options")).toBe("nosniff");
  });

  it("14.1 never reads outside the built folder, nor serves what is not a dashboard file", async () => {
    for (const path of ["/..%2fsecret.json", "/assets/..%2f..%2fsecret.json", "/%2e%2e/secret.json", "/nothing.js", "/assets"]) {
      const response = await fetch(`${url}${path}`);
      expect(response.status, path).toBe(404);
    }
    expect((await fetch(`${url}/`, { method: "POST" })).status).toBe(404);
  });
});
