import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningEdp, startEdp } from "../support/local-runtime.js";
import { cliEnv, configHome, EDP_BIN, type EdpCall, edp, spawnEdp } from "./edp-cli.js";

const exec = promisify(execFile);
const OTHER_TOKEN = "other-project-token-0123456789";

interface JobRow {
  id: string;
  info: { status: string };
}

/** The `edp` CLI run as a real process against `npm start`, with no profile: it finds the local runtime in .edp/. */
// Each test starts many edp processes, which on a loaded 2-core machine take seconds each.
describe("the edp command line against npm start", { timeout: 240_000 }, () => {
  let runtime: RunningEdp | undefined;
  let workDir: string;
  let call: EdpCall;

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), "edp-cli-"));
    // A second project, whose public template shares a name with one of ours.
    runtime = await startEdp(join(workDir, ".edp"), { EDP_TOKENS: `other=${OTHER_TOKEN}` });
    call = { cwd: workDir, configHome: await configHome(workDir) };
    await writeFile(
      join(workDir, "hello.sh"),
      'echo "hello, $GREETING"; echo "args: $@"; echo "to stderr" >&2; sleep $((NAP)); exit $((CODE))\n',
    );
    const upload = await edp(["binaries", "upload", "hello.sh", "-o", "json"], call);
    expect(upload.code, upload.stderr).toBe(0);
    expect(JSON.parse(upload.stdout).url).toMatch(/^internal-db:\/\//);
    const template = await edp(["templates", "create", "hello", "--type", "Shell", "--main", "hello.sh"], call);
    expect(template.code, template.stderr).toBe(0);
  });

  afterAll(async () => {
    await runtime?.stop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  async function runningJobs(): Promise<JobRow[]> {
    const listed = await edp(["jobs", "ls", "--status", "RUNNING", "-o", "json"], call);
    expect(listed.code, listed.stderr).toBe(0);
    return JSON.parse(listed.stdout) as JobRow[];
  }

  async function untilRunning(id: string): Promise<void> {
    for (let i = 0; i < 120; i++) {
      if ((await runningJobs()).some((job) => job.id === id)) return;
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`job ${id} never ran`);
  }

  it("15.4 a Shell job that succeeds exits 0 with its output streamed by --follow", async () => {
    const run = await edp(
      ["run", "hello", "--cluster", "local", "--param", "GREETING=world", "--arg", "one", "--arg", "two", "--follow"],
      call,
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe("hello, world\nargs: one two\n");
    // stderr carries the job's stderr and, off a terminal, one plain progress line per change.
    expect(run.stderr).toContain("to stderr");
    expect(run.stderr).toMatch(/^job [0-9a-f-]{36} {2}SUCCEEDED {2}\d+s$/m);
    expect(run.stderr).not.toContain("\r");
  });

  it("15.5 a job that fails exits 1 and says why", async () => {
    const run = await edp(["run", "hello", "--cluster", "local", "--param", "CODE=3"], call);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/DONEWITHERROR/);
    expect(run.stderr).toContain("exited with status 3");
    expect(run.stdout).toBe("");
  });

  it("15.5 a job cancelled from a second edp cancel makes the waiting edp run exit 3", async () => {
    const waiting = spawnEdp(["run", "hello", "--cluster", "local", "--param", "NAP=600", "-o", "json"], call);
    let id: string | undefined;
    for (let i = 0; i < 120 && !id; i++) {
      await new Promise((r) => setTimeout(r, 500));
      id = (await runningJobs())[0]?.id;
    }
    expect(id).toBeDefined();
    const cancel = await edp(["cancel", id!], call);
    expect(cancel.code, cancel.stderr).toBe(0);
    const run = await waiting.result;
    expect(run.code, run.stderr).toBe(3);
    expect(run.stderr).toMatch(/KILLED/);
    // -o json prints the job as it ended, for scripts.
    expect(JSON.parse(run.stdout)).toMatchObject({ id, info: { status: "KILLED" } });
  });

  it("15.5 wait --timeout 1s on a long job exits 4 and leaves it running", async () => {
    const started = await edp(["run", "hello", "--cluster", "local", "--param", "NAP=600", "--no-wait"], call);
    expect(started.code, started.stderr).toBe(0);
    const id = started.stdout.trim();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    await untilRunning(id);
    const wait = await edp(["wait", id, "--timeout", "1s"], call);
    expect(wait.code, wait.stderr).toBe(4);
    expect(wait.stderr).toContain(`job ${id} is still RUNNING`);
    const cancel = await edp(["cancel", id, "--wait"], call);
    expect(cancel.code, cancel.stderr).toBe(3);
  });

  it("15.3 --cluster auto asks the API to place the job, which runs it on the cluster it ranks first", async () => {
    const run = await edp(["run", "hello", "--cluster", "auto", "--follow"], call);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("hello, ");
  });

  it("15.5 a bad token exits 5 with Sahara's error_message", async () => {
    const run = await edp(["jobs", "ls"], { ...call, env: { EDP_TOKEN: "not-a-token-of-anyone" } });
    expect(run.code).toBe(5);
    expect(run.stderr).toMatch(/^edp: UNAUTHORIZED: .+/m);
    expect(run.stdout).toBe("");
  });

  it("15.5 an unknown option is a usage error: exit 2", async () => {
    const run = await edp(["jobs", "ls", "--no-such-option"], call);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("unknown option '--no-such-option'");
    const bad = await edp(["wait", "x", "--timeout", "soon"], call);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--timeout takes a duration");
  });

  it("15.6 jobs ls -o json parses in a pipeline, and piped output is JSON by default", async () => {
    const { stdout } = await exec(
      "bash",
      ["-o", "pipefail", "-c", `"$EDP_BIN" jobs ls -o json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'`],
      {
        cwd: workDir,
        env: { ...cliEnv(call), EDP_BIN: new URL("../../node_modules/.bin/edp", import.meta.url).pathname },
      },
    );
    expect(Number(stdout.trim())).toBeGreaterThanOrEqual(3);
    const piped = await edp(["jobs", "ls"], call);
    const rows = JSON.parse(piped.stdout) as JobRow[];
    expect(rows.length).toBeGreaterThanOrEqual(3);
    const yaml = await edp(["clusters", "ls", "-o", "yaml"], call);
    expect(yaml.stdout).toMatch(/^- id: /);
    const table = await edp(["clusters", "ls", "-o", "table"], call);
    expect(table.stdout).toMatch(/^ID +NAME +PLUGIN +STATUS\n[0-9a-f-]{36} +local +spark /);
  });

  it("15.3 names work where ids do, an ambiguous name lists its candidates, and interface arguments become options", async () => {
    await writeFile(join(workDir, "greet.sh"), 'echo "greetings, $WHO"\n');
    expect((await edp(["binaries", "upload", "greet.sh"], call)).code).toBe(0);
    const iface = JSON.stringify([{ name: "who", mapping_type: "params", location: "WHO", required: true }]);
    const other = { ...call, env: { EDP_TOKEN: OTHER_TOKEN } };
    const template = ["templates", "create", "greet", "--type", "Shell", "--main", "greet.sh", "--interface", iface];
    // Ours first: once the other project's binary is public, "greet.sh" names two binaries for us.
    expect((await edp(template, call)).code).toBe(0);
    expect((await edp(["binaries", "upload", "greet.sh", "--public"], other)).code).toBe(0);
    const shared = await edp([...template, "--public"], other);
    expect(shared.code, shared.stderr).toBe(0);
    const binary = await edp(["binaries", "rm", "greet.sh"], call);
    expect(binary.code).toBe(5);
    expect(binary.stderr).toContain("2 job binaries are named greet.sh");
    const ambiguous = await edp(["templates", "show", "greet"], call);
    expect(ambiguous.code).toBe(5);
    expect(ambiguous.stderr).toContain("2 job templates are named greet");
    const ids = [...ambiguous.stderr.matchAll(/^ {2}([0-9a-f-]{36}) {2}greet/gm)].map((m) => m[1]);
    expect(ids).toHaveLength(2);

    const run = await edp(["run", ids[0], "--cluster", "local", "--who", "there", "--follow"], call);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe("greetings, there\n");
    const wrong = await edp(["run", ids[0], "--cluster", "local", "--whom", "there"], call);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain("takes --who");
  });

  it("15.3 logs, rerun and rm work by job id", async () => {
    const first = await edp(["run", "hello", "--cluster", "local", "--param", "GREETING=again", "-o", "json"], call);
    expect(first.code, first.stderr).toBe(0);
    const id = JSON.parse(first.stdout).id as string;
    const tail = await edp(["logs", id, "--tail", "1"], call);
    expect(tail.stdout).toBe("args: \n");
    const stderr = await edp(["logs", id, "--stderr"], call);
    expect(stderr.stdout).toBe("to stderr\n");
    // logs --follow prints what there is, then what comes, until the job ends.
    const slow = await edp(["run", "hello", "--cluster", "local", "--param", "GREETING=slowly", "--param", "NAP=3", "--no-wait"], call);
    const followed = await edp(["logs", slow.stdout.trim(), "--follow"], call);
    expect(followed.code, followed.stderr).toBe(0);
    expect(followed.stdout).toBe("hello, slowly\nargs: \n");
    expect((await edp(["jobs", "show", slow.stdout.trim(), "-o", "json"], call)).stdout).toContain('"status": "SUCCEEDED"');

    const rerun = await edp(["rerun", id, "--follow"], call);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stdout).toBe("hello, again\nargs: \n");
    const removed = await edp(["rm", id], call);
    expect(removed.code, removed.stderr).toBe(0);
    expect((await edp(["jobs", "show", id], call)).code).toBe(5);
  });

  it("15.4 wait polls with If-None-Match where the API gives an ETag, and shows queue reasons and attempts where it reports them", async () => {
    // Issues 12 and 13 add these to the API; until they land, a loopback proxy in front of the real one adds them
    // in their documented shapes: an ETag on GET /v2/jobs/{id} answered 304, info.queue and info.attempts.
    const counts = { conditional: 0, notModified: 0 };
    const proxy = createServer(async (request, response) => {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const upstream = await fetch(`${runtime!.url}${request.url}`, {
        method: request.method,
        headers: {
          "X-Auth-Token": String(request.headers["x-auth-token"]),
          "Content-Type": request.headers["content-type"] ?? "application/json",
        },
        body: chunks.length > 0 ? Buffer.concat(chunks) : undefined,
      });
      let body = await upstream.text();
      const single = request.method === "GET" && /^\/v2\/jobs\/[0-9a-f-]{36}(\?|$)/.test(String(request.url));
      if (single && upstream.ok) {
        const parsed = JSON.parse(body);
        const info = parsed.job.info;
        info.attempts = [{ attempt: 1, engine_job_id: parsed.job.engine_job_id }];
        if (info.status === "PENDING") info.queue = { position: 1, reason: "waiting for a free slot on local" };
        body = JSON.stringify(parsed);
        const etag = `"${createHash("sha256").update(body).digest("hex").slice(0, 16)}"`;
        response.setHeader("ETag", etag);
        if (request.headers["if-none-match"]) counts.conditional++;
        if (request.headers["if-none-match"] === etag) {
          counts.notModified++;
          response.writeHead(304).end();
          return;
        }
      }
      response.writeHead(upstream.status, { "Content-Type": "application/json" }).end(body);
    });
    await new Promise<void>((done) => proxy.listen(0, "127.0.0.1", done));
    try {
      const viaProxy = {
        ...call,
        env: { EDP_URL: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, EDP_TOKEN: runtime!.token },
      };
      const started = await edp(["run", "hello", "--cluster", "local", "--param", "NAP=6", "--no-wait"], viaProxy);
      expect(started.code, started.stderr).toBe(0);
      const wait = await edp(["wait", started.stdout.trim()], viaProxy);
      expect(wait.code, wait.stderr).toBe(0);
      expect(counts.conditional).toBeGreaterThan(0);
      expect(counts.notModified).toBeGreaterThan(0);
      expect(wait.stderr).toMatch(/RUNNING {2}\d+s {2}attempt 1\n/);
      expect(wait.stderr).toMatch(/SUCCEEDED {2}\d+s {2}attempt 1\n/);
      const queued = await edp(["run", "hello", "--cluster", "local"], viaProxy);
      expect(queued.stderr).toMatch(/PENDING {2}\d+s {2}queued #1: waiting for a free slot on local {2}attempt 1\n/);
    } finally {
      await new Promise((done) => proxy.close(done));
    }
  });

  it("15.2 login writes a 0600 profile; --profile and EDP_URL/EDP_TOKEN override it", async () => {
    const bad = await edp(["login", "--url", runtime!.url, "--token", "wrong-token-wrong-token"], call);
    expect(bad.code).toBe(5);
    const login = await edp(["login", "--url", runtime!.url, "--token", runtime!.token, "--profile", "here"], call);
    expect(login.code, login.stderr).toBe(0);
    const path = join(call.configHome, "edp", "config.json");
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(path, "utf8")).profiles.here).toEqual({ url: runtime!.url, token: runtime!.token });

    // From a directory without .edp/, the saved profile is what edp uses.
    const elsewhere = { ...call, cwd: call.configHome };
    const viaProfile = await edp(["whoami"], elsewhere);
    expect(viaProfile.stdout).toBe(`${runtime!.url}  (profile here)\n`);
    expect(viaProfile.stdout).not.toContain(runtime!.token);
    expect((await edp(["clusters", "ls", "-o", "json"], elsewhere)).code).toBe(0);
    // The environment overrides the profile: a bad token from it is used, and refused.
    const overridden = await edp(["clusters", "ls"], { ...elsewhere, env: { EDP_TOKEN: "not-a-token-of-anyone" } });
    expect(overridden.code).toBe(5);
    const url = await edp(["whoami"], { ...elsewhere, env: { EDP_URL: "http://127.0.0.1:1" } });
    expect(url.stdout).toBe("http://127.0.0.1:1  (environment)\n");
    // --token - reads it from stdin, out of argv.
    await exec("bash", ["-c", `"$EDP_BIN" login --profile piped --url "$URL" --token - < "$TOKEN_FILE"`], {
      cwd: workDir,
      env: { ...cliEnv(call), EDP_BIN, URL: runtime!.url, TOKEN_FILE: join(workDir, ".edp", "token") },
    });
    expect(JSON.parse(await readFile(path, "utf8")).profiles.piped).toEqual({ url: runtime!.url, token: runtime!.token });
    const unknown = await edp(["whoami", "--profile", "nope"], elsewhere);
    expect(unknown.code).toBe(2);
  });
});
