import pLimit from "p-limit";
import { EngineError } from "../../errors.js";
import { attemptName } from "../../model/job-execution.js";
import type { JobType } from "../../model/job-types.js";
import { checkedFetch } from "../../net/checked-fetch.js";
import { destinationRuleFor } from "../../net/destinations.js";
import type {
  ClusterAccess,
  ClusterState,
  EngineSettings,
  HealthFinding,
  JobEngine,
  LaunchedJob,
  PreparedJob,
  RunResult,
  StatusReport,
} from "../engine.js";
import { checkOozieCluster, resourceManagerLoad } from "./cluster-health.js";
import { type OozieConnection, resolveConnection } from "./connection.js";
import { elLiteral } from "./el.js";
import type { FetchLike, HttpOptions } from "./http.js";
import { credentialProperties, dataSourceUrl, splitConfigs } from "./job-config.js";
import { jobProperties } from "./job-properties.js";
import { CREDENTIALS_FILE, DIRECTORY_PERMISSION, FILE_PERMISSION, type HdfsLayout, planLayout, SECRET_FILE_PERMISSION } from "./layout.js";
import { OozieClient, OozieError, type OozieWorkflow } from "./oozie-client.js";
import { isTerminalOozieStatus, mapWorkflowStatus, needsActionDetails, statusFromListing } from "./status.js";
import { WebHdfsClient } from "./webhdfs-client.js";
import { buildWorkflowXml, type WorkflowInput, workflowAppName } from "./workflow.js";
import { hadoopConfiguration, renderXml } from "./xml.js";

/** How many workflow names go into one jobs-listing filter: keeps the URL well under 8 KiB. */
const NAMES_PER_LISTING = 40;
/** Parallel requests to one Oozie server (follow-up info calls, uploads). */
const PER_CLUSTER_CONCURRENCY = 4;

export interface OozieEngineOptions {
  settings: EngineSettings;
  /** For tests; defaults to fetch through the destination rule of `settings.allowedDestinations`. */
  fetch?: FetchLike;
}

interface Clients {
  connection: OozieConnection;
  oozie: OozieClient;
  hdfs: WebHdfsClient;
}

/**
 * Runs Hadoop job types on a registered cluster through Oozie (Sahara §8): uploads the
 * job's files to a per-execution HDFS directory over WebHDFS, writes a generated
 * workflow.xml beside them, submits and starts it over Oozie's REST API, and reads statuses
 * back, many at a time for the sweep.
 */
export class OozieJobEngine implements JobEngine {
  private readonly http: HttpOptions;

  constructor(options: OozieEngineOptions) {
    const destinations = destinationRuleFor(options.settings.allowedDestinations);
    this.http = { fetch: options.fetch ?? checkedFetch(destinations), timeoutMs: options.settings.commandTimeoutMs };
  }

  async runJob(job: PreparedJob): Promise<RunResult> {
    const clients = this.clients(job.access);
    const { connection, oozie } = clients;
    const appName = workflowAppName(job.execution);

    // A launch retried after a crash finds the workflow the first attempt submitted.
    const previous = await this.findWorkflow(clients, appName);
    if (previous) return this.resume(job, oozie, previous);

    const layout = planLayout({
      baseDir: connection.workflowBaseDir,
      templateName: job.template.name,
      // The attempt's own directory: a retried launch of the attempt rewrites it, another attempt never does.
      executionId: attemptName(job.execution),
      jobType: job.template.type,
      mains: job.mains,
      libs: job.libs,
    });
    const configs = splitConfigs(job.configs);
    const credentials = credentialProperties([job.input, job.output]);
    const workflowXml = buildWorkflowXml({
      jobType: oozieJobType(job.template.type),
      appName,
      configs,
      mainNames: layout.mainNames,
      libNames: layout.libNames,
      inputUrl: dataSourceUrl(job.input),
      outputUrl: dataSourceUrl(job.output),
      credentialsJobXml: credentials.size > 0 ? CREDENTIALS_FILE : undefined,
      hiveSitePath: connection.hiveSitePath,
    } satisfies WorkflowInput);

    await this.upload(clients.hdfs, layout, workflowXml, credentials);

    const jobId = await oozie.submit(jobProperties(connection, layout.workflowDir, configs, job.callbackUrl));
    const extra = { oozie_workflow_dir: `${connection.nameNode}${layout.workflowDir}` };
    // A cancel that arrived while the files were uploading: the submitted job is still in
    // PREP, which never runs on its own; kill it so Oozie shows it ended, and do not start it.
    // The workflow names the credentials file, never its contents; the boundary scrubs it anyway.
    const rendered = workflowXml;
    if (await job.isCancelRequested()) return { engineJobId: jobId, status: await this.killPrep(oozie, jobId), extra, rendered };
    try {
      await oozie.start(jobId);
    } catch (error) {
      await oozie.kill(jobId).catch(() => undefined);
      throw error;
    }
    return { engineJobId: jobId, status: "RUNNING", extra, rendered };
  }

