import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePorts, type SshServer, sshLogin } from "./sshd.js";

const run = promisify(execFile);

export interface SparkApp {
  id: string;
  name: string;
  state: string;
}

export interface MasterState {
  aliveworkers: number;
  activeapps: SparkApp[];
  completedapps: SparkApp[];
}

export interface SparkCluster {
  sparkHome: string;
  masterUrl: string;
  webUiUrl: string;
  /** A jar with the test applications: edp.test.Pi, edp.test.Fail and edp.test.Sleep. */
  appJar: string;
  masterState(): Promise<MasterState>;
  stop(): Promise<void>;
}

/** The Spark distribution that PyPI's pyspark ships (bin/, jars/). */
export function pysparkHome(): string {
  return execFileSync("python3", ["-c", "import pyspark, os; print(os.path.dirname(pyspark.__file__))"], { encoding: "utf8" }).trim();
}

/** The version of PyPI's pyspark, which the tests register their Spark clusters at. */
export function pysparkVersion(): string {
  return execFileSync("python3", ["-c", "import pyspark; print(pyspark.__version__)"], { encoding: "utf8" }).trim();
}

/**
 * The body of `POST /v2/clusters` for this Spark cluster, reached over the test sshd: its jobs'
 * working directories under `<scratch>/work`, its configuration in `<scratch>/conf`. `connection`
 * adds to or replaces fields of the connection.
 */
export function sparkClusterRegistration(
  name: string,
  sshd: SshServer,
  spark: SparkCluster,
  scratch: string,
  connection: Record<string, unknown> = {},
) {
  return {
    name,
    plugin_name: "spark",
    plugin_version: pysparkVersion(),
    connection: {
      ...sshLogin(sshd),
      spark_home: spark.sparkHome,
      master_url: spark.masterUrl,
      working_dir_base: join(scratch, "work"),
      // The SSH login does not set these; the cluster's environment does.
      environment: { SPARK_LOCAL_IP: "127.0.0.1", SPARK_CONF_DIR: join(scratch, "conf") },
      ...connection,
    },
  };
}

/**
 * A Spark standalone Master and one Worker on loopback, from pyspark's distribution, plus the test
 * applications compiled against its jars. Everything binds to 127.0.0.1 (SPARK_LOCAL_IP also moves
 * the web UIs off 0.0.0.0).
 */
