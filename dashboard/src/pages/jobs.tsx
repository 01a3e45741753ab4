import { useMemo } from "preact/hooks";
import { conditionalGetter, type Job, listAll, query } from "../api";
import { nameOf, useCatalogue } from "../names";
import { Refreshed, usePolling } from "../poll";
import { href, navigate } from "../router";
import { DataTable, duration, Empty, ErrorBox, parseApiTime, Status, Time } from "../ui";

const STATUSES = ["PENDING", "RUNNING", "SUCCEEDED", "KILLED", "FAILED", "DONEWITHERROR", "TOBEKILLED", "SUSPENDED"];
const PAGE_SIZE = "50";

interface JobsView {
  page: Job[];
  next: string | null;
  prev: string | null;
  counts: Record<string, number>;
}

/** Filters of the list; the API filters status, cluster and template, the time range is applied to what it returns. */
function filtersOf(params: URLSearchParams) {
  return {
    status: params.get("status") ?? undefined,
    cluster_id: params.get("cluster") ?? undefined,
    job_template_id: params.get("template") ?? undefined,
    from: params.get("from") ?? undefined,
    to: params.get("to") ?? undefined,
    marker: params.get("marker") ?? undefined,
  };
}

function inRange(job: Job, from?: string, to?: string): boolean {
  const created = parseApiTime(job.created_at).getTime();
  if (from && created < new Date(from).getTime()) return false;
  if (to && created > new Date(to).getTime()) return false;
  return true;
}

export function JobsPage({ params }: { params: URLSearchParams }) {
  const filters = filtersOf(params);
  const catalogue = useCatalogue();
  const getPage = useMemo(() => conditionalGetter<{ jobs: Job[]; markers?: { next: string | null; prev: string | null } }>(), []);
  const key = params.toString();

  const { value, error, at, paused } = usePolling<JobsView>(
    async () => {
      const apiFilters = { cluster_id: filters.cluster_id, job_template_id: filters.job_template_id };
      const [body, all] = await Promise.all([
        getPage(
          `/v2/jobs${query({ ...apiFilters, status: filters.status, sort_by: "-created_at", limit: PAGE_SIZE, marker: filters.marker })}`,
        ),
        listAll<Job>("/v2/jobs", "jobs", apiFilters),
      ]);
      const counts: Record<string, number> = {};
      for (const job of all) if (inRange(job, filters.from, filters.to)) counts[job.info.status] = (counts[job.info.status] ?? 0) + 1;
      return {
        page: body.jobs.filter((job) => inRange(job, filters.from, filters.to)),
        next: body.markers?.next ?? null,
        prev: body.markers?.prev ?? null,
        counts,
      };
    },
    3000,
    [key],
  );

  const set = (changes: Record<string, string | undefined>) => {
    const next: Record<string, string | undefined> = {};
    for (const [k, v] of params) next[k] = v;
    navigate("/jobs", { ...next, marker: undefined, ...changes });
  };
  const total = Object.values(value?.counts ?? {}).reduce((a, b) => a + b, 0);

  return (
    <section>
      <div class="page-head">
        <h1>Jobs</h1>
        <a class="button" href="#/run">
          Run a job
        </a>
      </div>
      <ul class="counts" aria-label="Jobs by status">
        <li>
          <a href={href("/jobs", { ...withoutStatus(params) })} aria-current={!filters.status ? "true" : undefined}>
            <span class="count">{total}</span> all
          </a>
        </li>
        {STATUSES.filter((s) => value?.counts[s]).map((s) => (
          <li key={s}>
            <a href={href("/jobs", { ...withoutStatus(params), status: s })} aria-current={filters.status === s ? "true" : undefined}>
              <span class="count">{value?.counts[s]}</span> <Status status={s} />
            </a>
          </li>
        ))}
      </ul>
      <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filters">
        <label>
          <span class="label">Status</span>
          <select name="status" value={filters.status ?? ""} onChange={(e) => set({ status: e.currentTarget.value || undefined })}>
            <option value="">Any</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span class="label">Cluster</span>
          <select name="cluster" value={filters.cluster_id ?? ""} onChange={(e) => set({ cluster: e.currentTarget.value || undefined })}>
            <option value="">Any</option>
            {catalogue?.clusters.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span class="label">Template</span>
          <select
            name="template"
            value={filters.job_template_id ?? ""}
            onChange={(e) => set({ template: e.currentTarget.value || undefined })}
          >
            <option value="">Any</option>
            {catalogue?.templates.map((t) => (
              <option key={t.id} value={t.id}>
                {t.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span class="label">Created from</span>
          <input
            type="datetime-local"
            name="from"
            value={filters.from ?? ""}
            onChange={(e) => set({ from: e.currentTarget.value || undefined })}
          />
        </label>
        <label>
          <span class="label">to</span>
          <input
            type="datetime-local"
            name="to"
            value={filters.to ?? ""}
            onChange={(e) => set({ to: e.currentTarget.value || undefined })}
          />
        </label>
      </form>
      <Refreshed at={catalogue ? at : null} paused={paused} />
      <ErrorBox error={error} />
      {!catalogue ? null : value && value.page.length === 0 ? (
        <Empty>
          {key ? (
            <>
              No jobs match these filters. <a href="#/jobs">Clear the filters</a>.
            </>
          ) : (
            <>
              No jobs yet. <a href="#/run">Run a job</a> from a template, or <a href="#/templates">create a template</a> first.
            </>
          )}
        </Empty>
      ) : null}
      {catalogue && value && value.page.length > 0 ? (
        <DataTable
          class="jobs"
          rows={value.page}
          rowKey={(job) => job.id}
          columns={[
            { label: "Status", cell: (job) => <Status status={job.info.status} /> },
            {
              label: "Job",
              cell: (job) => (
                <>
                  <a href={`#/jobs/${job.id}`}>{nameOf(catalogue.templates, job.job_template_id)}</a>
                  <span class="id">{job.id.slice(0, 8)}</span>
                </>
              ),
            },
            { label: "Cluster", cell: (job) => nameOf(catalogue.clusters, job.cluster_id) },
            { label: "Created", cell: (job) => <Time value={job.created_at} /> },
            { label: "Duration", cell: (job) => duration(job.start_time, job.end_time) },
          ]}
        />
      ) : null}
      <nav class="pager" aria-label="Pages of jobs">
        {filters.marker ? (
          <a class="button secondary" href={href("/jobs", { ...Object.fromEntries(params), marker: value?.prev ?? undefined })}>
            ← Newer
          </a>
        ) : null}
        {value?.next ? (
          <a class="button secondary" href={href("/jobs", { ...Object.fromEntries(params), marker: value.next })}>
            Older →
          </a>
        ) : null}
      </nav>
    </section>
  );
}

function withoutStatus(params: URLSearchParams): Record<string, string> {
  const rest = Object.fromEntries(params);
  delete rest.status;
  delete rest.marker;
  return rest;
}
