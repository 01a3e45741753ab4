import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sparkEngineRegistration } from "@edp/core/engines/spark/registration";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { eventually, startTestApi, type TestApi } from "../support/api.js";
import { commitsOf, type GitServer, randomContent, startGitServer } from "../support/git-server.js";
import { hostileStrings } from "../support/hostile.js";
import { captureLogs, scanTable } from "../support/leaks.js";
import { type SshServer, sshLogin, startSshd } from "../support/sshd.js";
import { requireTools, TOOLS } from "../support/tools.js";

const tools = requireTools(TOOLS.git, TOOLS.sshd, TOOLS.sshKeygen, TOOLS.setsid, TOOLS.ps);

const PRIVATE = { username: "deploy-bot", token: "glpat-s3cr3t-git-token-4d1e" };
/** The cap the test API fetches with: far above the small repositories, far below the big one. */
const CAP_KB = 256;
const TERMINAL = ["SUCCEEDED", "KILLED", "DONEWITHERROR", "FAILED"];

/**
 * Issue 16 point 1: job code from git. A real git server on loopback (Debian's git http-backend
 * behind a small Node server), the real API, and the real Spark engine running Shell jobs over a
 * real sshd.
 */
describe.runIf(tools.run)("16.1 git job binaries run on a real sshd cluster", () => {
  let sshd: SshServer;
  let gitServer: GitServer;
  let api: TestApi;
  let token: string;
  let clusterId: string;
  let scratch: string;
  const commits: Record<string, string> = {};
  let logs: string[];

  beforeAll(async () => {
    tools.assertPresent();
    scratch = mkdtempSync(join(tmpdir(), "edp-git-binaries-"));
    logs = captureLogs();
    gitServer = await startGitServer();
    // The public repository: two commits on main, the first tagged v1.
    const repo = gitServer.repository("repo");
    commits.first = repo.commit({ "jobs/hello.sh": 'echo "hello from the first commit"\n', README: "jobs\n" }, "first");
    repo.tag("v1");
    commits.second = repo.commit({ "jobs/hello.sh": 'echo "hello from the second commit"\n' }, "second");
    const secret = gitServer.repository("private", { credentials: PRIVATE });
    commits.private = secret.commit({ "run.sh": 'echo "private code ran"\n' }, "private");
    // Incompressible bytes four times the cap: whatever git's compression, the fetch exceeds it.
    gitServer.repository("big").commit({ "run.sh": "echo big\n", "blob.bin": randomContent(4 * CAP_KB * 1024) }, "big");

    sshd = await startSshd();
    api = await startTestApi({
      registrations: [sparkEngineRegistration],
      // Plain http only to this range (the git server, the sshd and the API itself are all on 127.0.0.1).
      env: { EDP_ALLOW_DESTINATIONS: "127.0.0.1/32", EDP_GIT_MAX_KB: String(CAP_KB) },
    });
    ({ token } = await api.newProject());
    clusterId = (
      await post("/v2/clusters", {
        name: "git-node",
        plugin_name: "spark",
        plugin_version: "3.5.0",
        connection: {
          ...sshLogin(sshd),
          working_dir_base: join(scratch, "work"),
        },
      })
    ).cluster.id;
  }, 90_000);

  afterAll(async () => {
    vi.restoreAllMocks();
    await api?.close();
    await sshd?.dispose();
    await gitServer?.close();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  const responses: string[] = [];
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await api.request(method, path, { token, body });
    responses.push(response.text);
    return response;
  };
  async function post(path: string, body: unknown) {
    const response = await call("POST", path, body);
    if (response.status !== 202) throw new Error(`${path}: ${response.status} ${response.text}`);
    return response.body;
  }
  const get = async (id: string) => (await call("GET", `/v2/jobs/${id}`)).body.job;
  const gitUrl = (repo: string, ref: string, path: string) => `git+http://127.0.0.1:${gitServer.port}/${repo}.git#${ref}:${path}`;

  let names = 0;
  /** A git binary, a Shell template with it as main, and one run of it on the sshd cluster, swept until it ends. */
  async function runFromGit(url: string, extra?: Record<string, string>) {
    const name = `git-${++names}`;
    const binary = (await post("/v2/job-binaries", { name: `${name}.sh`, url, ...(extra ? { extra } : {}) })).job_binary;
    const template = (await post("/v2/job-templates", { name, type: "Shell", mains: [binary.id] })).job_template;
    const created = (await post("/v2/jobs", { cluster_id: clusterId, job_template_id: template.id })).job;
    const job = await eventually(
      "the job to end",
      async () => {
        await api.core.jobs.sweep();
        const current = await get(created.id);
        return TERMINAL.includes(current.info.status) && current;
      },
      45_000,
    );
    return { binaryId: binary.id as string, job };
  }
  const templateOf = async (binaryId: string) => {
    const templates = (await call("GET", "/v2/job-templates")).body.job_templates as { id: string; mains: { id: string }[] }[];
    const found = templates.find((t) => t.mains.some((m) => m.id === binaryId));
    if (!found) throw new Error(`no template uses ${binaryId}`);
    return found;
  };
  const stdout = async (id: string) => (await call("GET", `/v2/jobs/${id}/output?stream=stdout`)).body.output.text as string;

  it("16.1 a Shell job whose main is git+http://127.0.0.1:…/repo.git#main:jobs/hello.sh reaches SUCCEEDED, with the commit recorded and the file's text in its output", async () => {
    const { binaryId, job } = await runFromGit(gitUrl("repo", "main", "jobs/hello.sh"));
    expect(job.info.status, JSON.stringify(job.info)).toBe("SUCCEEDED");
    expect(commitsOf(job)).toEqual({ [binaryId]: commits.second });
    expect(await stdout(job.id)).toContain("hello from the second commit");
  }, 60_000);

  it("16.2 16.3 16.4 after a new commit on main, rerun exact prints the old text and rerun current the new one; the diff shows both commits and hashes", async () => {
    const repo = gitServer.repository("evolving");
    const before = repo.commit({ "job.sh": 'echo "text of the old commit"\n' }, "old");
    const { binaryId, job: original } = await runFromGit(gitUrl("evolving", "main", "job.sh"));
    expect(original.info.status, JSON.stringify(original.info)).toBe("SUCCEEDED");
    expect(commitsOf(original)).toEqual({ [binaryId]: before });
    const after = repo.commit({ "job.sh": 'echo "text of the new commit"\n' }, "new");

    const rerunAndWait = async (mode: string) => {
      const created = (await post(`/v2/jobs/${original.id}/rerun`, { mode })).job;
      expect(created).toMatchObject({ rerun_of: original.id, rerun_mode: mode });
      return eventually(
        `the ${mode} re-run to end`,
        async () => {
          await api.core.jobs.sweep();
          const current = await get(created.id);
          return TERMINAL.includes(current.info.status) && current;
        },
        45_000,
      );
    };
    const exact = await rerunAndWait("exact");
    const current = await rerunAndWait("current");
    for (const job of [exact, current]) expect(job.info.status, JSON.stringify(job.info)).toBe("SUCCEEDED");
    expect(await stdout(exact.id)).toContain("text of the old commit");
    expect(await stdout(current.id)).toContain("text of the new commit");
    expect(commitsOf(exact)).toEqual({ [binaryId]: before });
    expect(commitsOf(current)).toEqual({ [binaryId]: after });

    const diff = (await call("GET", `/v2/jobs/${exact.id}/diff?other=${current.id}`)).body.diff;
    expect(diff.changed).toContain("code");
    expect(diff.code).toEqual([
      expect.objectContaining({
        role: "main",
        same: false,
        left: expect.objectContaining({ commit: before, sha256: exact.snapshot.code.mains[0].sha256 }),
        right: expect.objectContaining({ commit: after, sha256: current.snapshot.code.mains[0].sha256 }),
      }),
    ]);
    expect(exact.snapshot.code.mains[0].sha256).not.toBe(current.snapshot.code.mains[0].sha256);
  });

  it("16.1 a tag and a full commit SHA work as the ref, each running the code of its commit", async () => {
    const tagged = await runFromGit(gitUrl("repo", "v1", "jobs/hello.sh"));
    expect(tagged.job.info.status, JSON.stringify(tagged.job.info)).toBe("SUCCEEDED");
    // An annotated tag is recorded as the commit it points at.
    expect(commitsOf(tagged.job)).toEqual({ [tagged.binaryId]: commits.first });
    expect(await stdout(tagged.job.id)).toContain("hello from the first commit");

    // The first commit is no branch's tip: it is fetched by its SHA.
    const pinned = await runFromGit(gitUrl("repo", commits.first, "jobs/hello.sh"));
    expect(pinned.job.info.status, JSON.stringify(pinned.job.info)).toBe("SUCCEEDED");
    expect(commitsOf(pinned.job)).toEqual({ [pinned.binaryId]: commits.first });
    expect(await stdout(pinned.job.id)).toContain("hello from the first commit");
  }, 90_000);

  it("16.1 a private repository: without credentials the job ends FAILED with 'authentication required', with them it succeeds, and they never appear in a response or a log", async () => {
    const without = await runFromGit(gitUrl("private", "main", "run.sh"));
    expect(without.job.info.status).toBe("FAILED");
    expect(without.job.info.error).toContain("authentication required");
    expect(without.job.engine_job_id).toBeNull();

    const withCredentials = await runFromGit(gitUrl("private", "main", "run.sh"), PRIVATE);
    expect(withCredentials.job.info.status, JSON.stringify(withCredentials.job.info)).toBe("SUCCEEDED");
    expect(commitsOf(withCredentials.job)).toEqual({ [withCredentials.binaryId]: commits.private });
    expect(await stdout(withCredentials.job.id)).toContain("private code ran");
    // The server saw them: they were sent, as HTTP Basic.
    const basic = `Basic ${Buffer.from(`${PRIVATE.username}:${PRIVATE.token}`).toString("base64")}`;
    expect(gitServer.authorizations).toContain(basic);

    await call("GET", `/v2/job-binaries/${withCredentials.binaryId}`);
    await call("GET", "/v2/job-binaries");
    await call("GET", "/v2/jobs");
    await call("GET", `/v2/jobs/${withCredentials.job.id}?refresh_status=true`);
    for (const text of responses) {
      expect(text).not.toContain(PRIVATE.token);
      expect(text).not.toContain(basic);
    }
    const logged = logs.join("\n");
    expect(logged).not.toContain(PRIVATE.token);
    expect(logged).not.toContain(basic.slice("Basic ".length));
    // Kept in the secret store, not in the table.
    expect(await scanTable(api.ports.dynamoEndpoint, "edp-test")).not.toContain(PRIVATE.token);
  }, 90_000);

  it("16.1 an unknown ref and an unknown path each end the job FAILED with a clear reason, before anything runs", async () => {
    const noRef = await runFromGit(gitUrl("repo", "no-such-branch", "jobs/hello.sh"));
    expect(noRef.job.info.status).toBe("FAILED");
    expect(noRef.job.info.error).toBe(
      `No branch or tag 'no-such-branch' in the git repository at http://127.0.0.1:${gitServer.port}/repo.git`,
    );
    expect(noRef.job.engine_job_id).toBeNull();

    const noPath = await runFromGit(gitUrl("repo", "main", "jobs/missing.sh"));
    expect(noPath.job.info.status).toBe("FAILED");
    expect(noPath.job.info.error).toBe(
      `No file 'jobs/missing.sh' in http://127.0.0.1:${gitServer.port}/repo.git at 'main' (commit ${commits.second})`,
    );

    const directory = await runFromGit(gitUrl("repo", "main", "jobs"));
    expect(directory.job.info.status).toBe("FAILED");
    expect(directory.job.info.error).toContain("'jobs' in");
    expect(directory.job.info.error).toContain("is a directory, not a file");
  }, 90_000);

  it("16.1 a redirect is not followed (it could carry the credentials elsewhere): the job ends FAILED naming it", async () => {
    gitServer.redirect("moved", "repo");
    const { job } = await runFromGit(gitUrl("moved", "main", "jobs/hello.sh"), PRIVATE);
    expect(job.info.status).toBe("FAILED");
    expect(job.info.error).toBe(
      `http://127.0.0.1:${gitServer.port}/moved.git redirects (HTTP 301); git binaries follow no redirects: register the URL it redirects to`,
    );
  }, 60_000);

  it("16.1 a repository larger than EDP_GIT_MAX_KB is refused while it is received, and the job ends FAILED saying so", async () => {
    const { job } = await runFromGit(gitUrl("big", "main", "run.sh"));
    expect(job.info.status).toBe("FAILED");
    expect(job.info.error).toContain(`larger than the limit of ${CAP_KB} KiB (EDP_GIT_MAX_KB)`);
    expect(job.engine_job_id).toBeNull();
  }, 60_000);

  it("16.1 the destination rule decides again at each fetch, after DNS resolution: a name that now resolves to a denied address ends the job FAILED", async () => {
    const fetcher = api.core.jobBinaries.git;
    if (!fetcher) throw new Error("the core has no git fetcher");
    let address = "127.0.0.1";
    // A name only this resolver knows: the fetch connects to the address it returns, and nothing else is asked.
    fetcher.resolver = async (host) => {
      if (host !== "git.edp.test") throw Object.assign(new Error(`unknown name ${host}`), { code: "ENOTFOUND" });
      return [{ address, family: 4 }];
    };
    try {
      const url = `git+http://git.edp.test:${gitServer.port}/repo.git#main:jobs/hello.sh`;
      const first = await runFromGit(url);
      expect(first.job.info.status, JSON.stringify(first.job.info)).toBe("SUCCEEDED");
      expect(commitsOf(first.job)).toEqual({ [first.binaryId]: commits.second });

      // Registered while the name was allowed; it now points at a private address, which is never contacted.
      address = "10.0.0.1";
      const job = (await post("/v2/jobs", { cluster_id: clusterId, job_template_id: (await templateOf(first.binaryId)).id })).job;
      const ended = await eventually("the job to end", async () => {
        const current = await get(job.id);
        return TERMINAL.includes(current.info.status) && current;
      });
      expect(ended.info.status).toBe("FAILED");
      expect(ended.info.error).toContain("Refusing to connect to 'git.edp.test': 10.0.0.1 is a private address");
    } finally {
      fetcher.resolver = undefined;
    }
  }, 60_000);

  it("16.1 GET /v2/job-binaries/{id}/data of a git binary serves the file at its ref", async () => {
    const binary = (await post("/v2/job-binaries", { name: "data.sh", url: gitUrl("repo", "v1", "jobs/hello.sh") })).job_binary;
    const response = await call("GET", `/v2/job-binaries/${binary.id}/data`);
    expect(response.status).toBe(200);
    expect(response.text).toBe('echo "hello from the first commit"\n');
  });
});

/**
 * Registration: every URL that cannot be fetched is refused with a 400 before anything is stored.
 * No address here is ever contacted: the destination rule decides on literal addresses before any
 * connection (the one connection made is to the loopback git server's port, for nothing here).
 */
describe("16.1 registering git job binaries", () => {
  let api: TestApi;
  let token: string;
  const marker = join(tmpdir(), `edp-git-hostile-${process.pid}`);

  beforeAll(async () => {
    api = await startTestApi({ registrations: [], env: { EDP_ALLOW_DESTINATIONS: "127.0.0.1/32" } });
    ({ token } = await api.newProject());
  });
  afterAll(async () => {
    await api?.close();
    rmSync(marker, { force: true });
  });

  const count = async () => (await api.request("GET", "/v2/job-binaries", { token })).body.binaries.length as number;
  let names = 0;
  const register = (url: string, extra?: Record<string, string>) =>
    api.request("POST", "/v2/job-binaries", { token, body: { name: `b-${++names}`, url, ...(extra ? { extra } : {}) } });

  async function expectRefused(url: string, message: string | RegExp, extra?: Record<string, string>) {
    const before = await count();
    const response = await register(url, extra);
    expect(response.status, `${url}: ${response.text}`).toBe(400);
    expect(response.body.error_code, url).toBe(400);
    if (typeof message === "string") expect(response.body.error_message, url).toContain(message);
    else expect(response.body.error_message, url).toMatch(message);
    expect(await count(), url).toBe(before);
  }

  it("16.1 bad forms get a 400 saying what the form is, and store nothing", async () => {
    await expectRefused("git+https://git.example.com/repo.git", "names no ref and file");
    await expectRefused("git+https://git.example.com/repo.git#main", "names no file");
    await expectRefused("git+https://git.example.com/repo.git#:jobs/a.sh", "The ref (between '#' and ':') is empty");
    await expectRefused("git+https://git.example.com/repo.git#main:", "The path in the repository (after ':') is empty");
    await expectRefused("git+https://bot:token@git.example.com/repo.git#main:a.sh", "must not carry credentials");
    await expectRefused("git+https://git.example.com/repo.git?x=1#main:a.sh", "no query string");
    await expectRefused(
      "git+ftp://git.example.com/repo.git#main:a.sh",
      "A git job binary URL has the form git+https://host/path/repo.git#<ref>:<path/in/repo>",
    );
    await expectRefused("gopher://git.example.com/repo.git#main:a.sh", "scheme must be one of internal-db, s3, swift, git+https, git+http");
    await expectRefused("git+https://#main:a.sh", "is not a URL of the form");
    await expectRefused(
      "git+https://git.example.com/repo.git#main:a.sh",
      "To fetch a private git repository add both 'username' and 'token'",
      {
        username: "bot",
      },
    );
    await expectRefused("git+https://git.example.com/repo.git#main:a.sh", "takes only 'username' and 'token'", {
      password: "x",
    });
  });

  it("16.1 git+ssh:// (and git://) are refused with a 400 saying that only git+https (and git+http) are supported", async () => {
    for (const url of ["git+ssh://git@git.example.com/org/repo.git#main:a.sh", "git://git.example.com/repo.git#main:a.sh"]) {
      await expectRefused(url, "git+ssh:// is not supported");
      await expectRefused(url, "Use git+https://host/path/repo.git#<ref>:<path/in/repo>");
    }
  });

  it("16.1 plain http outside EDP_ALLOW_DESTINATIONS, and addresses the destination rule denies, get a 400 without being contacted", async () => {
    // A public address over plain http: the rule allows the address, but not plain http to it.
    await expectRefused("git+http://192.0.2.10/repo.git#main:a.sh", "would be reached over plain http, which must be https");
    await expectRefused("git+http://127.0.0.2/repo.git#main:a.sh", "127.0.0.2 is a loopback address");
    await expectRefused("git+https://10.1.2.3/repo.git#main:a.sh", "10.1.2.3 is a private address");
    await expectRefused("git+https://169.254.169.254/latest/repo.git#main:a.sh", "link-local (cloud metadata)");
    await expectRefused("git+https://[::1]/repo.git#main:a.sh", "::1 is a loopback address");
    await expectRefused("git+https://[::ffff:10.0.0.1]/repo.git#main:a.sh", "::ffff:a00:1 is a private address");

    // Allowed: https to a public address, plain http to the allowed range. Registration connects to neither.
    const before = await count();
    expect((await register("git+https://192.0.2.10/repo.git#main:a.sh")).status).toBe(202);
    expect((await register("git+http://127.0.0.1:9/repo.git#v1.0:jobs/a.sh")).status).toBe(202);
    expect(await count()).toBe(before + 2);
  });

  it("16.1 an update to a refused URL gets the same 400 and changes nothing", async () => {
    const created = await register("git+http://127.0.0.1:9/repo.git#main:a.sh");
    expect(created.status).toBe(202);
    const id = created.body.job_binary.id;
    for (const [url, message] of [
      ["git+http://10.9.9.9/repo.git#main:a.sh", "10.9.9.9 is a private address"],
      ["git+ssh://git@git.example.com/repo.git#main:a.sh", "git+ssh:// is not supported"],
      ["git+http://127.0.0.1:9/repo.git#main:../a.sh", "must not contain '.' or '..'"],
    ]) {
      const response = await api.request("PATCH", `/v2/job-binaries/${id}`, { token, body: { url } });
      expect(response.status, response.text).toBe(400);
      expect(response.body.error_message).toContain(message);
    }
    const extra = await api.request("PATCH", `/v2/job-binaries/${id}`, { token, body: { extra: { token: "only-a-token" } } });
    expect(extra.status, extra.text).toBe(400);
    const kept = await api.request("GET", `/v2/job-binaries/${id}`, { token });
    expect(kept.body.job_binary.url).toBe("git+http://127.0.0.1:9/repo.git#main:a.sh");
  });

  it("16.1 hostile strings (shell metacharacters, '..' traversal, huge strings) in the ref and the path get a 400 and store nothing", async () => {
    const base = "git+http://127.0.0.1:9/repo.git";
    for (const hostile of hostileStrings(marker)) {
      await expectRefused(`${base}#${hostile}:jobs/a.sh`, /ref|URL|form|file/);
      await expectRefused(`${base}#main:${hostile}`, /path|file|URL/);
    }
    for (const path of ["../../etc/passwd", "jobs/../../x.sh", "/etc/passwd", "jobs//a.sh", "./a.sh", "jobs/a.sh/"])
      await expectRefused(`${base}#main:${path}`, "The path in the repository");
    for (const ref of ["main..other", "-upload-pack=touch", "refs/heads/", ".hidden", "main.lock", "a//b"])
      await expectRefused(`${base}#${ref}:a.sh`, "is not a branch, tag or full commit SHA");
    await expectRefused(`${base}#main:${"a/".repeat(5000)}a.sh`, "url");
    await expectRefused(`${base}#${"x".repeat(300)}:a.sh`, "url");
    await expectRefused(`${base}#main:a.sh`, "extra", { username: "bot", token: "t".repeat(5000) });
    expect(existsSync(marker)).toBe(false);
  });
});
