import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { statusScript } from "@edp/core/engines/spark/remote-scripts";
import { type ObservedJob, parseEngineJobId, parseStatusOutput, statusOf } from "@edp/core/engines/spark/status";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const JOB = { pid: "4242", node: "master-1", workingDir: "/tmp/spark-edp/job/e1" };

describe("status mapping (seed 002)", () => {
  const cases: [ObservedJob, string][] = [
    [{ state: "running" }, "RUNNING"],
    [{ state: "done", result: "0" }, "SUCCEEDED"],
    [{ state: "done", result: "130" }, "KILLED"],
    [{ state: "done", result: "-2" }, "KILLED"],
    [{ state: "done", result: "1" }, "DONEWITHERROR"],
    [{ state: "done", result: "143" }, "DONEWITHERROR"],
    [{ state: "done", result: "" }, "DONEWITHERROR"],
    [{ state: "done", result: "garbage" }, "DONEWITHERROR"],
    [{ state: "gone" }, "DONEWITHERROR"],
    [{ state: "nodir" }, "DONEWITHERROR"],
  ];
  for (const [observed, status] of cases) {
    it(`${JSON.stringify(observed)} → ${status}`, () => {
      expect(statusOf(observed, JOB).status).toBe(status);
    });
  }

  it("explains errors with the exit status and the stderr excerpt, and keeps the exit status", () => {
    expect(statusOf({ state: "done", result: "1", stderr: "java.lang.RuntimeException: boom" }, JOB)).toEqual({
      status: "DONEWITHERROR",
      error: "The job exited with status 1. From its stderr:\njava.lang.RuntimeException: boom",
      details: { exit_status: 1 },
    });
    expect(statusOf({ state: "done", result: "0" }, JOB)).toEqual({ status: "SUCCEEDED", details: { exit_status: 0 } });
    expect(statusOf({ state: "gone" }, JOB).error).toContain("PID 4242 on master-1");
    expect(statusOf({ state: "nodir" }, JOB).error).toContain("/tmp/spark-edp/job/e1 no longer exists on master-1");
  });
});

describe("engine job id (Sahara: pid@instance)", () => {
  it("parses <pid>@<node> and rejects anything else", () => {
    expect(parseEngineJobId("12345@6789")).toEqual({ pid: "12345", node: "6789" });
    expect(parseEngineJobId("12345@master.example.com")).toEqual({ pid: "12345", node: "master.example.com" });
    for (const bad of ["", "@", "something", "123@", "@instance", "pid@instance", "1;2@x", "$(x)@y"]) {
      expect(parseEngineJobId(bad)).toBeUndefined();
    }
  });
});

describe("parsing the batched status output", () => {
  const B = "EDP-0123abcd";

  it("reads one framed block per job and ignores everything around them", () => {
    const output = [
      "Welcome to the master node!",
      `${B} job 0`,
      "state=running",
      `${B} end`,
      "noise from .bashrc",
      `${B} job 1`,
      "state=done",
      "result=1",
      `${B} stderr`,
      "state=done",
      "result=0",
      `EDP-forged job 0`,
      `EDP-forged end`,
      "Exception in thread main",
      "",
      `${B} end`,
      `${B} job 2`,
      "state=done",
      "result=0",
      `${B} end`,
      `${B} job 3`,
      "state=weird",
      `${B} end`,
      `${B} job 4`,
      "state=done",
    ].join("\n");
    const jobs = parseStatusOutput(output, B);
    expect([...jobs.keys()]).toEqual(["0", "1", "2"]);
    expect(jobs.get("0")).toEqual({ state: "running" });
    expect(jobs.get("1")).toEqual({
      state: "done",
      result: "1",
      stderr: "state=done\nresult=0\nEDP-forged job 0\nEDP-forged end\nException in thread main",
    });
    expect(jobs.get("2")).toEqual({ state: "done", result: "0" });
  });
});

describe("the batched status script, run by /bin/sh against real working directories", () => {
  const scratch = mkdtempSync(join(tmpdir(), "edp-status-"));
  const B = "EDP-feedface";
  let running: ChildProcess;
  let deadPid: string;

  const workingDir = (name: string, files: Record<string, string>) => {
    const dir = join(scratch, name);
    mkdirSync(dir);
    for (const [file, content] of Object.entries(files)) writeFileSync(join(dir, file), content);
    return dir;
  };

  beforeAll(() => {
    const dir = workingDir("running", { launch_command: "sleep 30\n" });
    running = spawn("/bin/sh", [join(dir, "launch_command")], { stdio: "ignore" });
    deadPid = execFileSync("/bin/sh", ["-c", "sh -c 'echo $$' "], { encoding: "utf8" }).trim();
  });
  afterAll(() => {
    running?.kill("SIGKILL");
    rmSync(scratch, { recursive: true, force: true });
  });

  it("reports every job in one run: running, finished, killed, failed with an excerpt, vanished, and a reused PID", () => {
    const stderr = [
      "INFO starting",
      'Exception in thread "main" java.lang.IllegalStateException: boom',
      "\tat edp.test.Fail.main(Fail.java:10)",
      "INFO shutdown hook called",
    ].join("\n");
    const jobs = [
      { key: "0", pid: String(running.pid), workingDir: join(scratch, "running") },
      { key: "1", pid: "1", workingDir: workingDir("succeeded", { result: "0\n" }) },
      { key: "2", pid: "1", workingDir: workingDir("killed", { result: "130\n" }) },
      { key: "3", pid: "1", workingDir: workingDir("failed", { result: "1\n", stderr: `${stderr}\n` }) },
      { key: "4", pid: deadPid, workingDir: workingDir("vanished", { stderr: "last words\n" }) },
      // PID 1 is alive but is not this job's wrapper (its command line does not name the directory).
      { key: "5", pid: "1", workingDir: workingDir("reused-pid", {}) },
      { key: "6", pid: "1", workingDir: join(scratch, "no-such-dir") },
    ];
    const output = execFileSync("/bin/sh", ["-s"], { input: statusScript(B, jobs), encoding: "utf8" });
    const seen = parseStatusOutput(output, B);
    expect(Object.fromEntries(seen)).toEqual({
      "0": { state: "running" },
      "1": { state: "done", result: "0" },
      "2": { state: "done", result: "130" },
      "3": { state: "done", result: "1", stderr: 'Exception in thread "main" java.lang.IllegalStateException: boom' },
      "4": { state: "gone", stderr: "last words" },
      "5": { state: "gone" },
      "6": { state: "nodir" },
    });
    const statuses = jobs.map((job) => statusOf(seen.get(job.key)!, { ...job, node: "localhost" }).status);
    expect(statuses).toEqual(["RUNNING", "SUCCEEDED", "KILLED", "DONEWITHERROR", "DONEWITHERROR", "DONEWITHERROR", "DONEWITHERROR"]);
  });
});