  async getJobStatus(job: LaunchedJob): Promise<StatusReport | undefined> {
    const { oozie } = this.clients(job.access);
    return mapWorkflowStatus(await oozie.info(job.execution.engine_job_id));
  }

  /**
   * Oozie's kill is already final (it kills the launcher and the Hadoop jobs), so `force`
   * changes nothing. Oozie answers 200 and changes nothing for a job that had already ended
   * (KillXCommand's E0725 precondition, swallowed by XCommand.call), and a FAILED job stays
   * FAILED; the status read after the kill is what is reported.
   */
  async cancelJob(job: LaunchedJob, _options: { force: boolean }): Promise<StatusReport | undefined> {
    const { oozie } = this.clients(job.access);
    const jobId = job.execution.engine_job_id;
    let killError: unknown;
    await oozie.kill(jobId).catch((error: unknown) => {
      killError = error;
    });
    const workflow = await oozie.info(jobId);
    if (killError && !isTerminalOozieStatus(workflow.status)) throw killError;
    return mapWorkflowStatus(workflow);
  }

  /**
   * One jobs-listing request per 40 workflows (normally one per cluster): the listing
   * filters on the workflows' names alone, `edp-<execution id>-<launch nonce>` (see `findWorkflow` for why not the user). The listing has
   * no action details, so the few workflows found KILLED or FAILED are read once more with
   * `show=info` to tell a failed job from a cancelled one. Keyed by execution id.
   */
  async getJobStatuses(cluster: ClusterAccess, jobs: LaunchedJob[]): Promise<Map<string, StatusReport>> {
    const clients = this.clients(cluster);
    const reports = new Map<string, StatusReport>();
    const byOozieId = new Map(jobs.map((job) => [job.execution.engine_job_id, job]));
    const listed = new Map<string, OozieWorkflow>();
    for (let start = 0; start < jobs.length; start += NAMES_PER_LISTING) {
      const chunk = jobs.slice(start, start + NAMES_PER_LISTING);
      const names = [...new Set(chunk.map((job) => workflowAppName(job.execution)))];
      // Room for more than one workflow per name (e.g. a submission retried by hand in Oozie).
      const workflows = await clients.oozie.listWorkflows({ names }, names.length * 2 + 10);
      for (const workflow of workflows) if (byOozieId.has(workflow.id)) listed.set(workflow.id, workflow);
    }
    const limit = pLimit(PER_CLUSTER_CONCURRENCY);
    await Promise.all(
      jobs.map((job) =>
        limit(async () => {
          const workflow = listed.get(job.execution.engine_job_id);
          let report = workflow ? statusFromListing(workflow) : undefined;
          if (!report && (!workflow || needsActionDetails(workflow.status))) {
            // Not in the listing (purged, or an older server) or ended badly: ask for this one.
            // A failure here leaves this job for the next sweep instead of failing the batch.
            report = await this.getJobStatus(job).catch(() => undefined);
          }
          if (report) reports.set(job.execution.id, report);
        }),
      ),
    );
    return reports;
  }

  /** Issue 13.1: the statuses as getJobStatuses reads them, and YARN's metrics for the load. */
  async getClusterState(cluster: ClusterAccess, jobs: LaunchedJob[]): Promise<ClusterState> {
    const [statuses, load] = await Promise.all([
      jobs.length > 0 ? this.getJobStatuses(cluster, jobs) : new Map<string, StatusReport>(),
      resourceManagerLoad(resolveConnection(cluster), this.http),
    ]);
    return { statuses, load };
  }

  /** Issue 13.0: Oozie's `/versions` and WebHDFS answer. */
  checkCluster(cluster: ClusterAccess): Promise<HealthFinding> {
    return checkOozieCluster(resolveConnection(cluster), this.http);
  }

  /** The Authorization header sent with every request: what a hostile endpoint echoes instead of the password. */
  secretsDerived(access: ClusterAccess): readonly string[] {
    const { authorization } = resolveConnection(access);
    return authorization ? [authorization] : [];
  }

