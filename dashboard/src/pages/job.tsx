import { useMemo, useState } from "preact/hooks";
import { api, type Cluster, conditionalGetter, ENDED, type Job } from "../api";
import { nameOf, useCatalogue } from "../names";
import { Refreshed, usePolling } from "../poll";
import { navigate } from "../router";
import { duration, ErrorBox, KeyValues, Status, Time } from "../ui";
import { DiffView, RerunButtons, SnapshotView } from "./job-snapshot";

interface Step {
  label: string;
  at: string | null | undefined;
  note?: string;
  state: "done" | "now" | "later";
}

/** submitted → queued (with its reason, where the API gives one) → running → ended, once per attempt when there are several. */
function timeline(job: Job): { title?: string; steps: Step[] }[] {
  const ended = ENDED.includes(job.info.status);
  const attempts = job.info.attempts && job.info.attempts.length > 1 ? job.info.attempts : undefined;
  const queued: Step = {
    label: "Queued",
    at: job.scheduled_at,
    note: job.info.queue?.reason ?? (job.info.queue?.position ? `position ${job.info.queue.position}` : undefined),
    state: job.start_time || ended ? "done" : job.info.status === "PENDING" ? "now" : "later",
  };
  const submitted: Step = { label: "Submitted", at: job.created_at, state: "done" };
  if (!attempts) {
    return [
      {
        steps: [
          submitted,
          queued,
          { label: "Running", at: job.start_time, state: ended ? "done" : job.start_time ? "now" : "later" },
          { label: ended ? job.info.status : "Ended", at: job.end_time, note: job.info.error, state: ended ? "done" : "later" },
        ],
      },
    ];
  }
  return [
    { steps: [submitted, queued] },
    ...attempts.map((attempt, index) => ({
      title: `Attempt ${attempt.attempt ?? index + 1}`,
      steps: [
        { label: "Running", at: attempt.start_time, state: attempt.end_time ? "done" : "now" } as Step,
        {
          label: attempt.status ?? "Ended",
          at: attempt.end_time,
          note: attempt.error,
          state: attempt.end_time ? "done" : "later",
        } as Step,
      ],
    })),
  ];
}

function safeUrl(value: unknown): string | undefined {
  return typeof value === "string" && /^https?:\/\//.test(value) && URL.canParse(value) ? value : undefined;
}

/** The Spark master's web UI and the Oozie console, when the cluster's connection says where they are. */
function consoleLinks(cluster: Cluster | undefined, job: Job): { label: string; url: string }[] {
  if (!cluster) return [];
  const c = cluster.connection;
  const links: { label: string; url: string }[] = [];
  const oozie = safeUrl(c.oozie_url);
  if (oozie)
    links.push({ label: "Oozie console", url: job.engine_job_id ? `${oozie}/?job=${encodeURIComponent(job.engine_job_id)}` : oozie });
  const sparkUi = safeUrl(c.master_ui_url ?? c.web_ui_url ?? c.ui_url);
  if (sparkUi) links.push({ label: "Spark master UI", url: sparkUi });
  else if (cluster.plugin_name === "spark" && c.mode === "ssh" && typeof c.host === "string")
    links.push({ label: "Spark master UI", url: `http://${c.host}:8080` });
  return links;
}

