import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

const GIT = "/usr/bin/git";
const GIT_IDENTITY = {
  GIT_AUTHOR_NAME: "EDP test",
  GIT_AUTHOR_EMAIL: "test@edp.invalid",
  GIT_COMMITTER_NAME: "EDP test",
  GIT_COMMITTER_EMAIL: "test@edp.invalid",
};

/** Runs Debian's git with no user or system configuration, so the machine's settings cannot change what the tests see. */
function git(cwd: string, ...args: string[]): string {
  return execFileSync(GIT, args, {
    cwd,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: cwd,
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_CONFIG_GLOBAL: "/dev/null",
      ...GIT_IDENTITY,
    },
  })
    .toString()
    .trim();
}

/** A work tree whose commits are pushed to a bare repository the server serves. */
export class TestRepository {
  constructor(
    readonly name: string,
    private readonly work: string,
  ) {}

  /** Writes the files, commits them on the current branch and pushes it; returns the commit SHA. */
  commit(files: Record<string, string | Buffer>, message: string): string {
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(dirname(join(this.work, path)), { recursive: true });
      writeFileSync(join(this.work, path), content);
    }
    git(this.work, "add", "-A");
    git(this.work, "commit", "-q", "-m", message);
    git(this.work, "push", "-q", "origin", "HEAD");
    return git(this.work, "rev-parse", "HEAD");
  }

  /** An annotated tag on the current commit, pushed. */
  tag(name: string): void {
    git(this.work, "tag", "-a", name, "-m", `tag ${name}`);
    git(this.work, "push", "-q", "origin", name);
  }

  /** A new branch from the current commit, checked out (later commits go to it). */
  branch(name: string): void {
    git(this.work, "checkout", "-q", "-b", name);
  }

  checkout(name: string): void {
    git(this.work, "checkout", "-q", name);
  }
}

export interface GitServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** A bare repository served at `/<name>.git`, with `main` as its default branch. */
  repository(name: string, options?: { credentials?: { username: string; token: string } }): TestRepository;
  /** Answers every request under `/<from>.git` with a 301 to the same path under `/<to>.git`. */
  redirect(from: string, to: string): void;
  /** Every Authorization header the server received, for checking what clients sent. */
  authorizations: string[];
  close(): Promise<void>;
}

/**
 * A real git server on loopback: Debian's `git http-backend` (smart HTTP, the protocol GitHub and
 * GitLab speak) run as a CGI program behind a small Node HTTP server on 127.0.0.1. A repository
 * created with credentials answers 401 to requests without that HTTP Basic pair, as a private
 * repository on a forge does.
 */
export async function startGitServer(): Promise<GitServer> {
  const root = mkdtempSync(join(tmpdir(), "edp-git-server-"));
  const projects = join(root, "projects");
  mkdirSync(projects);
  const privateRepos = new Map<string, string>();
  const authorizations: string[] = [];
  const redirects = new Map<string, string>();

  const server: Server = createServer((request, response) => {
    // Every request on a connection of its own, so each one is resolved (and checked) anew by the client.
    response.setHeader("connection", "close");
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    const repo = /^\/([^/]+\.git)(\/.*)?$/.exec(url.pathname)?.[1];
    if (!repo) return end(response, 404, "no such repository");
    const movedTo = redirects.get(repo);
    if (movedTo) {
      response.writeHead(301, { location: `${url.pathname.replace(`/${repo}`, `/${movedTo}`)}${url.search}` });
      return response.end();
    }
    if (request.headers.authorization) authorizations.push(request.headers.authorization);
    const expected = privateRepos.get(repo);
    if (expected && request.headers.authorization !== expected) {
      response.setHeader("WWW-Authenticate", 'Basic realm="private"');
      return end(response, 401, "authentication required");
    }
    backend(request, response, url, projects, expected ? "tester" : undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    authorizations,
    redirect(from, to) {
      redirects.set(`${from}.git`, `${to}.git`);
    },
    repository(name, options = {}) {
      const bare = join(projects, `${name}.git`);
      git(projects, "init", "-q", "--bare", "-b", "main", bare);
      git(bare, "config", "http.receivepack", "false");
      if (options.credentials)
        privateRepos.set(
          `${name}.git`,
          `Basic ${Buffer.from(`${options.credentials.username}:${options.credentials.token}`).toString("base64")}`,
        );
      const work = join(root, "work", name);
      mkdirSync(work, { recursive: true });
      git(work, "init", "-q", "-b", "main");
      git(work, "remote", "add", "origin", bare);
      return new TestRepository(name, work);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Incompressible bytes, so a repository holding them is at least that large on the wire. */
export function randomContent(bytes: number): Buffer {
  return randomBytes(bytes);
}

function end(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { "content-type": "text/plain" });
  response.end(text);
}

/** One request through `git http-backend` (CGI): the request body to its stdin, its CGI headers and body back. */
function backend(request: IncomingMessage, response: ServerResponse, url: URL, projects: string, user: string | undefined): void {
  const child = spawn(GIT, ["http-backend"], {
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_CONFIG_GLOBAL: "/dev/null",
      GIT_PROJECT_ROOT: projects,
      GIT_HTTP_EXPORT_ALL: "1",
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.replace(/^\?/, ""),
      REQUEST_METHOD: request.method ?? "GET",
      CONTENT_TYPE: request.headers["content-type"] ?? "",
      REMOTE_ADDR: "127.0.0.1",
      ...(request.headers["content-length"] ? { CONTENT_LENGTH: request.headers["content-length"] } : {}),
      ...(request.headers["content-encoding"] ? { HTTP_CONTENT_ENCODING: String(request.headers["content-encoding"]) } : {}),
      ...(request.headers["git-protocol"] ? { GIT_PROTOCOL: String(request.headers["git-protocol"]) } : {}),
      ...(user ? { REMOTE_USER: user } : {}),
    },
  });
  request.pipe(child.stdin);
  child.stdin.on("error", () => undefined);
  let head = Buffer.alloc(0);
  let headersSent = false;
  child.stdout.on("data", (chunk: Buffer) => {
    if (headersSent) {
      response.write(chunk);
      return;
    }
    head = Buffer.concat([head, chunk]);
    const split = head.indexOf("\r\n\r\n");
    if (split < 0) return;
    const lines = head.subarray(0, split).toString("latin1").split("\r\n");
    let status = 200;
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(":");
      const name = line.slice(0, colon).trim();
      const value = line.slice(colon + 1).trim();
      if (name.toLowerCase() === "status") status = Number.parseInt(value, 10);
      else headers[name] = value;
    }
    response.writeHead(status, headers);
    headersSent = true;
    response.write(head.subarray(split + 4));
  });
  child.on("close", () => {
    if (!headersSent) end(response, 500, "git http-backend failed");
    else response.end();
  });
  child.on("error", () => {
    if (!headersSent) end(response, 500, "git http-backend could not start");
  });
}

/** The commit each git binary resolved to, as the run's snapshot records it (issue 16.2). */
export function commitsOf(job: { snapshot: { code: Record<"mains" | "libs", { binary_id: string; commit?: string }[]> } }) {
  return Object.fromEntries([...job.snapshot.code.mains, ...job.snapshot.code.libs].map((entry) => [entry.binary_id, entry.commit]));
}
