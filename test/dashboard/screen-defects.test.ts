import { mkdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Locator, Page, Route } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Browser, launchChromium } from "../support/chromium.js";
import { ed25519KeyPair } from "../support/keys.js";
import { type RunningEdp, startEdp } from "../support/local-runtime.js";
import { requireTools, TOOLS } from "../support/tools.js";

/**
 * Defects a person saw in the dashboard's screenshots (issue 17, "17-ui"), each measured in the
 * page rather than looked at: what is laid out where, from bounding boxes in a real Chromium.
 */

const root = new URL("../..", import.meta.url).pathname;
const SCREENSHOTS = join(root, "test/dashboard/screenshots");
const PHONE = 390;

function poll<T>(read: () => T | Promise<T>, options: { timeout?: number } = {}) {
  return expect.poll(read, { timeout: 15_000, interval: 100, ...options });
}

const tools = requireTools(TOOLS.chromium);

describe.runIf(tools.run)("17-ui the dashboard's screens, measured in a real Chromium against npm start", () => {
  let edp: RunningEdp;
  let dataDir: string;
  let browser: Browser;
  let page: Page;
  let jobId: string;
  let differingId: string;
  let comparedTemplateId: string;

  async function call<T>(method: string, path: string, body?: unknown, contentType = "application/json"): Promise<T> {
    const response = await fetch(`${edp.url}${path}`, {
      method,
      headers: { "X-Auth-Token": edp.token, "Content-Type": contentType },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    return JSON.parse(text) as T;
  }

  async function signIn() {
    await page.goto(edp.url);
    await page.getByLabel("Token").fill(edp.token);
    await page.getByRole("button", { name: "Sign in" }).click();
    // Playwright's own wait: this runs in a hook, where expect.poll may not.
    await page.getByRole("heading", { name: "Jobs", level: 1 }).waitFor({ timeout: 15_000 });
  }

  async function open(hash: string, heading: string) {
    await page.goto(`${edp.url}/#${hash}`);
    await poll(() => page.getByRole("heading", { name: heading, level: 1 }).isVisible()).toBe(true);
    await poll(() => page.getByText("Loading…").count()).toBe(0);
  }

  beforeAll(async () => {
    tools.assertPresent();
    mkdirSync(SCREENSHOTS, { recursive: true });
    dataDir = await mkdtemp(join(tmpdir(), "edp-dashboard-screens-"));
    edp = await startEdp(dataDir);
    // Something on every list page: a binary, a template, a data source and a job that ran on `local`.
    const stored = await call<{ job_binary_internal: { id: string } }>(
      "PUT",
      "/v2/job-binary-internals/screens.sh",
      'echo "screens"\n',
      "application/octet-stream",
    );
    const { job_binary } = await call<{ job_binary: { id: string } }>("POST", "/v2/job-binaries", {
      name: "screens.sh",
      url: `internal-db://${stored.job_binary_internal.id}`,
    });
    const template = async (name: string) =>
      (await call<{ job_template: { id: string } }>("POST", "/v2/job-templates", { name, type: "Shell", mains: [job_binary.id] }))
        .job_template.id;
    await call("POST", "/v2/data-sources", {
      name: "daily-input",
      type: "hdfs",
      url: "hdfs://namenode.invalid:8020/user/analytics/inputs/2026/12/01/events-part-00000.parquet",
      description: "The day's events as the collectors wrote them",
    });
    const { clusters } = await call<{ clusters: { id: string; name: string }[] }>("GET", "/v2/clusters");
    const local = clusters.find((c) => c.name === "local")!;
    const run = async (templateId: string, greeting: string) => {
      const { job } = await call<{ job: { id: string } }>("POST", "/v2/jobs", {
        job_template_id: templateId,
        cluster_id: local.id,
        job_configs: { params: { GREETING: greeting } },
      });
      // expect.poll belongs to tests; a hook waits by itself.
      for (let status = "", deadline = Date.now() + 60_000; status !== "SUCCEEDED"; await new Promise((r) => setTimeout(r, 200))) {
        status = (await call<{ job: { info: { status: string } } }>("GET", `/v2/jobs/${job.id}`)).job.info.status;
        if (Date.now() > deadline || ["FAILED", "KILLED", "DONEWITHERROR"].includes(status)) throw new Error(`the seed job is ${status}`);
      }
      return job.id;
    };
    jobId = await run(await template("screens"), "phone");
    // Two runs of a template of their own that differ in a param, so a job page shows the table of differences.
    const compared = await template("screens-compared");
    comparedTemplateId = compared;
    await run(compared, "first, a greeting long enough to need more than one line on a phone");
    differingId = await run(compared, "second");
    browser = await launchChromium(PHONE);
    page = await browser.context.newPage();
    await signIn();
  });

  afterAll(async () => {
    await browser?.close();
    await edp?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  /** A spark cluster to register whose SSH master is whatever listens (or nothing) on this loopback port. */
  function sshClusterAt(name: string, port: number) {
    // A host key and a login key of their own: no check here gets far enough to use either.
    const connection = { mode: "ssh", host: "127.0.0.1", port, user: "edp" };
    return {
      name,
      plugin_name: "spark",
      plugin_version: "3.5.0",
      connection: { ...connection, host_key: ed25519KeyPair().public, private_key: ed25519KeyPair().private },
    };
  }

  /** The vertical space between the bottom of one thing on the page and the top of the next, in px. */
  async function gapBetween(above: Locator, below: Locator): Promise<number> {
    const a = (await above.boundingBox())!;
    const b = (await below.boundingBox())!;
    return Math.round(b.y - (a.y + a.height));
  }

  /**
   * What is wrong with the page's tables at its width, from bounding boxes: a table that scrolls
   * sideways, a cell or a line of its text past the viewport's edges, a cell whose content box is
   * narrower than six characters of its font, and text broken into lines of a few characters each.
   */
  function tableProblems(): Promise<string[]> {
    return page.evaluate(`(() => {
      const width = document.documentElement.clientWidth;
      const problems = [];
      // Words kept for screen readers only (in a 1 px clipped box) are not laid out for the eye.
      const forScreenReadersOnly = (element) => {
        for (let e = element; e; e = e.parentElement) {
          const r = e.getBoundingClientRect();
          const s = getComputedStyle(e);
          if ((r.width <= 1 || r.height <= 1) && (s.overflow !== "visible" || s.clip !== "auto")) return true;
        }
        return !element.checkVisibility();
      };
      const charWidth = (element) => {
        const probe = document.createElement("span");
        probe.textContent = "0000000000";
        probe.style.cssText = "position:absolute;visibility:hidden;white-space:nowrap";
        element.appendChild(probe);
        const w = probe.getBoundingClientRect().width / 10;
        probe.remove();
        return w;
      };
      if (document.documentElement.scrollWidth > width) problems.push("the page is " + document.documentElement.scrollWidth + " px wide");
      const tables = [...document.querySelectorAll("main table")];
      if (tables.length === 0) problems.push("no table on the page");
      for (const table of tables) {
        for (let box = table; box && box.tagName !== "MAIN"; box = box.parentElement)
          if (box.scrollWidth > box.clientWidth + 1) problems.push("a " + box.tagName.toLowerCase() + " around the table scrolls sideways: " + box.scrollWidth + " px in " + box.clientWidth);
        for (const cell of table.querySelectorAll("td, th")) {
          const rect = cell.getBoundingClientRect();
          if (forScreenReadersOnly(cell)) continue;
          const style = getComputedStyle(cell);
          const what = JSON.stringify((cell.textContent || "").trim().slice(0, 40));
          if (rect.left < -0.5 || rect.right > width + 0.5) problems.push("cell " + what + " spans " + Math.round(rect.left) + ".." + Math.round(rect.right) + " px of " + width);
          const content = rect.width - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - parseFloat(style.borderLeftWidth) - parseFloat(style.borderRightWidth);
          const ch = charWidth(cell);
          if (content < 6 * ch) problems.push("cell " + what + " is " + Math.round(content) + " px wide, under six characters (" + Math.round(6 * ch) + " px)");
          const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
          for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            const text = node.textContent.trim();
            if (!text || forScreenReadersOnly(node.parentElement)) continue;
            const range = document.createRange();
            range.selectNodeContents(node);
            const lines = [...range.getClientRects()].filter((r) => r.width > 0);
            for (const line of lines)
              if (line.left < -0.5 || line.right > width + 0.5) { problems.push("text " + JSON.stringify(text.slice(0, 40)) + " reaches " + Math.round(line.left) + ".." + Math.round(line.right) + " px of " + width); break; }
            if (lines.length > 1 && text.length / lines.length < 6) problems.push("text " + JSON.stringify(text.slice(0, 40)) + " wraps into " + lines.length + " lines of " + (text.length / lines.length).toFixed(1) + " characters");
          }
        }
      }
      return problems;
    })()`);
  }

  it("17-ui.1 at 390 px every list page's table fits the viewport: no cell's content past its edge, none narrower than a few characters", async () => {
    await page.setViewportSize({ width: PHONE, height: 900 });
    const found: Record<string, string[]> = {};
    for (const [hash, heading, what, shows] of [
      ["/clusters", "Clusters", "clusters", "local"],
      ["/jobs", "Jobs", "jobs", "screens"],
      ["/templates", "Templates", "templates", "screens.sh"],
      ["/binaries", "Binaries", "binaries", "screens.sh"],
      ["/data-sources", "Data sources", "data-sources", "daily-input"],
    ] as const) {
      await open(hash, heading);
      await poll(() => page.locator("main table").textContent()).toContain(shows);
      await page.screenshot({ path: join(SCREENSHOTS, `phone-stacked-${what}.png`), fullPage: true });
      found[what] = await tableProblems();
    }
    expect(found).toEqual({ clusters: [], jobs: [], templates: [], binaries: [], "data-sources": [] });
    // Every column's words are still there, each beside its value: the clusters' load, the jobs' cluster.
    await open("/clusters", "Clusters");
    const local = page.locator("main tbody tr", { hasText: "local" });
    // biome-ignore lint/performance/useDomNodeTextContent: the words as laid out for the eye, not hidden ones
    await poll(() => local.innerText()).toMatch(/Load.*(not recorded|unknown|cores|recorded)/s);
    await open("/jobs", "Jobs");
    // biome-ignore lint/performance/useDomNodeTextContent: the words as laid out for the eye, not hidden ones
    await poll(() => page.locator("main tbody tr").first().innerText()).toMatch(/Cluster\s*local/);
    // A job's page: what the run ran, and how it differs from the template's other run.
    await page.goto(`${edp.url}/#/jobs/${differingId}`);
    await poll(() => page.getByRole("table", { name: "Differences between the runs" }).textContent()).toContain("param GREETING");
    await page.screenshot({ path: join(SCREENSHOTS, "phone-stacked-job-diff.png"), fullPage: true });
    expect(await tableProblems()).toEqual([]);
    // Wide, the same rows are a table again, with the other run's link in its header.
    await page.setViewportSize({ width: 1280, height: 900 });
    await poll(() => page.getByRole("columnheader", { name: "Other run" }).getByRole("link").isVisible()).toBe(true);
    await page.screenshot({ path: join(SCREENSHOTS, "desktop-job-diff.png"), fullPage: true });
  });

  it("17-ui.2 the sign-in card puts the Sign in button right under the token field, at 1280 and at 390 px", async () => {
    // A tab of its own has no token in its sessionStorage, so it opens on the sign-in card.
    const signIn = await browser.context.newPage();
    try {
      await signIn.goto(edp.url);
      await poll(() => signIn.getByRole("heading", { name: "Sign in to EDP" }).isVisible()).toBe(true);
      const gaps: Record<string, number> = {};
      for (const [width, label] of [
        [1280, "desktop"],
        [PHONE, "phone"],
      ] as const) {
        await signIn.setViewportSize({ width, height: 900 });
        await signIn.screenshot({ path: join(SCREENSHOTS, `${label}-sign-in-card.png`), fullPage: true });
        const field = (await signIn.getByLabel("Token").boundingBox())!;
        const button = (await signIn.getByRole("button", { name: "Sign in" }).boundingBox())!;
        gaps[label] = Math.round(button.y - (field.y + field.height));
      }
      // Below the field, not over it, and with no empty band between the two (the gaps, in px, show in a failure).
      const small = (gap: number) => gap >= 0 && gap < 40;
      expect({ gaps, small: [small(gaps.desktop), small(gaps.phone)] }).toEqual({ gaps, small: [true, true] });
    } finally {
      await signIn.close();
    }
  });

  it("17-ui.3 a job's page names its three ways to run it again apart, each for what it does", async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
    const openJob = async (id: string) => {
      await page.goto(`${edp.url}/#/jobs/${id}`);
      await poll(() => page.locator("h1 .status").textContent(), { timeout: 60_000 }).toContain("SUCCEEDED");
      // The exact re-run is offered once the snapshot has been read.
      await poll(() => page.getByRole("table", { name: "What the run ran" }).isVisible()).toBe(true);
    };
    await openJob(jobId);
    await page.screenshot({ path: join(SCREENSHOTS, "desktop-job-actions.png") });
    // The buttons and links as assistive technology names them, in the group of the job's actions
    // (not the page's other links: the comparison's "Other run" opens another job, it runs nothing).
    const tree = await page.getByRole("group", { name: "Job actions" }).ariaSnapshot();
    const controls = [...tree.matchAll(/- (button|link) "((?:[^"\\]|\\.)*)"/g)]
      .map((m) => m[2])
      .filter((name) => /\brun\b|re-?run/i.test(name));
    expect(controls).toHaveLength(3);
    // Apart: no name is another's words plus more, so a person (or a selector) picking one by its words gets that one.
    for (const a of controls)
      for (const b of controls) if (a !== b) expect(a.toLowerCase().includes(b.toLowerCase()), `"${a}" contains "${b}"`).toBe(false);
    const named = (words: RegExp) => {
      const matching = controls.filter((name) => words.test(name));
      expect(matching, `one control named ${words} among ${JSON.stringify(controls)}`).toHaveLength(1);
      return matching[0];
    };
    const exact = named(/exact/i);
    const current = named(/current template/i);
    const edit = named(/edit/i);

    // Each does what it says: the edit one opens the run form filled from the job, the others run it again at once.
    await page
      .getByRole("link", { name: edit, exact: true })
      .or(page.getByRole("button", { name: edit, exact: true }))
      .click();
    await poll(() => page.getByRole("heading", { name: "Run a job", level: 1 }).isVisible()).toBe(true);
    await poll(() => page.getByText(`Copied from job ${jobId.slice(0, 8)}`).isVisible()).toBe(true);
    await poll(() => page.getByLabel("Params, one NAME=value per line").inputValue()).toBe("GREETING=phone");
    for (const [name, mode] of [
      [current, "current"],
      [exact, "exact"],
    ] as const) {
      await openJob(jobId);
      await page.getByRole("button", { name, exact: true }).click();
      await poll(() => page.url()).not.toContain(jobId);
      await poll(() => page.getByText(`Re-run (${mode}) of`).isVisible()).toBe(true);
    }
  });

  it("17-ui.4 a cluster being checked reads as checking, not as an unknown status", async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
    // An SSH master on loopback that takes the connection and never says a word: the cluster's check
    // waits for its handshake (EDP_CONNECT_TIMEOUT_MS), and the cluster stays Checking meanwhile.
    const held = new Set<Socket>();
    const silent = createServer((socket) => {
      held.add(socket);
      socket.on("close", () => held.delete(socket));
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const port = (silent.address() as { port: number }).port;
    let clusterId: string | undefined;
    try {
      const { cluster } = await call<{ cluster: { id: string; status: string } }>(
        "POST",
        "/v2/clusters",
        sshClusterAt("being-checked", port),
      );
      clusterId = cluster.id;
      expect(cluster.status).toBe("Checking");
      await open("/clusters", "Clusters");
      const badge = page.locator("main tbody tr", { hasText: "being-checked" }).locator(".status");
      await poll(() => badge.textContent()).toContain("Checking");
      await page.screenshot({ path: join(SCREENSHOTS, "desktop-cluster-checking.png") });
      const shown = await badge.evaluate((element) => ({
        class: element.className,
        mark: element.querySelector("[aria-hidden]")?.textContent?.trim(),
      }));
      // Still being checked when it was read, so what it showed was the Checking badge's own look.
      expect((await call<{ cluster: { status: string } }>("GET", `/v2/clusters/${cluster.id}`)).cluster.status).toBe("Checking");
      expect(shown).toEqual({ class: "status status-wait", mark: "…" });
    } finally {
      for (const socket of held) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
      // Its row would only lengthen the clusters list; the verdict is above, so a refused delete is not this test's failure.
      if (clusterId) await call("DELETE", `/v2/clusters/${clusterId}`).catch(() => undefined);
    }
  });

  it("17-ui.5 at 390 px the sign-in card keeps a margin from both edges of the screen", async () => {
    const signIn = await browser.context.newPage();
    try {
      await signIn.setViewportSize({ width: PHONE, height: 900 });
      await signIn.goto(edp.url);
      await poll(() => signIn.getByRole("heading", { name: "Sign in to EDP" }).isVisible()).toBe(true);
      await signIn.screenshot({ path: join(SCREENSHOTS, "phone-sign-in-margins.png"), fullPage: true });
      const card = (await signIn.locator("main.sign-in").boundingBox())!;
      const margins = { left: Math.round(card.x), right: Math.round(PHONE - (card.x + card.width)) };
      expect({ margins, enough: margins.left >= 8 && margins.right >= 8 }).toEqual({ margins, enough: true });
    } finally {
      await signIn.close();
    }
  });

  it("17-ui.6 a table keeps a gap from what is above it: the data sources' form, the job page's Other run select", async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
    await open("/data-sources", "Data sources");
    await poll(() => page.locator("main table").textContent()).toContain("daily-input");
    await page.screenshot({ path: join(SCREENSHOTS, "desktop-data-sources-gap.png"), fullPage: true });
    const gaps: Record<string, number> = {};
    gaps.dataSources = await gapBetween(page.getByRole("form", { name: "New data source" }), page.locator("main .table-wrap"));
    await page.goto(`${edp.url}/#/jobs/${differingId}`);
    const diff = page.getByRole("table", { name: "Differences between the runs" });
    await poll(() => diff.textContent()).toContain("param GREETING");
    await page.screenshot({ path: join(SCREENSHOTS, "desktop-job-diff-gap.png"), fullPage: true });
    gaps.diff = await gapBetween(page.locator("label.field", { hasText: "Other run" }), diff.locator("xpath=.."));
    // At least half a line (the gaps, in px, show in a failure).
    expect({ gaps, enough: Object.values(gaps).every((gap) => gap >= 8) }).toEqual({ gaps, enough: true });
  });

  it("17-ui.7 at 390 px the job page's Other run select shows its whole text", async () => {
    await page.setViewportSize({ width: PHONE, height: 900 });
    await page.goto(`${edp.url}/#/jobs/${differingId}`);
    await poll(() => page.getByRole("table", { name: "Differences between the runs" }).textContent()).toContain("param GREETING");
    const select = page.getByRole("combobox", { name: "Other run" });
    await page.screenshot({ path: join(SCREENSHOTS, "phone-job-other-run.png"), fullPage: true });
    // The width the select would take to show its longest option whole (text, padding and arrow), beside the width it has.
    const widths = await select.evaluate((element) => {
      const natural = element.cloneNode(true) as typeof element;
      natural.style.cssText = "position:absolute;visibility:hidden;width:auto;max-width:none";
      element.ownerDocument.body.appendChild(natural);
      const needed = Math.ceil(natural.getBoundingClientRect().width);
      natural.remove();
      return { needed, has: Math.floor(element.getBoundingClientRect().width) };
    });
    expect({ widths, whole: widths.needed <= widths.has }).toEqual({ widths, whole: true });
  });

  it("17-ui.8 the last row of the table of what the run ran has no bottom border in any of its cells", async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`${edp.url}/#/jobs/${jobId}`);
    const table = page.getByRole("table", { name: "What the run ran" });
    await poll(() => table.isVisible()).toBe(true);
    await table.screenshot({ path: join(SCREENSHOTS, "desktop-job-snapshot-table.png") });
    const borders = await table
      .locator("tbody tr:last-child")
      .evaluate((row) =>
        [...row.children].map(
          (cell) => `${cell.tagName.toLowerCase()} ${row.ownerDocument.defaultView!.getComputedStyle(cell).borderBottomStyle}`,
        ),
      );
    expect(borders).toEqual(["th none", "td none"]);
  });

  it("17-ui.9 a template's chart legend shows a run's values, not uPlot's -- placeholders", async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
    await open(`/templates/${comparedTemplateId}`, "screens-compared");
    const legend = page.locator(".chart .u-legend");
    await poll(() => legend.isVisible()).toBe(true);
    await page.locator(".chart").screenshot({ path: join(SCREENSHOTS, "desktop-template-chart.png") });
    // Each series' label and its value, as the legend's rows show them.
    const rows = await legend
      .locator(".u-series")
      .evaluateAll((series) =>
        series.map((row) => [row.querySelector(".u-label")?.textContent?.trim(), row.querySelector(".u-value")?.textContent?.trim()]),
      );
    expect(rows.flat().join(" ")).not.toContain("--");
    // Away from the chart, the legend reads the newest run: the second of the two, and its duration.
    expect(rows).toEqual([
      ["Run", expect.stringMatching(/^2\b/)],
      ["Duration (s)", expect.stringMatching(/^(\d+(\.\d+)?|under 1)$/)],
    ]);
    // Times are to the second, so a run that started and ended within one second took "under 1", not 0.
    const { job } = await call<{ job: { start_time: string; end_time: string } }>("GET", `/v2/jobs/${differingId}`);
    const newestSeconds = (Date.parse(`${job.end_time}Z`) - Date.parse(`${job.start_time}Z`)) / 1000;
    expect(rows[1][1]).toBe(newestSeconds === 0 ? "under 1" : String(newestSeconds));
    // The job's own page says the same of it.
    await page.goto(`${edp.url}/#/jobs/${differingId}`);
    const shownDuration = page.locator("dl div", { has: page.locator('dt:text-is("Duration")') }).locator("dd");
    await poll(() => shownDuration.textContent({ timeout: 1000 }).catch(() => "")).toBe(
      newestSeconds === 0 ? "under 1s" : `${newestSeconds}s`,
    );
  });

  it("17-ui.16 a template's chart fills the width of its box, on a wide screen, on a phone and after the window is resized", async () => {
    const fill = async () =>
      page.locator(".chart").evaluate((figure) => {
        const box = figure.querySelector(":scope > div");
        const plot = box?.querySelector(".uplot");
        return box && plot ? Math.round((plot.getBoundingClientRect().width / box.clientWidth) * 100) / 100 : 0;
      });
    await page.setViewportSize({ width: 1280, height: 900 });
    await open(`/templates/${comparedTemplateId}`, "screens-compared");
    await poll(() => page.locator(".chart .u-legend").isVisible()).toBe(true);
    // The share of the box's width the plot takes (1 is all of it), read once the chart has had time
    // to follow each new width; the three are compared together below, so a failure shows them all.
    // Waiting for "more than 0.97" alone ended at once when the plot was still wider than a
    // narrowed box (a share above 1), before the chart had followed the new width.
    const fills = (share: number) => share > 0.97 && share <= 1;
    const settled = () =>
      poll(async () => fills(await fill()), { timeout: 3_000 })
        .toBe(true)
        .catch(() => undefined);
    const shares: Record<string, number> = {};
    await settled();
    shares["1280 px"] = await fill();
    await page.setViewportSize({ width: PHONE, height: 900 });
    await settled();
    shares.phone = await fill();
    await page.setViewportSize({ width: 1600, height: 900 });
    await settled();
    shares["1600 px"] = await fill();
    expect({ shares, fill: Object.values(shares).map(fills) }).toEqual({ shares, fill: [true, true, true] });
  });

  it("17-ui.10 a template's chart legend is uPlot's own, with none of the dashboard's table borders or header shading", async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
    await open(`/templates/${comparedTemplateId}`, "screens-compared");
    const legend = page.locator(".chart .u-legend");
    await poll(() => legend.isVisible()).toBe(true);
    const cells = await legend.locator("th, td").evaluateAll((found) =>
      found.map((cell) => {
        const style = cell.ownerDocument.defaultView!.getComputedStyle(cell);
        return `${cell.tagName.toLowerCase()} ${style.borderBottomStyle} ${style.backgroundColor}`;
      }),
    );
    expect(cells.length).toBeGreaterThan(0);
    expect(cells).toEqual(cells.map((cell) => `${cell.split(" ")[0]} none rgba(0, 0, 0, 0)`));
  });
  it("17-ui.11 a masked param reads as hidden on the job's page, and the edit-and-re-run form asks for it again, as for a masked config", async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
    const { job_templates } = await call<{ job_templates: { id: string; name: string }[] }>("GET", "/v2/job-templates");
    const { clusters } = await call<{ clusters: { id: string; name: string }[] }>("GET", "/v2/clusters");
    const { job } = await call<{ job: { id: string } }>("POST", "/v2/jobs", {
      job_template_id: job_templates.find((t) => t.name === "screens")!.id,
      cluster_id: clusters.find((c) => c.name === "local")!.id,
      job_configs: { params: { GREETING: "again", DB_PASSWORD: "masked-param-secret" } },
    });
    // The job's page shows the masked param as hidden (the API names it in masked_keys), not as empty.
    await page.goto(`${edp.url}/#/jobs/${job.id}`);
    const shownValue = (key: string) => page.locator("dl.kv > div", { has: page.locator(`dt:text-is("${key}")`) }).locator("dd");
    await poll(() => shownValue("DB_PASSWORD").textContent()).toBe("••••••");
    expect(await shownValue("GREETING").textContent()).toBe("again");
    await page
      .locator("dl.kv")
      .first()
      .screenshot({ path: join(SCREENSHOTS, "desktop-job-masked-param.png") });
    await page.setViewportSize({ width: PHONE, height: 844 });
    await page
      .locator("dl.kv")
      .first()
      .screenshot({ path: join(SCREENSHOTS, "phone-job-masked-param.png") });
    await page.setViewportSize({ width: 1280, height: 900 });
    await open(`/run?rerun=${job.id}`, "Run a job");
    await poll(() => page.getByText(`Copied from job ${job.id.slice(0, 8)}`).textContent()).toContain("type DB_PASSWORD again");
    const params = page.getByLabel("Params, one NAME=value per line");
    await poll(async () => (await params.inputValue()).split("\n").sort()).toEqual(["DB_PASSWORD=", "GREETING=again"]);
    await page.screenshot({ path: join(SCREENSHOTS, "desktop-rerun-masked.png"), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: join(SCREENSHOTS, "phone-rerun-masked.png"), fullPage: true });
  });

  it("17-ui.12 on the run form a cluster in Error reads as not usable, with no score to compare against a usable one's", async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
    // A port nothing listens on: the cluster's check is refused at once, and the cluster goes to Error.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise((resolve) => closed.close(resolve));
    const { cluster } = await call<{ cluster: { id: string } }>("POST", "/v2/clusters", sshClusterAt("refused", port));
    try {
      await poll(async () => (await call<{ cluster: { status: string } }>("GET", `/v2/clusters/${cluster.id}`)).cluster.status).toBe(
        "Error",
      );
      const { job_templates } = await call<{ job_templates: { id: string; name: string }[] }>("GET", "/v2/job-templates");
      await open(`/run?template=${job_templates.find((t) => t.name === "screens")!.id}`, "Run a job");
      const hintOf = (name: string) => page.locator("label.choice", { has: page.locator(`strong:text-is("${name}")`) }).locator(".hint");
      // Bounded reads: a cluster the form does not list fails here rather than waiting out the test.
      await poll(() =>
        hintOf("refused")
          .textContent({ timeout: 1000 })
          .catch(() => "(not listed)"),
      ).toMatch(/^not usable: in Error: /);
      expect(await hintOf("refused").textContent()).not.toContain("score");
      expect(await hintOf("local").textContent()).toMatch(/^score \d+(\.\d)?: /);
      await page.screenshot({ path: join(SCREENSHOTS, "desktop-run-cluster-in-error.png"), fullPage: true });
    } finally {
      await call("DELETE", `/v2/clusters/${cluster.id}`).catch(() => undefined);
    }
  });

  it("17-ui.13 the Run a job link on a re-run form opens an empty form, not the copied job's", async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
    const { jobs } = await call<{ jobs: { id: string }[] }>("GET", "/v2/jobs?limit=1");
    await open(`/run?rerun=${jobs[0].id}`, "Run a job");
    await poll(() => page.getByText(`Copied from job ${jobs[0].id.slice(0, 8)}`).count()).toBe(1);
    await page.getByRole("navigation", { name: "Pages" }).getByRole("link", { name: "Run a job" }).click();
    await poll(() => new URL(page.url()).hash).toBe("#/run");
    await poll(() => page.getByText("Copied from job").count()).toBe(0);
    expect(await page.getByLabel("Params, one NAME=value per line").inputValue()).toBe("");
  });

  it("17-ui.14 the run form lets EDP choose the cluster, as the API and the CLI do, names the one it would take, and the job runs there", async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
    const { job_templates } = await call<{ job_templates: { id: string; name: string }[] }>("GET", "/v2/job-templates");
    await open(`/run?template=${job_templates.find((t) => t.name === "screens")!.id}`, "Run a job");
    const choose = page.getByRole("radio", { name: /Let EDP choose/ });
    // The dispatcher's choice is the best usable cluster: here the only one, local.
    const hint = page.locator("label.choice", { has: choose }).locator(".hint");
    await poll(() => hint.textContent({ timeout: 1000 }).catch(() => "(no such choice)")).toMatch(/^now: local\b/);
    await choose.check();
    await page.getByLabel("Params, one NAME=value per line").fill("GREETING=placed");
    await page.screenshot({ path: join(SCREENSHOTS, "desktop-run-auto.png"), fullPage: true });
    await page.setViewportSize({ width: PHONE, height: 844 });
    await page.screenshot({ path: join(SCREENSHOTS, "phone-run-auto.png"), fullPage: true });
    await page.getByRole("button", { name: "Run", exact: true }).click();
    await poll(() => page.url()).toMatch(/#\/jobs\/[0-9a-f-]{36}$/);
    const id = /#\/jobs\/([0-9a-f-]{36})$/.exec(page.url())![1];
    const { job } = await call<{ job: { cluster_id: string; info: { placement?: { cluster_id: string } } } }>("GET", `/v2/jobs/${id}`);
    const { clusters } = await call<{ clusters: { id: string; name: string }[] }>("GET", "/v2/clusters");
    expect(job.cluster_id).toBe(clusters.find((c) => c.name === "local")!.id);
    expect(job.info.placement?.cluster_id).toBe(job.cluster_id);
    await poll(() => page.locator("h1 .status").textContent(), { timeout: 60_000 }).toContain("SUCCEEDED");
  });

  it("17-ui.15 an answer about the template chosen before arrives late and changes nothing on the run form", async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
    const { binaries } = await call<{ binaries: { id: string; name: string }[] }>("GET", "/v2/job-binaries");
    const { job_template: spark } = await call<{ job_template: { id: string } }>("POST", "/v2/job-templates", {
      name: "screens-spark",
      type: "Spark",
      mains: [binaries.find((b) => b.name === "screens.sh")!.id],
    });
    const { job_templates } = await call<{ job_templates: { id: string; name: string }[] }>("GET", "/v2/job-templates");
    const shell = job_templates.find((t) => t.name === "screens")!;
    // Spark's settings and placement are held back while the user goes on to choose the Shell template.
    const held: { route: Route; late: (route: Route) => Promise<void> }[] = [];
    await page.route("**/v2/job-templates/config-hints/Spark", (route) =>
      held.push({ route, late: async (r) => r.fulfill({ response: await r.fetch() }) }),
    );
    // When the Spark template was asked about, nothing was usable for it.
    await page.route(`**/v2/job-templates/${spark.id}/placement*`, (route) =>
      held.push({ route, late: (r) => r.fulfill({ json: { placement: [] } }) }),
    );
    try {
      await open(`/run?template=${spark.id}`, "Run a job");
      await poll(() => held.length).toBe(2);
      await page.locator("select[name=job_template_id]").selectOption(shell.id);
      const choose = page.getByRole("radio", { name: /Let EDP choose/ });
      const hint = page.locator("label.choice", { has: choose }).locator(".hint");
      await poll(() => hint.textContent({ timeout: 1000 }).catch(() => "(no such choice)")).toMatch(/^now: local\b/);

      const answered = held.map(({ route }) => page.waitForResponse((response) => response.request() === route.request()));
      for (const { route, late } of held) await late(route);
      await Promise.all(answered);
      // Long enough for the page to have read and applied the late answers, were it going to.
      await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 300)));
      // A Shell job has no settings of its own; Spark's would be named fields under the params.
      expect(await page.locator("input[name^='config.']").count()).toBe(0);
      expect(await hint.textContent({ timeout: 1000 }).catch(() => "(no hint)")).toMatch(/^now: local\b/);
      expect(await page.locator("select[name=job_template_id]").inputValue()).toBe(shell.id);
    } finally {
      await page.unrouteAll();
    }
  });

  it("17-ui.17 the job page says it is loading the template's other runs rather than showing an empty Other run select", async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
    // The list of the template's runs is held back, so the page is seen as it is before it arrives.
    const held: Route[] = [];
    await page.route(
      (url) => url.pathname === "/v2/jobs" && url.searchParams.has("job_template_id"),
      (route) => void held.push(route),
    );
    try {
      // From another page, so the job page is built afresh (the same hash again would change nothing).
      await open("/jobs", "Jobs");
      await page.goto(`${edp.url}/#/jobs/${differingId}`);
      await poll(() => held.length).toBeGreaterThan(0);
      const comparison = page.getByRole("region", { name: "Compare with another run" });
      await poll(() =>
        comparison
          .getByRole("status")
          .textContent({ timeout: 1000 })
          .catch(() => "(no status)"),
      ).toBe("Loading the template's other runs…");
      expect(await page.getByRole("combobox", { name: "Other run" }).count()).toBe(0);
      await page.screenshot({ path: join(SCREENSHOTS, "desktop-job-other-runs-loading.png"), fullPage: true });
      for (const route of held.splice(0)) await route.fulfill({ response: await route.fetch() });
      const select = page.getByRole("combobox", { name: "Other run" });
      await poll(() => select.inputValue({ timeout: 1000 }).catch(() => "")).toMatch(/^[0-9a-f-]{36}$/);
      expect(await comparison.getByRole("status").count()).toBe(0);
    } finally {
      await page.unrouteAll();
    }
  });
});