export async function startSparkCluster(): Promise<SparkCluster> {
  const sparkHome = pysparkHome();
  const dir = await mkdtemp(join(tmpdir(), "edp-spark-cluster-"));
  for (const sub of ["conf", "logs", "work"]) mkdirSync(join(dir, sub));
  const [masterPort, webUiPort, workerPort, workerUiPort] = await freePorts(4);
  const env = {
    ...process.env,
    SPARK_HOME: sparkHome,
    SPARK_LOCAL_IP: "127.0.0.1",
    // An empty configuration directory: nothing from the machine's own Spark setup leaks in.
    SPARK_CONF_DIR: join(dir, "conf"),
    SPARK_LOG_DIR: join(dir, "logs"),
    SPARK_DAEMON_MEMORY: "384m",
  };
  const processes: ChildProcess[] = [];
  const logs = new Map<string, string>();
  const daemon = (name: string, args: string[]) => {
    const child = spawn(join(sparkHome, "bin", "spark-class"), args, { env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    const keep = (chunk: Buffer) => logs.set(name, ((logs.get(name) ?? "") + chunk.toString()).slice(-3000));
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    processes.push(child);
  };
  const masterUrl = `spark://127.0.0.1:${masterPort}`;
  const webUiUrl = `http://127.0.0.1:${webUiPort}`;
  const masterState = async (): Promise<MasterState> => {
    const response = await fetch(`${webUiUrl}/json/`, { signal: AbortSignal.timeout(5000) });
    return (await response.json()) as MasterState;
  };
  const stop = async () => {
    await Promise.all(processes.map(stopGroup));
    await rm(dir, { recursive: true, force: true });
  };

  try {
    daemon("master", [
      "org.apache.spark.deploy.master.Master",
      "--host",
      "127.0.0.1",
      "--port",
      String(masterPort),
      "--webui-port",
      String(webUiPort),
    ]);
    daemon("worker", [
      "org.apache.spark.deploy.worker.Worker",
      "--host",
      "127.0.0.1",
      "--port",
      String(workerPort),
      "--webui-port",
      String(workerUiPort),
      "--cores",
      "3",
      "--memory",
      "2g",
      "--work-dir",
      join(dir, "work"),
      masterUrl,
    ]);
    // Compile while the daemons start.
    const appJar = await compileTestApps(sparkHome, dir);
    const deadline = Date.now() + 120_000;
    for (;;) {
      const state = await masterState().catch(() => undefined);
      if (state && state.aliveworkers >= 1) break;
      if (Date.now() > deadline || processes.some((child) => child.exitCode !== null)) {
        throw new Error(`Spark master/worker did not come up: ${JSON.stringify(Object.fromEntries(logs))}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    return { sparkHome, masterUrl, webUiUrl, appJar, masterState, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** SIGTERM to the daemon's process group (it and the executors it started), SIGKILL if it lingers. */
async function stopGroup(child: ChildProcess): Promise<void> {
  if (!child.pid || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, name);
    } catch {
      // Already gone.
    }
  };
  signal("SIGTERM");
  const timer = setTimeout(() => signal("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}

const SOURCES: Record<string, string> = {
  "Pi.java": `package edp.test;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

/** SparkPi: prints "Pi is roughly ..." on stdout. */
public final class Pi {
  public static void main(String[] args) {
    int slices = args.length > 0 ? Integer.parseInt(args[0]) : 2;
    JavaSparkContext sc = new JavaSparkContext(new SparkConf().setAppName("edp-test-pi"));
    int n = 100000 * slices;
    List<Integer> numbers = new ArrayList<>(n);
    for (int i = 0; i < n; i++) numbers.add(i);
    long inside = sc.parallelize(numbers, slices).filter(i -> {
      double x = Math.random() * 2 - 1;
      double y = Math.random() * 2 - 1;
      return x * x + y * y <= 1;
    }).count();
    System.out.println("Pi is roughly " + 4.0 * inside / n);
    sc.stop();
  }
}
`,
  "Fail.java": `package edp.test;

import java.util.Arrays;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

/** A Spark job whose tasks throw, so the application fails. */
public final class Fail {
  public static void main(String[] args) {
    JavaSparkContext sc = new JavaSparkContext(new SparkConf().setAppName("edp-test-fail"));
    sc.parallelize(Arrays.asList(1, 2), 1).map(i -> {
      if (i > 0) throw new IllegalStateException("edp test failure " + i);
      return i;
    }).count();
    sc.stop();
  }
}
`,
  "Sleep.java": `package edp.test;

import java.util.Arrays;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

/** A Spark job that sleeps in its task for the given seconds, to be cancelled mid-run. */
public final class Sleep {
  public static void main(String[] args) {
    long seconds = args.length > 0 ? Long.parseLong(args[0]) : 300;
    JavaSparkContext sc = new JavaSparkContext(new SparkConf().setAppName("edp-test-sleep"));
    System.out.println("sleep job started");
    System.out.flush();
    sc.parallelize(Arrays.asList(1), 1).map(i -> {
      Thread.sleep(seconds * 1000);
      return i;
    }).count();
    System.out.println("sleep job finished");
    sc.stop();
  }
}
`,
};

async function compileTestApps(sparkHome: string, dir: string): Promise<string> {
  const sources = join(dir, "src", "edp", "test");
  const classes = join(dir, "classes");
  mkdirSync(sources, { recursive: true });
  mkdirSync(classes);
  const files = Object.entries(SOURCES).map(([name, source]) => {
    writeFileSync(join(sources, name), source);
    return join(sources, name);
  });
  await run("javac", ["-nowarn", "-cp", `${join(sparkHome, "jars")}/*`, "-d", classes, ...files]);
  const jar = join(dir, "edp-test-apps.jar");
  await run("jar", ["cf", jar, "-C", classes, "."]);
  return jar;
}
