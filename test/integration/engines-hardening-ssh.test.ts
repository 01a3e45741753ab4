import { execFileSync } from "node:child_process";
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SparkEngine } from "@edp/core/engines/spark/engine";
import { sparkEngineRegistration } from "@edp/core/engines/spark/registration";
import { createRunnerFactory, type RunnerFactory, type RunnerTarget } from "@edp/core/runners/runner-factory";
import { afterAll, beforeAll, describe, expect, it, onTestFailed, vi } from "vitest";
import { accepted, eventually, startTestApi, type TestApi } from "../support/api.js";
import { captureLogs, scanTable } from "../support/leaks.js";
import { ENGINE_SETTINGS } from "../support/spark-engine-behaviour.js";
import { groupMembers, launched, pidOf, preparedJob, sshAccess, waitForStatus, waitUntil } from "../support/spark-jobs.js";
import { type SshServer, sshLogin, startSshd } from "../support/sshd.js";
import { requireTools, TOOLS } from "../support/tools.js";
import { uncheckedRegistration } from "../support/unchecked.js";

const tools = requireTools(TOOLS.sshd, TOOLS.sshKeygen, TOOLS.setsid, TOOLS.ps);

/**
 * A Shell job whose background children outlive the job script: non-interactive shells start them
 * with SIGINT ignored, and the second one ignores SIGTERM too, so only SIGKILL ends it.
 */
const STUBBORN_CHILDREN = ["sleep 300 &", "sh -c 'trap \"\" INT TERM; while :; do sleep 1; done' &", "echo started", "wait", ""].join("\n");

