import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sparkEngineRegistration } from "@edp/core/engines/spark/registration";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, startTestApi, type TestApi } from "../support/api.js";
import { type SshServer, startSshd } from "../support/sshd.js";
import { onPath, requireTools, TOOLS } from "../support/tools.js";

const tools = requireTools(TOOLS.sshd, TOOLS.sshKeygen, onPath("curl", "apt-get install curl"));
const wget = onPath("wget", "apt-get install wget");

/** What the check's script needs on the PATH (besides the shell's builtins), and the given HTTP clients, if any. */
function pathWith(dir: string, clients: string[]): string {
  mkdirSync(dir, { recursive: true });
  for (const tool of ["rm", "sed", "head", ...clients]) {
    const found = execFileSync("/bin/sh", ["-c", `command -v ${tool}`])
      .toString()
      .trim();
    symlinkSync(found, join(dir, tool));
  }
  return dir;
}

/**
 * Issue 12 point 1: a node with neither curl nor wget cannot call back, so its jobs' ends are seen
 * by the sweep; the Spark engine's health check (issue 13.0) says which tool a node has, in the
 * cluster's status, through the real API over dynalite and a real sshd.
 */
describe.runIf(tools.run)("12.1 the cluster's status says how its jobs call back", () => {
  let sshd: SshServer;
  let api: TestApi;
  let token: string;
  const scratch = mkdtempSync(join(tmpdir(), "edp-callback-tools-"));
  const sparkSubmit = join(scratch, "spark-submit");

  beforeAll(async () => {
    tools.assertPresent();
    writeFileSync(sparkSubmit, "#!/bin/sh\necho '   /___/ .__/\\_,_/_/ /_/\\_\\   version 3.5.1'\n");
    chmodSync(sparkSubmit, 0o755);
    sshd = await startSshd();
    api = await startTestApi({ registrations: [sparkEngineRegistration] });
    ({ token } = await api.newProject());
  }, 60_000);

  afterAll(async () => {
    await api?.close();
    await sshd?.dispose();
    rmSync(scratch, { recursive: true, force: true });
  });

  async function checked(name: string, environment: Record<string, string>, extra: Record<string, unknown> = {}) {
    const created = await api.request("POST", "/v2/clusters", {
      token,
      body: {
        name,
        plugin_name: "spark",
        plugin_version: "3.5.1",
        connection: {
          host: sshd.host,
          port: sshd.port,
          user: sshd.user,
          private_key: sshd.privateKey,
          host_key: sshd.hostKey,
          spark_submit: sparkSubmit,
          working_dir_base: join(scratch, name),
          environment,
          ...extra,
        },
      },
    });
    expect(created.status, created.text).toBe(202);
    const id = created.body.cluster.id as string;
    return eventually(
      `cluster ${name} checked`,
      async () => {
        const cluster = (await api.request("GET", `/v2/clusters/${id}`, { token })).body.cluster;
        return cluster.status !== "Checking" && cluster;
      },
      30_000,
    );
  }

  it("12.1 a node with curl shows curl; one whose PATH has neither curl nor wget shows that the sweep sees its completions", async () => {
    const normal = await checked("with-curl", {});
    expect(normal.status, normal.status_description).toBe("Active");
    expect(normal.check_details).toMatchObject({ spark_submit: sparkSubmit, spark_submit_version: "3.5.1", completion_callbacks: "curl" });

    const bare = await checked("no-http-clients", { PATH: pathWith(join(scratch, "no-http-bin"), []) });
    // Still usable: the sweep finds its jobs' ends.
    expect(bare.status, bare.status_description).toBe("Active");
    expect(bare.check_details).toMatchObject({
      spark_submit_version: "3.5.1",
      completion_callbacks: "none — completions are seen by the sweep",
    });
  }, 60_000);

  it.runIf(wget.present())(
    "12.1 a node with wget and no curl shows wget",
    async () => {
      const cluster = await checked("wget-only", { PATH: pathWith(join(scratch, "wget-bin"), ["wget"]) });
      expect(cluster.status, cluster.status_description).toBe("Active");
      expect(cluster.check_details.completion_callbacks).toBe("wget");
    },
    60_000,
  );

  it("12.1 a node without spark-submit is in Error, and still says how its jobs would call back", async () => {
    const cluster = await checked(
      "no-submit",
      { PATH: pathWith(join(scratch, "bare-bin"), []) },
      { spark_submit: join(scratch, "nowhere", "spark-submit") },
    );
    expect(cluster.status).toBe("Error");
    expect(cluster.check_details).toEqual({ completion_callbacks: "none — completions are seen by the sweep" });
  }, 60_000);
});
