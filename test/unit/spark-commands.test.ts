import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildJobCommand, type JobCommandInput } from "@edp/core/engines/spark/job-command";
import { cancelScript, launchScript, outputScript, statusScript } from "@edp/core/engines/spark/remote-scripts";
import { isAtLeast, parseVersion } from "@edp/core/engines/spark/version";
import { binaryFileNames, workingDirOf } from "@edp/core/engines/spark/working-dir";
import { wrapperScript } from "@edp/core/engines/spark/wrapper-script";
import { EngineError } from "@edp/core/errors";
import { shellCommand } from "@edp/core/runners/shell-quote";
import { afterAll, describe, expect, it } from "vitest";
import { hostileStrings } from "../support/hostile.js";

const scratch = mkdtempSync(join(tmpdir(), "edp-spark-unit-"));
const marker = join(scratch, "pwned");
const hostile = hostileStrings(marker);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The words a real /bin/sh splits a command line into, without running it. */
function wordsOf(command: string): string[] {
  const output = execFileSync("/bin/sh", ["-c", `set -- ${command}\nprintf '%s\\0' "$@"`], { cwd: scratch });
  return output.toString("utf8").split("\0").slice(0, -1);
}

const SPARK: JobCommandInput = {
  type: "Spark",
  configs: { configs: { "edp.java.main_class": "org.me.myclass" }, params: {}, args: [] },
  mainFiles: ["app.jar"],
  libFiles: [],
  sparkSubmit: "/opt/spark/bin/spark-submit",
  masterUrl: "spark://master:7077",
};

describe("spark-submit command (Sahara's test_spark command strings, quoted)", () => {
  it("runs the main jar with --class in client deploy mode", () => {
    expect(buildJobCommand(SPARK)).toBe(
      "/opt/spark/bin/spark-submit --class org.me.myclass --master spark://master:7077 --deploy-mode client app.jar",
    );
  });

  it("puts libs in --jars right after --class, and appends args", () => {
    const command = buildJobCommand({
      ...SPARK,
      libFiles: ["jar1.jar", "jar2.jar"],
      configs: { ...SPARK.configs, args: ["input_arg", "output_arg"] },
    });
    expect(command).toBe(
      "/opt/spark/bin/spark-submit --class org.me.myclass --jars jar1.jar,jar2.jar --master spark://master:7077 --deploy-mode client app.jar input_arg output_arg",
    );
  });

  it("passes edp.spark.driver.classpath, edp.java.java_opts and spark.* configs, sorted", () => {
    const command = buildJobCommand({
      ...SPARK,
      configs: {
        ...SPARK.configs,
        configs: {
          "edp.java.main_class": "org.me.myclass",
          "edp.spark.driver.classpath": "my-classpath.jar",
          "edp.java.java_opts": "-Xmx1g -Dx=y",
          "spark.z": 1,
          "spark.executor.memory": "512m",
          "mapred.ignored": "x",
        },
      },
    });
    expect(wordsOf(command)).toEqual([
      "/opt/spark/bin/spark-submit",
      "--driver-class-path",
      "my-classpath.jar",
      "--driver-java-options",
      "-Xmx1g -Dx=y",
      "--class",
      "org.me.myclass",
      "--conf",
      "spark.executor.memory=512m",
      "--conf",
      "spark.z=1",
      "--master",
      "spark://master:7077",
      "--deploy-mode",
      "client",
      "app.jar",
    ]);
  });

  it("uses the first lib as the application jar of a Java job", () => {
    const command = buildJobCommand({ ...SPARK, type: "Java", mainFiles: [], libFiles: ["main.jar", "dep.jar"] });
    expect(command).toBe(
      "/opt/spark/bin/spark-submit --class org.me.myclass --jars dep.jar --master spark://master:7077 --deploy-mode client main.jar",
    );
  });

  it("quotes hostile args, configs, paths and master URLs so each stays one literal word", () => {
    const command = buildJobCommand({
      ...SPARK,
      sparkSubmit: "/opt/my spark/bin/spark-submit",
      masterUrl: hostile[1],
      configs: {
        configs: { "edp.java.main_class": "org.me.myclass", "edp.spark.driver.classpath": hostile[0], "spark.hostile": hostile[6] },
        params: {},
        args: hostile,
      },
    });
    expect(command).toContain(`app.jar '$(touch ${marker})' '\`touch ${marker}\`'`);
    expect(wordsOf(command)).toEqual([
      "/opt/my spark/bin/spark-submit",
      "--driver-class-path",
      hostile[0],
      "--class",
      "org.me.myclass",
      "--conf",
      `spark.hostile=${hostile[6]}`,
      "--master",
      hostile[1],
      "--deploy-mode",
      "client",
      "app.jar",
      ...hostile,
    ]);
    expect(existsSync(marker)).toBe(false);
  });

  it("refuses to build a command without a main class or an application jar", () => {
    expect(() => buildJobCommand({ ...SPARK, configs: { configs: {}, params: {}, args: [] } })).toThrow(EngineError);
    expect(() => buildJobCommand({ ...SPARK, mainFiles: [] })).toThrow(/no application jar/);
  });
});

