import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api, type CodeEntry, currentAnswers, type Job, listAll, type RunDiff } from "../api";
import { navigate } from "../router";
import { DataTable, ErrorBox, formatTime, Time } from "../ui";

const short = (hash: string) => hash.slice(0, 12);

function Code({ entry }: { entry: CodeEntry | null }) {
  if (!entry) return <span class="muted">—</span>;
  return (
    <span class="mono" title={entry.sha256}>
      {entry.name} {short(entry.sha256)}
      {entry.commit ? ` @ ${entry.commit.slice(0, 10)}` : ""}
    </span>
  );
}

/**
 * The two re-run actions (issue 16.3): each makes a new job through the API at once and opens it.
 * Their names stay apart from each other's and from the job page's "Edit and re-run…".
 */
export function RerunButtons({ job }: { job: Job }) {
  const [error, setError] = useState<unknown>(null);
  async function rerun(mode: "exact" | "current") {
    setError(null);
    try {
      const body = await api<{ job: Job }>("POST", `/v2/jobs/${job.id}/rerun`, { mode });
      navigate(`/jobs/${body.job.id}`);
    } catch (e) {
      setError(e);
    }
  }
  return (
    <>
      {job.snapshot ? (
        <button type="button" class="secondary" onClick={() => rerun("exact")} title="The same code (by hash), configs and cluster">
          Re-run exactly
        </button>
      ) : null}
      <button type="button" class="secondary" onClick={() => rerun("current")} title="The template as it is now, with this job's configs">
        Re-run with current template
      </button>
      <ErrorBox error={error} />
    </>
  );
}

/** What the run ran: its code by hash (and commit), its cluster, and where it came from. */
export function SnapshotView({ job }: { job: Job }) {
  const snapshot = job.snapshot;
  return (
    <>
      <h2>Snapshot</h2>
      {job.rerun_of ? (
        <p>
          Re-run ({job.rerun_mode ?? "exact"}) of <a href={`#/jobs/${job.rerun_of}`}>{job.rerun_of}</a>
        </p>
      ) : null}
      {!snapshot ? (
        <p class="muted">Recorded when the job is launched.</p>
      ) : (
        <div class="table-wrap">
          <table aria-label="What the run ran">
            <tbody>
              {[...snapshot.code.mains.map((c) => ["main", c] as const), ...snapshot.code.libs.map((c) => ["lib", c] as const)].map(
                ([role, entry], i) => (
                  <tr key={`${role}-${i}`}>
                    <th scope="row">{role}</th>
                    <td>
                      <Code entry={entry} />
                    </td>
                  </tr>
                ),
              )}
              <tr>
                <th scope="row">cluster</th>
                <td>
                  {snapshot.cluster.name} ({snapshot.cluster.plugin_name} {snapshot.cluster.plugin_version})
                </td>
              </tr>
              <tr>
                <th scope="row">taken</th>
                <td>
                  <Time value={snapshot.taken_at} />
                </td>
              </tr>
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

/** Compares the job with another run of its template: the one it re-runs, or else the previous one (issue 16.4). */
export function DiffView({ job }: { job: Job }) {
  const [others, setOthers] = useState<Job[] | null>(null);
  const [other, setOther] = useState<string>("");
  const [diff, setDiff] = useState<RunDiff | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    const answers = currentAnswers();
    listAll<Job>("/v2/jobs", "jobs", { job_template_id: job.job_template_id }).then(
      answers.keep((jobs: Job[]) => {
        const runs = jobs.filter((j) => j.id !== job.id).sort((a, b) => b.created_at.localeCompare(a.created_at));
        setOthers(runs);
        // A re-run is compared with the run it re-runs; any other run with the one before it.
        const previous = runs.find((j) => j.id === job.rerun_of) ?? runs.find((j) => j.created_at <= job.created_at) ?? runs[0];
        setOther((current) => current || previous?.id || "");
      }),
      answers.keep(setError),
    );
    return answers.drop;
  }, [job.id, job.job_template_id, job.created_at, job.rerun_of]);

  // Asked again as this job moves on, so its side of the outcome is current.
  const status = job.info.status;
  useEffect(() => {
    if (!other || !status) return;
    const answers = currentAnswers();
    api<{ diff: RunDiff }>("GET", `/v2/jobs/${job.id}/diff?other=${encodeURIComponent(other)}`).then(
      answers.keep((body) => setDiff(body.diff)),
      answers.keep(setError),
    );
    return answers.drop;
  }, [job.id, other, status]);

  if (others && others.length === 0) return null;
  const rows: { what: string; left: ComponentChildren; right: ComponentChildren }[] = [];
  if (diff) {
    for (const c of diff.code.filter((c) => !c.same))
      rows.push({ what: `${c.role} ${c.index + 1}`, left: <Code entry={c.left} />, right: <Code entry={c.right} /> });
    for (const [section, entries] of [
      ["config", diff.configs],
      ["param", diff.params],
    ] as const)
      for (const e of entries.filter((e) => !e.same)) rows.push({ what: `${section} ${e.key}`, left: e.left, right: e.right });
    for (const a of diff.args.filter((a) => !a.same)) rows.push({ what: `arg ${a.index + 1}`, left: a.left, right: a.right });
    if (!diff.cluster.same) rows.push({ what: "cluster", left: diff.cluster.left?.name, right: diff.cluster.right?.name });
    if (!diff.outcome.same)
      rows.push({
        what: "outcome",
        left: `${diff.outcome.left?.status ?? "—"} ${diff.outcome.left?.error ?? ""}`,
        right: `${diff.outcome.right?.status ?? "—"} ${diff.outcome.right?.error ?? ""}`,
      });
  }
  return (
    <section aria-labelledby="compare-heading">
      <h2 id="compare-heading">Compare with another run</h2>
      {others === null ? (
        // Until the template's runs are listed there is nothing to choose from: an empty select would look broken.
        !error && (
          <p class="muted" role="status">
            Loading the template's other runs…
          </p>
        )
      ) : (
        <label class="field">
          <span class="label">Other run</span>
          <select value={other} onChange={(e) => setOther((e.target as HTMLSelectElement).value)}>
            {/*
             * An option's text cannot wrap, and a select a phone's width holds about 40 characters: each run is
             * its time (in the browser's zone, as the page's other times) and status, which tell runs apart
             * without its id; the table's "Other run" links to the chosen one.
             */}
            {others.map((j) => (
              <option key={j.id} value={j.id}>
                {formatTime(j.created_at)} · {j.info.status}
              </option>
            ))}
          </select>
        </label>
      )}
      <ErrorBox error={error} />
      {diff ? (
        rows.length === 0 ? (
          <p class="muted">Both runs ran the same code, configs and cluster, with the same outcome.</p>
        ) : (
          <DataTable
            label="Differences between the runs"
            rows={rows}
            rowKey={(row) => row.what}
            columns={[
              { label: "What", rowHeader: true, class: "mono", cell: (row) => row.what },
              { label: "This run", cell: (row) => row.left ?? "—" },
              { label: "Other run", heading: <a href={`#/jobs/${diff.right.id}`}>Other run</a>, cell: (row) => row.right ?? "—" },
            ]}
          />
        )
      ) : null}
    </section>
  );
}
