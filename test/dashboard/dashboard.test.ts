import { mkdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Browser, launchChromium } from "../support/chromium.js";
import { type RunningEdp, startEdp } from "../support/local-runtime.js";
import { requireTools, TOOLS } from "../support/tools.js";

const root = new URL("../..", import.meta.url).pathname;
const SCREENSHOTS = join(root, "test/dashboard/screenshots");
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const HOSTILE = "<img src=x onerror=alert(1)>";

/**
 * Requests the flow makes on purpose and expects to fail: the template with a bad name
 * (the validation error test), and the placement hints the dispatcher (issue 13) adds,
 * which the dashboard asks for and does without where the API has none yet.
 */
function expectedFailure(method: string, url: string, status: number): boolean {
  const path = new URL(url).pathname;
  if (status === 400 && method === "POST" && path === "/v2/job-templates") return true;
  if (status === 404 && method === "GET" && /^\/v2\/job-templates\/[^/]+\/placement$/.test(path)) return true;
  return false;
}

/** expect.poll with room for a loaded 2-core machine: the page is watched until it shows what is asserted. */
function poll<T>(read: () => T | Promise<T>, options: { timeout?: number } = {}) {
  return expect.poll(read, { timeout: 15_000, interval: 100, ...options });
}

const tools = requireTools(TOOLS.chromium);

let edp: RunningEdp;
let dataDir: string;

beforeAll(async () => {
  if (!tools.run) return;
  tools.assertPresent();
  mkdirSync(SCREENSHOTS, { recursive: true });
  dataDir = await mkdtemp(join(tmpdir(), "edp-dashboard-"));
  edp = await startEdp(dataDir);
});