describe("Shell job command (Sahara's test_shell, quoted)", () => {
  const SHELL: JobCommandInput = { ...SPARK, type: "Shell", mainFiles: ["main_script.sh"], configs: { configs: {}, params: {}, args: [] } };

  it("runs the main script with /bin/sh, params as environment variables and args as arguments", () => {
    expect(buildJobCommand(SHELL)).toBe("/bin/sh ./main_script.sh");
    expect(buildJobCommand({ ...SHELL, configs: { configs: { ignored: "x" }, params: { A: "a" }, args: ["x", "y"] } })).toBe(
      "A=a /bin/sh ./main_script.sh x y",
    );
  });

  it("quotes hostile param values and args", () => {
    const params = Object.fromEntries(hostile.map((value, i) => [`P${i}`, value]));
    const command = buildJobCommand({ ...SHELL, configs: { configs: {}, params, args: hostile } });
    expect(wordsOf(command)).toEqual([...hostile.map((value, i) => `P${i}=${value}`), "/bin/sh", "./main_script.sh", ...hostile]);
    expect(existsSync(marker)).toBe(false);
  });

  it("refuses param names that are not variable names, since they cannot be quoted", () => {
    for (const name of [`$(touch ${marker})`, "A B", "1A", "A;B", ""]) {
      expect(() => buildJobCommand({ ...SHELL, configs: { configs: {}, params: { [name]: "v" }, args: [] } })).toThrow(EngineError);
    }
  });
});

describe("working directory and file names", () => {
  it("is <base>/<job name>/<execution id>, deterministic", () => {
    expect(workingDirOf("/tmp/spark-edp", "wordcount", "3f1c")).toBe("/tmp/spark-edp/wordcount/3f1c");
    expect(workingDirOf("/tmp/spark-edp/", "wordcount", "3f1c")).toBe(workingDirOf("/tmp/spark-edp", "wordcount", "3f1c"));
  });

  it("never lets a name climb out of the base or add a level", () => {
    for (const name of ["..", "../../etc", "a/b", ".hidden", `$(touch ${marker})`, "", "ü/..", ...hostile]) {
      const dir = workingDirOf("/base", name, "exec-1");
      const parts = dir.slice("/base/".length).split("/");
      expect(dir.startsWith("/base/")).toBe(true);
      expect(parts).toHaveLength(2);
      expect(parts[0]).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/);
      expect(parts[1]).toBe("exec-1");
    }
    expect(workingDirOf("/base", "job", "../x").split("/")).toHaveLength(4);
    expect(workingDirOf("/base", "x".repeat(500), "e").length).toBeLessThan(200);
  });

  it("names binaries safely: no commas (they split --jars), no clash with the wrapper's files or each other", () => {
    expect(binaryFileNames(["app.jar", "a,b.jar", "stdout", "launch_command", "app.jar", "../evil", ".launched"])).toEqual([
      "app.jar",
      "a_b.jar",
      "2-stdout",
      "3-launch_command",
      "4-app.jar",
      "___evil",
      "_launched",
    ]);
  });
});