export function JobPage({ id }: { id: string }) {
  const catalogue = useCatalogue();
  const get = useMemo(() => conditionalGetter<{ job: Job }>(), []);
  const [action, setAction] = useState<"cancel" | "delete" | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const [stream, setStream] = useState<"stdout" | "stderr">("stdout");

  const {
    value: job,
    error,
    at,
    paused,
    reload,
  } = usePolling(async () => (await get(`/v2/jobs/${id}?refresh_status=true`)).job, 2000, [id]);
  const ended = job ? ENDED.includes(job.info.status) : false;
  const output = usePolling(
    async () => {
      const body = await api<{ output: { text: string } }>("GET", `/v2/jobs/${id}/output?stream=${stream}&tail=500`);
      return body.output.text;
    },
    ended ? 0 : 2000,
    [id, stream, ended],
  );

  if (error && !job) return <ErrorBox error={error} />;
  if (!job) return <p>Loading…</p>;
  const template = catalogue?.templates.find((t) => t.id === job.job_template_id);
  const cluster = catalogue?.clusters.find((c) => c.id === job.cluster_id);
  const command = [job.snapshot?.rendered, job.info.command, job.info.rendered_command, job.info.workflow, job.info.workflow_xml].find(
    (v) => typeof v === "string",
  ) as string | undefined;

  async function act(kind: "cancel" | "delete") {
    setActionError(null);
    try {
      if (kind === "cancel") await api("PATCH", `/v2/jobs/${id}`, { info: { status: "cancel" } });
      else {
        await api("DELETE", `/v2/jobs/${id}`);
        navigate("/jobs");
        return;
      }
      setAction(null);
      reload();
    } catch (e) {
      setActionError(e);
    }
  }

  return (
    <section>
      <p class="crumbs">
        <a href="#/jobs">Jobs</a> /
      </p>
      <div class="page-head">
        <h1>
          {template ? template.name : "Job"} <Status status={job.info.status} />
        </h1>
        {/* One named group, so assistive technology (and a test) finds the job's actions apart from the page's links. */}
        <fieldset class="actions" aria-label="Job actions">
          {!ended ? (
            <button type="button" class="danger" onClick={() => setAction("cancel")}>
              Cancel job…
            </button>
          ) : null}
          {/* Opens the run form filled in from this job, to change before running; the two beside it run at once. */}
          <a class="button secondary" href={`#/run?rerun=${job.id}`} title="Open the run form filled in from this job">
            Edit and re-run…
          </a>
          <RerunButtons job={job} />
          <button type="button" class="secondary" onClick={() => setAction("delete")}>
            Delete…
          </button>
        </fieldset>
      </div>
      {action ? (
        <div class="confirm" role="alertdialog" aria-labelledby="confirm-text">
          <p id="confirm-text">
            {action === "cancel"
              ? "Cancel this job? Its cluster stops it; this cannot be undone."
              : "Delete this job? A running job is cancelled first."}
          </p>
          <button type="button" class="danger" onClick={() => act(action)}>
            {action === "cancel" ? "Yes, cancel it" : "Yes, delete it"}
          </button>
          <button type="button" class="secondary" onClick={() => setAction(null)}>
            {action === "cancel" ? "Keep it running" : "Keep it"}
          </button>
        </div>
      ) : null}
      <ErrorBox error={actionError} />
      <Refreshed at={at} paused={paused} />
      <dl class="facts">
        <div>
          <dt>Id</dt>
          <dd class="mono">{job.id}</dd>
        </div>
        <div>
          <dt>Template</dt>
          <dd>{template ? <a href={`#/templates/${template.id}`}>{template.name}</a> : job.job_template_id}</dd>
        </div>
        <div>
          <dt>Cluster</dt>
          <dd>{nameOf(catalogue?.clusters, job.cluster_id)}</dd>
        </div>
        <div>
          <dt>Input / output</dt>
          <dd>
            {nameOf(catalogue?.dataSources, job.input_id)} → {nameOf(catalogue?.dataSources, job.output_id)}
          </dd>
        </div>
        <div>
          <dt>Duration</dt>
          <dd>{duration(job.start_time, job.end_time)}</dd>
        </div>
        <div>
          <dt>Engine job</dt>
          <dd class="mono">{job.engine_job_id ?? "—"}</dd>
        </div>
        {job.return_code !== null && job.return_code !== undefined ? (
          <div>
            <dt>Exit code</dt>
            <dd>{job.return_code}</dd>
          </div>
        ) : null}
        {consoleLinks(cluster, job).map((link) => (
          <div key={link.label}>
            <dt>{link.label}</dt>
            <dd>
              <a href={link.url} target="_blank" rel="noopener noreferrer">
                {link.url}
              </a>
            </dd>
          </div>
        ))}
      </dl>

      <h2>Timeline</h2>
      {timeline(job).map((group) => (
        <div key={group.title ?? "main"}>
          {group.title ? <h3>{group.title}</h3> : null}
          <ol class="timeline">
            {group.steps.map((step) => (
              <li key={step.label} class={`step-${step.state}`}>
                <span class="step-label">{step.label}</span> <Time value={step.at} />
                {step.note ? <span class="step-note">{step.note}</span> : null}
              </li>
            ))}
          </ol>
        </div>
      ))}

      <SnapshotView job={job} />
      <DiffView key={job.id} job={job} />

      {command ? (
        <>
          <h2>Command</h2>
          <pre class="code">{command}</pre>
        </>
      ) : null}

      <h2>Arguments</h2>
      {job.job_configs.args?.length ? (
        <ol class="args">
          {job.job_configs.args.map((arg, i) => (
            <li key={i} class="mono">
              {arg}
            </li>
          ))}
        </ol>
      ) : (
        <p class="muted">None.</p>
      )}
      <h2>Params</h2>
      <KeyValues values={job.job_configs.params} masked={job.masked_keys?.params} />
      <h2>Configs</h2>
      <KeyValues values={job.job_configs.configs} masked={job.masked_keys?.configs} />

      <div class="page-head">
        <h2>Output</h2>
        <fieldset class="tabs">
          <legend class="visually-hidden">Stream</legend>
          {(["stdout", "stderr"] as const).map((s) => (
            <button key={s} type="button" class={stream === s ? "" : "secondary"} aria-pressed={stream === s} onClick={() => setStream(s)}>
              {s}
            </button>
          ))}
        </fieldset>
      </div>
      <ErrorBox error={output.error} />
      {/* A scrolling region is focusable so the keyboard can scroll it. */}
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must take focus to be scrolled by keyboard */}
      <section class="code output" aria-label={`${stream} of the job`} tabIndex={0}>
        <pre>{output.value || (ended ? "(no output)" : "(waiting for output…)")}</pre>
      </section>
    </section>
  );
}