/** Issue 9 items on the real sshd: the connection pool (13), cancel (15), remote error text (16). */
describe.runIf(tools.run)("engines hardening on a real sshd", () => {
  let sshd: SshServer;
  /** A second client key the server also accepts: another cluster on the same host and user. */
  let otherKey: string;

  beforeAll(async () => {
    tools.assertPresent();
    sshd = await startSshd();
    const keyFile = join(sshd.dir, "second_user_key");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "second", "-f", keyFile]);
    appendFileSync(join(sshd.dir, "authorized_keys"), readFileSync(`${keyFile}.pub`));
    otherKey = readFileSync(keyFile, "utf8");
  });
  afterAll(async () => {
    await sshd?.dispose();
  });

  describe("the SSH connection pool", () => {
    let runners: RunnerFactory;
    beforeAll(() => {
      runners = createRunnerFactory({ connectTimeoutMs: 5000, commandTimeoutMs: 15_000 });
    });
    afterAll(async () => {
      await runners?.closeAll();
    });
    const target = (privateKey: string): RunnerTarget => ({
      mode: "ssh",
      host: sshd.host,
      port: sshd.port,
      user: sshd.user,
      privateKey,
      hostKey: sshd.hostKey,
    });

    it("9.13 two clusters with the same host and user but different keys do not close each other's connections mid-command", async () => {
      const first = runners.runnerFor(target(sshd.privateKey));
      const running = first.run("sleep 1; echo first-done");
      // Give the first command time to be under way on its connection before the second cluster asks for a runner.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const second = runners.runnerFor(target(otherKey));
      const [a, b] = await Promise.all([running, second.run("echo second-done")]);
      expect(a).toEqual({ exitCode: 0, stdout: "first-done\n", stderr: "" });
      expect(b).toEqual({ exitCode: 0, stdout: "second-done\n", stderr: "" });
      // Each connection stays pooled under its own identity: alternating between the clusters reuses both.
      expect(runners.runnerFor(target(sshd.privateKey))).toBe(first);
      expect(runners.runnerFor(target(otherKey))).toBe(second);
      expect(second).not.toBe(first);
    });
  });

  describe("cancel", () => {
    const scratch = mkdtempSync(join(tmpdir(), "edp-hardening-"));
    let engine: SparkEngine;
    const pids: number[] = [];
    beforeAll(() => {
      engine = new SparkEngine({ settings: ENGINE_SETTINGS, termGraceSeconds: 1 });
    });
    afterAll(async () => {
      await engine?.close();
      // A failed assertion must not leave the stubborn children behind.
      for (const pid of pids) if (groupMembers(pid).length > 0) process.kill(-pid, "SIGKILL");
      rmSync(scratch, { recursive: true, force: true });
    });

    it("9.15 a cancelled Shell job's whole process group is gone, background children included", async () => {
      const job = preparedJob({
        access: sshAccess(sshd, { working_dir_base: join(scratch, "work") }),
        type: "Shell",
        mains: [{ name: "job.sh", content: STUBBORN_CHILDREN }],
      });
      const run = await engine.runJob(job);
      pids.push(pidOf(run));
      const launchedJob = launched(job, run);
      await waitUntil(async () => (await engine.readOutput(launchedJob, "stdout", 10)).includes("started"), "the job started");
      expect(groupMembers(pidOf(run)).length).toBeGreaterThanOrEqual(3);

      await engine.cancelJob(launchedJob, { force: false });
      expect((await waitForStatus(engine, launchedJob, ["KILLED", "SUCCEEDED", "DONEWITHERROR"], 15_000)).status).toBe("KILLED");
      // No sweep escalates a job that already ended KILLED: the cancel itself must clear the group.
      await waitUntil(() => groupMembers(pidOf(run)).length === 0, "no process of the job's group remains", 15_000).catch(() => undefined);
      expect(groupMembers(pidOf(run))).toEqual([]);
    });
  });

  describe("cancel through the API", () => {
    const scratch = mkdtempSync(join(tmpdir(), "edp-hardening-api-"));
    let api: TestApi;
    let token: string;
    const pids: number[] = [];
    beforeAll(async () => {
      api = await startTestApi({ registrations: [sparkEngineRegistration] });
      ({ token } = await api.newProject());
    });
    afterAll(async () => {
      for (const pid of pids) if (groupMembers(pid).length > 0) process.kill(-pid, "SIGKILL");
      await api?.close();
      rmSync(scratch, { recursive: true, force: true });
    });

    /** Runs the stubborn Shell job through the API and waits until its children run; `configs` are its job_configs.configs. */
    const startStubbornJob = async (configs: Record<string, unknown> = {}) => {
      const post = (path: string, body: unknown) => accepted(api, token, path, body);
      const suffix = Math.random().toString(36).slice(2, 8);
      const cluster = await post("/v2/clusters", {
        name: `sshd-${suffix}`,
        plugin_name: "spark",
        plugin_version: "4.3.0",
        connection: {
          ...sshLogin(sshd),
          working_dir_base: join(scratch, "work"),
        },
      });
      const upload = await api.request("PUT", `/v2/job-binary-internals/${suffix}.sh`, { token, raw: STUBBORN_CHILDREN });
      const binary = await post("/v2/job-binaries", { name: `${suffix}.sh`, url: `internal-db://${upload.body.job_binary_internal.id}` });
      const template = await post("/v2/job-templates", { name: `stubborn-${suffix}`, type: "Shell", mains: [binary.job_binary.id] });
      const created = await post("/v2/jobs", {
        cluster_id: cluster.cluster.id,
        job_template_id: template.job_template.id,
        job_configs: { configs },
      });
      const id = created.job.id as string;
      const job = await eventually("RUNNING", async () => {
        const body = (await api.request("GET", `/v2/jobs/${id}?refresh_status=true`, { token })).body.job;
        return body.engine_job_id && body;
      });
      const pid = Number(String(job.engine_job_id).split("@")[0]);
      pids.push(pid);
      await waitUntil(() => groupMembers(pid).length >= 3, "the job started its children");
      return { id, pid };
    };

    it("9.15 DELETE of a running Shell job leaves no process of its group behind", async () => {
      const { id, pid } = await startStubbornJob();
      expect((await api.request("DELETE", `/v2/jobs/${id}`, { token })).status).toBe(204);
      // The default grace before SIGKILL is 10 s; the sleep ends at SIGTERM, the stubborn loop at SIGKILL.
      await waitUntil(() => groupMembers(pid).length === 0, "no process of the job's group remains", 30_000).catch(() => undefined);
      expect(groupMembers(pid)).toEqual([]);
    });

    it("9.15 a Shell job cancelled by its edp.timeout deadline leaves no process of its group behind", async () => {
      const { id, pid } = await startStubbornJob({ "edp.timeout": 3 });
      await eventually(
        "KILLED by the deadline",
        async () => (await api.request("GET", `/v2/jobs/${id}?refresh_status=true`, { token })).body.job.info.status === "KILLED",
        30_000,
      );
      await waitUntil(() => groupMembers(pid).length === 0, "no process of the job's group remains", 30_000).catch(() => undefined);
      expect(groupMembers(pid)).toEqual([]);
    });
  });

  describe("remote error text", () => {
    const scratch = mkdtempSync(join(tmpdir(), "edp-hardening-scrub-"));
    const ACCESS_KEY = "AKIAHARDENING9SIXTEEN";
    const SECRET_KEY = "s3cr3t/Key+Nine-Sixteen-0123456789abcdef";
    let api: TestApi;
    let token: string;
    let written: string[];
    beforeAll(async () => {
      api = await startTestApi({ registrations: [sparkEngineRegistration], env: { EDP_LOG_LEVEL: "DEBUG" } });
      ({ token } = await api.newProject());
      written = captureLogs();
    });
    afterAll(async () => {
      vi.restoreAllMocks();
      await api?.close();
      rmSync(scratch, { recursive: true, force: true });
    });

    it("9.16 a Shell job that prints its S3 keys and the cluster's private key to stderr leaves them in no response, table item or log line", async () => {
      const post = (path: string, body: unknown) => accepted(api, token, path, body);
      const cluster = await post("/v2/clusters", {
        name: "sshd",
        plugin_name: "spark",
        plugin_version: "4.3.0",
        connection: {
          ...sshLogin(sshd),
          working_dir_base: join(scratch, "work"),
        },
      });
      const source = await post("/v2/data-sources", {
        name: "in",
        type: "s3",
        url: "s3://bucket/in",
        credentials: { accesskey: ACCESS_KEY, secretkey: SECRET_KEY, endpoint: "http://s3.example.invalid" },
      });
      // The job echoes everything it could know, the way a hostile or careless cluster would.
      const keyLines = sshd.privateKey.trim().split("\n");
      const script = [
        `echo "Error: cannot read s3://bucket/in with access key ${ACCESS_KEY} and secret ${SECRET_KEY}" >&2`,
        `echo 'Error: fs.s3a.secret.key=${SECRET_KEY} fs.s3a.access.key=${ACCESS_KEY}' >&2`,
        "sed 's/^/Error: key line /' >&2 <<'EOF'",
        ...keyLines,
        "EOF",
        "exit 3",
        "",
      ].join("\n");
      const upload = await api.request("PUT", "/v2/job-binary-internals/leak.sh", { token, raw: script });
      const binary = await post("/v2/job-binaries", { name: "leak.sh", url: `internal-db://${upload.body.job_binary_internal.id}` });
      const template = await post("/v2/job-templates", { name: "leak", type: "Shell", mains: [binary.job_binary.id] });
      const created = await post("/v2/jobs", {
        cluster_id: cluster.cluster.id,
        job_template_id: template.job_template.id,
        input_id: source.data_source.id,
        is_public: true,
      });
      const id = created.job.id as string;
      // Each sweep's time and what the job then read, printed only if the test fails (a timeout included).
      const started = Date.now();
      const seen: string[] = [];
      onTestFailed(() => console.error(`9.16 sweeps (ms since the create: sweep ms, status):\n  ${seen.join("\n  ")}`));
      const responses: string[] = [];
      const job = await eventually(
        "DONEWITHERROR",
        async () => {
          const sweepStart = Date.now();
          await api.core.jobs.sweep();
          const response = await api.request("GET", `/v2/jobs/${id}`, { token });
          seen.push(`${sweepStart - started}: ${Date.now() - sweepStart}, ${response.body.job?.info?.status}`);
          responses.push(response.text);
          return response.body.job.info.status === "DONEWITHERROR" && response.body.job;
        },
        // A job that ends in about a second here; the room is for a loaded CI host, where it has taken 26 s.
        90_000,
      );
      // The error is there, and useful: only the secrets are gone from it.
      expect(job.info.error).toMatch(/exited with status 3/);
      expect(job.info.error).toContain("cannot read s3://bucket/in");
      const other = await api.newProject();
      responses.push((await api.request("GET", `/v2/jobs/${id}`, { token: other.token })).text);
      responses.push((await api.request("GET", "/v2/jobs", { token })).text);
      const table = await scanTable(api.ports.dynamoEndpoint, "edp-test");
      const secrets = [ACCESS_KEY, SECRET_KEY, ...keyLines.filter((line) => line.length > 16 && !line.startsWith("-----"))];
      for (const secret of secrets) {
        for (const text of responses) expect(text).not.toContain(secret);
        expect(table).not.toContain(secret);
        expect(written.join("\n")).not.toContain(secret);
      }
    }, 120_000);
  });

  describe("the destination rule", () => {
    let api: TestApi;
    beforeAll(async () => {
      api = await startTestApi({
        registrations: [uncheckedRegistration(sparkEngineRegistration)],
        env: { EDP_ALLOW_DESTINATIONS: "10.0.0.0/8" },
      });
    });
    afterAll(async () => {
      await api?.close();
    });

    it("9.9b refuses an SSH cluster host on a denied address with a clear error", async () => {
      const { token } = await api.newProject();
      const post = (path: string, body: unknown) => accepted(api, token, path, body);
      const cluster = await post("/v2/clusters", {
        name: "sshd",
        plugin_name: "spark",
        plugin_version: "4.3.0",
        connection: { host: sshd.host, port: sshd.port, user: sshd.user, private_key: sshd.privateKey, host_key: sshd.hostKey },
      });
      const upload = await api.request("PUT", "/v2/job-binary-internals/never.sh", { token, raw: "echo never\n" });
      const binary = await post("/v2/job-binaries", { name: "never.sh", url: `internal-db://${upload.body.job_binary_internal.id}` });
      const template = await post("/v2/job-templates", { name: "never", type: "Shell", mains: [binary.job_binary.id] });
      const created = await post("/v2/jobs", { cluster_id: cluster.cluster.id, job_template_id: template.job_template.id });
      const job = await eventually("FAILED", async () => {
        const body = (await api.request("GET", `/v2/jobs/${created.job.id}`, { token })).body.job;
        return body.info.status === "FAILED" && body;
      });
      expect(job.info.error).toBe(
        "Refusing to connect to '127.0.0.1': 127.0.0.1 is a loopback address, and EDP_ALLOW_DESTINATIONS does not list its range",
      );
    });
  });
});