describe("the launch wrapper", () => {
  it("exports the cluster environment quoted and refuses unusable names", () => {
    const script = wrapperScript({ workingDir: "/w d", environment: { SPARK_LOCAL_IP: "127.0.0.1", X: hostile[0] }, command: "true" });
    expect(script).toContain("cd '/w d' || exit 1");
    expect(script).toContain(`X='$(touch ${marker})'; export X`);
    expect(script).toContain("trap 'cancelled=yes' INT TERM");
    expect(() => wrapperScript({ workingDir: "/w", environment: { "A;B": "x" }, command: "true" })).toThrow(EngineError);
  });

  it("records its PID, the job's output and the exit status when run by /bin/sh", () => {
    const dir = mkdtempSync(join(scratch, "wrapper $(touch pwned) "));
    writeFileSync(
      join(dir, "launch_command"),
      wrapperScript({
        workingDir: dir,
        environment: { GREETING: hostile[3] },
        command: shellCommand("/bin/sh", "-c", 'echo "$GREETING"; echo oops >&2; exit 3'),
      }),
    );
    execFileSync("/bin/sh", [join(dir, "launch_command")], { cwd: scratch });
    expect(readFileSync(join(dir, "stdout"), "utf8")).toBe(`${hostile[3]}\n`);
    expect(readFileSync(join(dir, "stderr"), "utf8")).toBe("oops\n");
    expect(readFileSync(join(dir, "result"), "utf8")).toBe("3\n");
    expect(readFileSync(join(dir, "pid"), "utf8")).toMatch(/^\d+\n$/);
    expect(existsSync(marker) || existsSync(join(scratch, "pwned"))).toBe(false);
  });
});

describe("remote scripts", () => {
  it("launch: moves staged files, starts the wrapper with setsid -f only once, and prints its PID", () => {
    const script = launchScript({
      workingDir: "/w/job/e1",
      stagingDir: "/w/job/e1/.staging-ab",
      fileNames: ["app.jar", "launch_command"],
      start: true,
    });
    expect(script).toContain("if mkdir .launched 2>/dev/null; then");
    expect(script).toContain("mv -f /w/job/e1/.staging-ab/app.jar app.jar || exit 3");
    expect(script).toContain("setsid -f /bin/sh /w/job/e1/launch_command </dev/null >/dev/null 2>&1");
    expect(script).toContain('echo "pid=$(cat pid)"');
    const probe = launchScript({ workingDir: "/w/job/e1", stagingDir: "/w/job/e1/.staging-ab", fileNames: [], start: false });
    expect(probe).toContain("if false .launched");
    expect(probe).not.toContain("mv -f");
  });

  it("quote every path and value they are given", () => {
    const dir = `/w/${hostile[0]}`;
    const job = { key: "0", pid: "123", workingDir: dir };
    for (const script of [
      launchScript({ workingDir: dir, stagingDir: `${dir}/.s`, fileNames: [hostile[2]], start: true }),
      statusScript("EDP-b", [job]),
      cancelScript("EDP-b", job, { force: true, termGraceSeconds: 2 }),
      outputScript(dir, "stdout", 10, 1000),
    ]) {
      expect(script).toContain(`'/w/$(touch ${marker})`);
      expect(script).not.toContain(` /w/$(touch`);
    }
  });

  it("cancel: SIGINT to the process group, or SIGTERM then SIGKILL when forced", () => {
    const job = { key: "0", pid: "4242", workingDir: "/w/j/e" };
    const gentle = cancelScript("EDP-b", job, { force: false, termGraceSeconds: 10 });
    expect(gentle).toContain('kill -s INT -- "-$pid"');
    expect(gentle).not.toContain("KILL --");
    const forced = cancelScript("EDP-b", job, { force: true, termGraceSeconds: 10 });
    expect(forced).toContain('kill -s TERM -- "-$pid"');
    expect(forced).toContain('edp_wait_group "$pid" 100');
    expect(forced).toContain('kill -s KILL -- "-$pid"');
    expect(forced).toContain("echo 130 >");
  });

  it("output: the tail of the chosen stream, bounded in lines and bytes", () => {
    expect(outputScript("/w/j/e", "stderr", 50, 1000)).toContain(
      "if [ -f /w/j/e/stderr ]; then tail -n 50 /w/j/e/stderr | tail -c 1000; fi\n",
    );
  });
});

describe("Spark versions, compared as numbers", () => {
  it("parses the numeric prefix", () => {
    expect(parseVersion("3.5.1")).toEqual([3, 5, 1]);
    expect(parseVersion("2.4.0-cdh6")).toEqual([2, 4, 0]);
    expect(parseVersion("4")).toEqual([4]);
    expect(parseVersion("v1")).toBeUndefined();
  });

  it("compares part by part, not as strings", () => {
    expect(isAtLeast("1.0.0", "1.0.0")).toBe(true);
    expect(isAtLeast("1", "1.0.0")).toBe(true);
    expect(isAtLeast("0.9.2", "1.0.0")).toBe(false);
    expect(isAtLeast("10.0.0", "9.9.9")).toBe(true);
    expect(isAtLeast("1.10", "1.9")).toBe(true);
    expect(isAtLeast("1.9", "1.10")).toBe(false);
    expect(isAtLeast("garbage", "1.0.0")).toBe(false);
  });
});