afterAll(async () => {
  await edp?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe.runIf(tools.run).each([
  { width: 1280, label: "desktop" },
  { width: 390, label: "phone" },
])("the dashboard at $width px, in a real Chromium against npm start", ({ width, label }) => {
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];
  const failedRequests: string[] = [];
  const dialogs: string[] = [];
  const accessibility: { page: string; violations: { id: string; impact: string; nodes: number }[] }[] = [];
  const name = `hello-${width}`;

  async function shoot(what: string) {
    // A page is judged once it has read what it shows.
    await poll(() => page.getByText("Loading…").count()).toBe(0);
    await page.screenshot({ path: join(SCREENSHOTS, `${label}-${what}.png`), fullPage: true });
    await page.evaluate(axeSource);
    const result = (await page.evaluate(() =>
      (
        globalThis as unknown as { axe: { run(o: unknown): Promise<{ violations: { id: string; impact: string; nodes: unknown[] }[] }> } }
      ).axe.run({ resultTypes: ["violations"] }),
    )) as { violations: { id: string; impact: string; nodes: unknown[] }[] };
    accessibility.push({
      page: what,
      violations: result.violations
        .filter((v) => v.impact === "serious" || v.impact === "critical")
        .map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length })),
    });
  }

  beforeAll(async () => {
    browser = await launchChromium(width);
    page = await browser.context.newPage();
    page.on("console", (message) => {
      if (message.type() !== "error") return;
      // Chromium logs every 4xx/5xx answer; those are judged below, request by request.
      if (/^Failed to load resource: the server responded with a status of/.test(message.text())) return;
      consoleErrors.push(message.text());
    });
    page.on("pageerror", (error) => consoleErrors.push(String(error)));
    page.on("dialog", (dialog) => {
      dialogs.push(dialog.message());
      dialog.dismiss();
    });
    page.on("requestfailed", (request) => {
      // A poll cut short by leaving its page is the browser's doing, not a failure of the API.
      if (request.failure()?.errorText === "net::ERR_ABORTED") return;
      failedRequests.push(`${request.method()} ${request.url()}: ${request.failure()?.errorText}`);
    });
    page.on("response", (response) => {
      const request = response.request();
      if (response.status() >= 400 && !expectedFailure(request.method(), response.url(), response.status()))
        failedRequests.push(`${request.method()} ${response.url()}: ${response.status()}`);
    });
  });

  afterAll(async () => {
    await browser?.close();
  });

  it(`14.1 (${width} px) serves the dashboard at the printed URL with strict headers, and signs in with the printed token`, async () => {
    const response = await page.goto(edp.url);
    expect(response?.status()).toBe(200);
    const headers = response!.headers();
    expect(headers["content-security-policy"]).toContain("script-src 'self'");
    expect(headers["content-security-policy"]).not.toContain("unsafe-inline");
    expect(headers["content-security-policy"]).toContain("frame-ancestors 'none'");
    expect(headers["x-content-type-options"]).toBe("nosniff");

    await poll(() => page.getByRole("heading", { name: "Sign in to EDP" }).isVisible()).toBe(true);
    await shoot("sign-in");
    await page.getByLabel("Token").fill("not-the-token-at-all");
    await page.getByRole("button", { name: "Sign in" }).click();
    await poll(() => page.getByRole("alert").textContent()).toContain("not accepted");
    failedRequests.splice(0); // that 401 was asked for

    await page.getByLabel("Token").fill(edp.token);
    await page.getByRole("button", { name: "Sign in" }).click();
    await poll(() => page.getByRole("heading", { name: "Jobs", level: 1 }).isVisible()).toBe(true);
    expect(await page.evaluate('sessionStorage.getItem("edp.token")')).toBe(edp.token);
    expect(page.url()).not.toContain(edp.token);
    if (width === 1280) await poll(() => page.getByText("No jobs yet").isVisible()).toBe(true);
    await shoot("jobs-empty");
  });

  it(`14.3 (${width} px) uploads a script and creates a Shell template, showing a validation error next to its field first`, async () => {
    await page.getByRole("navigation", { name: "Pages" }).getByRole("link", { name: "Templates" }).click();
    await page.getByRole("button", { name: "New template" }).click();
    const form = page.getByRole("form", { name: "New template" });
    await form.getByLabel("Name", { exact: true }).fill("bad name");
    await form.getByLabel("Description").fill(HOSTILE);
    await form.getByLabel("…or upload a main").setInputFiles({
      name: `hello-${width}.sh`,
      mimeType: "text/x-sh",
      // The README quickstart's script: a shell parameter expansion, not a template placeholder.
      // biome-ignore lint/suspicious/noTemplateCurlyInString: shell syntax
      buffer: Buffer.from('echo "hello, $GREETING"; echo "args: $@"; sleep "${NAP:-0}"\n'),
    });
    await form.getByRole("button", { name: "Create template" }).click();
    // The API's message, shown beside the Name field, not as a page-wide banner.
    const nameField = form.locator(".field", { has: page.getByText("Name", { exact: true }) });
    await poll(() => nameField.locator(".field-error").textContent()).toContain("must start with a letter or digit");
    expect(await form.locator(".error").count()).toBe(0);
    // The uploaded script stays chosen as the main, so fixing the name is all it takes.
    await poll(() => form.getByLabel("Mains (stored binaries)").inputValue()).not.toBe("");
    await shoot("template-form-error");

    await form.getByLabel("Name", { exact: true }).fill(name);
    await form.getByRole("button", { name: "Create template" }).click();
    await poll(() => page.getByRole("heading", { name, level: 1 }).isVisible()).toBe(true);
    // The description is text: the hostile markup reads as written and no <img> was made of it.
    expect(await page.locator(".description").textContent()).toBe(HOSTILE);
    expect(await page.locator("main img").count()).toBe(0);
    expect(await page.getByText(`hello-${width}.sh`).count()).toBeGreaterThan(0);
  });

  it(`14.2 (${width} px) runs it on the local cluster and watches it turn SUCCEEDED without reloading, with "hello" in its output`, async () => {
    await page.getByRole("link", { name: "Run it" }).click();
    await poll(() => page.getByRole("heading", { name: "Run a job" }).isVisible()).toBe(true);
    await poll(() => page.getByLabel("Template").inputValue()).not.toBe("");
    await poll(() => page.getByRole("radio", { name: /^local\b/ }).isChecked()).toBe(true);
    await page.getByLabel("Params, one NAME=value per line").fill("GREETING=world");
    await page.getByLabel("Arguments, one per line").fill(`${HOSTILE}\ntwo`);
    await shoot("run");
    const navigations: string[] = [];
    page.on("framenavigated", (frame) => frame === page.mainFrame() && navigations.push(frame.url()));
    await page.getByRole("button", { name: "Run", exact: true }).click();
    await poll(() => page.url()).toMatch(/#\/jobs\/[0-9a-f-]{36}$/);
    await poll(() => page.locator("h1 .status").textContent(), { timeout: 60_000 }).toContain("SUCCEEDED");
    await expect
      .poll(() => page.getByRole("region", { name: "stdout of the job" }).textContent(), { timeout: 20_000 })
      .toContain("hello, world");
    // Watched in place: the hash changed once (to the job), the document never reloaded.
    expect(navigations.every((url) => url.startsWith(edp.url))).toBe(true);
    expect(await page.evaluate('performance.getEntriesByType("navigation").length')).toBe(1);
    // The argument is shown as text, and nothing ran.
    expect(await page.locator(".args li").first().textContent()).toBe(HOSTILE);
    expect(await page.locator("main img").count()).toBe(0);
    expect(dialogs).toEqual([]);
    expect(await page.getByText("Submitted").count()).toBe(1);
    await shoot("job-succeeded");
  });

  it(`14.2 (${width} px) runs a long one and cancels it to KILLED from its page, after a confirmation`, async () => {
    await page.goto(`${edp.url}/#/templates`);
    await page.getByRole("link", { name }).click();
    await page.getByRole("link", { name: "Run it" }).click();
    await poll(() => page.getByRole("radio", { name: /^local\b/ }).isChecked()).toBe(true);
    await page.getByLabel("Params, one NAME=value per line").fill("NAP=600");
    await page.getByRole("button", { name: "Run", exact: true }).click();
    await poll(() => page.locator("h1 .status").textContent(), { timeout: 60_000 }).toContain("RUNNING");
    await shoot("job-running");
    await page.getByRole("button", { name: "Cancel job…" }).click();
    await poll(() => page.getByRole("alertdialog").textContent()).toContain("Cancel this job?");
    await page.getByRole("button", { name: "Yes, cancel it" }).click();
    // KILLED itself, not TOBEKILLED on the way there.
    await poll(() => page.locator("h1 .status").textContent(), { timeout: 60_000 }).toBe("■ KILLED");
    expect(await page.getByRole("button", { name: "Cancel job…" }).count()).toBe(0);
  });

  it(`14.2 (${width} px) heads the list with counts by status and filters it by status, with the filter in the URL`, async () => {
    await page.getByRole("navigation", { name: "Pages" }).getByRole("link", { name: "Jobs", exact: true }).click();
    const counts = page.getByRole("list", { name: "Jobs by status" });
    await poll(() => counts.textContent()).toMatch(/\d+\s*✓ SUCCEEDED/);
    await poll(() => counts.textContent()).toMatch(/\d+\s*■ KILLED/);
    await poll(() => page.getByText(/Last refreshed/).isVisible()).toBe(true);
    await shoot("jobs");
    await page.locator("select[name=status]").selectOption("SUCCEEDED");
    await poll(() => page.url()).toContain("status=SUCCEEDED");
    await expect
      .poll(async () => (await page.locator("table.jobs tbody .status").allTextContents()).join(","))
      .toMatch(/^(✓ SUCCEEDED,?)+$/);
    // The filter lives in the URL: opened afresh, the page shows the same filtered list.
    await page.reload();
    await poll(() => page.locator("select[name=status]").inputValue()).toBe("SUCCEEDED");
    await poll(async () => (await page.locator("table.jobs tbody tr").count()) > 0).toBe(true);
    expect(await page.locator("table.jobs tbody").textContent()).not.toContain("KILLED");
    // The template name is a link and text, never markup.
    await poll(() => page.locator("table.jobs").getByRole("link", { name }).count()).toBeGreaterThan(0);
  });

  it(`14.4 (${width} px) shows the other pages, each with what to do next`, async () => {
    for (const [link, heading, what] of [
      ["Templates", "Templates", "templates"],
      ["Binaries", "Binaries", "binaries"],
      ["Data sources", "Data sources", "data-sources"],
      ["Clusters", "Clusters", "clusters"],
    ] as const) {
      await page.getByRole("navigation", { name: "Pages" }).getByRole("link", { name: link, exact: true }).click();
      await poll(() => page.getByRole("heading", { name: heading, level: 1 }).isVisible()).toBe(true);
      await page.waitForLoadState("networkidle");
      await shoot(what);
    }
    await poll(() => page.locator("table").textContent()).toContain("local");
    // The script uploaded in the template form is a stored binary, listed on its page.
    await page.getByRole("navigation", { name: "Pages" }).getByRole("link", { name: "Binaries", exact: true }).click();
    await poll(() => page.locator("table").textContent()).toContain(`hello-${width}.sh`);
    // A row's delete asks first, and "Keep" keeps the binary.
    const row = page.locator("tr", { hasText: `hello-${width}.sh` });
    await row.getByRole("button", { name: "Delete…" }).click();
    await row.getByRole("button", { name: "Keep" }).click();
    await poll(() => row.getByRole("button", { name: "Delete…" }).isVisible()).toBe(true);
    await page.getByRole("navigation", { name: "Pages" }).getByRole("link", { name: "Templates", exact: true }).click();
    await page.getByRole("link", { name }).click();
    await poll(() => page.getByRole("list", { name: "Last runs, newest first" }).textContent()).toContain("SUCCEEDED");
    await shoot("template");
  });

  it(`16.3 (${width} px) re-runs a job exactly from its page, which shows the snapshot and a diff against another run`, async () => {
    const listed = await fetch(`${edp.url}/v2/jobs?status=SUCCEEDED`, { headers: { "X-Auth-Token": edp.token } });
    const succeeded = ((await listed.json()) as { jobs: { id: string; snapshot?: { code: { mains: { name: string }[] } } }[] }).jobs.find(
      (job) => job.snapshot?.code.mains[0]?.name === `${name}.sh`,
    );
    expect(succeeded).toBeDefined();
    await page.goto(`${edp.url}/#/jobs/${succeeded!.id}`);
    await poll(() => page.getByRole("table", { name: "What the run ran" }).textContent()).toContain(`${name}.sh`);
    await page.getByRole("button", { name: "Re-run exactly" }).click();
    await poll(() => page.url()).not.toContain(succeeded!.id);
    await poll(() => page.getByText("Re-run (exact) of").isVisible()).toBe(true);
    await poll(() => page.locator("h1 .status").textContent(), { timeout: 60_000 }).toContain("SUCCEEDED");
    await poll(() => page.getByRole("table", { name: "What the run ran" }).textContent()).toContain(`${name}.sh`);
    await poll(() => page.getByRole("heading", { name: "Compare with another run" }).isVisible()).toBe(true);
    // Compared with the run it re-ran: the same code, configs and cluster, and the same outcome.
    await poll(() => page.getByRole("combobox", { name: "Other run" }).inputValue()).toBe(succeeded!.id);
    await poll(() => page.getByText("Both runs ran the same code").isVisible()).toBe(true);
    await shoot("job-rerun");
  });

  it(`14.1 (${width} px) signs out, forgetting the token`, async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await poll(() => page.getByRole("heading", { name: "Sign in to EDP" }).isVisible()).toBe(true);
    expect(await page.evaluate('sessionStorage.getItem("edp.token")')).toBeNull();
  });

  it(`14.5 (${width} px) had no console errors, no failed requests and no serious or critical accessibility violations on any page`, () => {
    expect(consoleErrors).toEqual([]);
    expect(failedRequests).toEqual([]);
    expect(accessibility.length).toBeGreaterThanOrEqual(10);
    expect(accessibility.filter((a) => a.violations.length > 0)).toEqual([]);
  });
});