  /** `show=log` for stdout, `show=errorlog` (Oozie 4.2+) for stderr; the last `tailLines` lines. */
  async readOutput(job: LaunchedJob, stream: "stdout" | "stderr", tailLines: number): Promise<string> {
    const { oozie } = this.clients(job.access);
    const jobId = job.execution.engine_job_id;
    if (stream === "stdout") return tail(await oozie.log(jobId, "log"), tailLines);
    try {
      return tail(await oozie.log(jobId, "errorlog"), tailLines);
    } catch (error) {
      // Servers before 4.2 do not know show=errorlog (E0303): their whole log is all there is.
      if (error instanceof OozieError && error.oozieCode === "E0303") return tail(await oozie.log(jobId, "log"), tailLines);
      throw error;
    }
  }

  private clients(access: ClusterAccess): Clients {
    const connection = resolveConnection(access);
    return { connection, oozie: new OozieClient(connection, this.http), hdfs: new WebHdfsClient(connection, this.http) };
  }

  /**
   * By the workflow's name alone: Oozie makes the job's owner the authenticated (or doAs) user
   * whatever `user.name` says (BaseJobsServlet.doPost), so behind a gateway the owner is the
   * gateway's principal, not hdfs_user, and a `user=` filter would miss the earlier launch.
   */
  private async findWorkflow(clients: Clients, appName: string): Promise<OozieWorkflow | undefined> {
    const found = await clients.oozie.listWorkflows({ names: [appName] }, 10);
    // Oozie lists the newest first.
    return found.find((workflow) => workflow.appName === appName);
  }

  /** Continues a launch an earlier attempt got as far as submitting. */
  private async resume(job: PreparedJob, oozie: OozieClient, workflow: OozieWorkflow): Promise<RunResult> {
    if (workflow.status !== "PREP") {
      const report = mapWorkflowStatus(workflow);
      return { engineJobId: workflow.id, status: report?.status ?? "RUNNING" };
    }
    if (await job.isCancelRequested()) return { engineJobId: workflow.id, status: await this.killPrep(oozie, workflow.id) };
    await oozie.start(workflow.id);
    return { engineJobId: workflow.id, status: "RUNNING" };
  }

  /** Kills a submitted, never started job. Were the kill refused, a PREP job still never runs. */
  private async killPrep(oozie: OozieClient, jobId: string): Promise<"KILLED"> {
    await oozie.kill(jobId).catch(() => undefined);
    return "KILLED";
  }

  /**
   * The workflow directory and lib/ are created owner-only; binaries and workflow.xml are
   * written with overwrite, since the directory belongs to this execution alone and a retried
   * launch must be able to rewrite a half-finished upload.
   *
   * Data-source credentials (Swift login, S3 keys) are not written into workflow.xml, which
   * Oozie keeps in its database and shows through `show=definition` and its UI. They go into
   * a separate Hadoop configuration file, mode 600 inside the 700 directory, that the action
   * loads with `<job-xml>`: readable only by the job's user on HDFS. (Sahara avoided clear
   * credentials with proxy users and trusts, which a registered cluster does not have; a
   * Hadoop credential provider would need a JCEKS keystore written by Java tooling.)
   */
  private async upload(hdfs: WebHdfsClient, layout: HdfsLayout, workflowXml: string, credentials: Map<string, string>): Promise<void> {
    await hdfs.mkdirs(layout.workflowDir, DIRECTORY_PERMISSION);
    if (layout.libDir) await hdfs.mkdirs(layout.libDir, DIRECTORY_PERMISSION);
    const limit = pLimit(PER_CLUSTER_CONCURRENCY);
    await Promise.all(
      layout.uploads.map((upload) =>
        limit(async () => hdfs.create(upload.path, await upload.binary.read(), { overwrite: true, permission: FILE_PERMISSION })),
      ),
    );
    if (credentials.size > 0) {
      // Oozie 4.x evaluates EL in job-xml files too, so a `${` in a password must stay literal.
      const escaped = new Map([...credentials].map(([key, value]) => [key, elLiteral(value)] as const));
      await hdfs.create(layout.credentialsPath, renderXml(hadoopConfiguration(escaped)), {
        overwrite: true,
        permission: SECRET_FILE_PERMISSION,
      });
    }
    await hdfs.create(layout.workflowPath, workflowXml, { overwrite: true, permission: FILE_PERMISSION });
  }
}

function oozieJobType(type: JobType): WorkflowInput["jobType"] {
  if (type === "Spark") throw new EngineError("The Oozie engine does not run Spark jobs");
  return type;
}

function tail(text: string, lines: number): string {
  if (lines <= 0) return "";
  const all = text.endsWith("\n") ? text.slice(0, -1).split("\n") : text.split("\n");
  return all.slice(-lines).join("\n");
}
