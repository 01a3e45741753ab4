import { useEffect, useRef, useState } from "preact/hooks";
import type UPlotChart from "uplot";
import { api, type Binary, currentAnswers, type Job, listAll, query, type Template } from "../api";
import { uploadBinary } from "../binaries";
import { navigate } from "../router";
import { DataTable, duration, Empty, ErrorBox, Field, FormErrors, parseApiTime, Status, Time } from "../ui";

const FALLBACK_TYPES = ["Shell", "Spark", "Java", "Pig", "Hive", "MapReduce", "MapReduce.Streaming"];
const FIELDS = ["name", "type", "description", "mains", "libs", "interface"];

interface InterfaceRow {
  name: string;
  mapping_type: "args" | "configs" | "params";
  location: string;
  value_type: string;
  required: boolean;
  default: string;
  description: string;
}

export function TemplatesPage() {
  const [templates, setTemplates] = useState<Template[]>();
  const [error, setError] = useState<unknown>(null);
  const [creating, setCreating] = useState(false);
  const load = () => listAll<Template>("/v2/job-templates", "job_templates").then(setTemplates).catch(setError);
  useEffect(() => {
    load();
  }, []);

  return (
    <section>
      <div class="page-head">
        <h1>Templates</h1>
        {!creating ? (
          <button type="button" onClick={() => setCreating(true)}>
            New template
          </button>
        ) : null}
      </div>
      {creating ? (
        <CreateTemplate
          onCreated={(t) => {
            setCreating(false);
            navigate(`/templates/${t.id}`);
          }}
          onCancel={() => setCreating(false)}
        />
      ) : null}
      <ErrorBox error={error} />
      {templates?.length === 0 && !creating ? (
        <Empty>
          No templates yet. A template names a job's type and its main script or jar: choose <strong>New template</strong> and upload one.
        </Empty>
      ) : null}
      {templates?.length ? (
        <DataTable
          rows={templates}
          rowKey={(t) => t.id}
          columns={[
            { label: "Name", cell: (t) => <a href={`#/templates/${t.id}`}>{t.name}</a> },
            { label: "Type", cell: (t) => t.type },
            { label: "Mains", cell: (t) => t.mains.map((m) => m.name ?? "(missing)").join(", ") || "—" },
            { label: "Created", cell: (t) => <Time value={t.created_at} /> },
            { label: "Actions", hiddenLabel: true, cell: (t) => <a href={`#/run?template=${t.id}`}>Run</a> },
          ]}
        />
      ) : null}
    </section>
  );
}

function CreateTemplate({ onCreated, onCancel }: { onCreated: (t: Template) => void; onCancel: () => void }) {
  const [types, setTypes] = useState<string[]>(FALLBACK_TYPES);
  const [binaries, setBinaries] = useState<Binary[]>([]);
  const [name, setName] = useState("");
  const [type, setType] = useState("Shell");
  const [description, setDescription] = useState("");
  const [mains, setMains] = useState<string[]>([]);
  const [libs, setLibs] = useState<string[]>([]);
  const [rows, setRows] = useState<InterfaceRow[]>([]);
  const [progress, setProgress] = useState<number | null>(null);
  const [errors, setErrors] = useState(FormErrors.none(FIELDS));
  const [busy, setBusy] = useState(false);
  const mainFile = useRef<HTMLInputElement>(null);
  const libFile = useRef<HTMLInputElement>(null);

  useEffect(() => {
    api<{ job_types: { name: string }[] }>("GET", "/v2/job-types")
      .then((body) => body.job_types.length && setTypes(body.job_types.map((t) => t.name)))
      .catch(() => {});
    listAll<Binary>("/v2/job-binaries", "binaries").then(setBinaries, () => {});
  }, []);

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setErrors(FormErrors.none(FIELDS));
    try {
      // A file chosen in this form is uploaded first and becomes a stored binary, selected as a main
      // or lib; a retry after a validation error reuses it rather than uploading it again.
      const uploaded = async (input: HTMLInputElement | null) => {
        const stored: Binary[] = [];
        for (const file of Array.from(input?.files ?? [])) {
          setProgress(0);
          stored.push(await uploadBinary(file, setProgress));
        }
        if (input) input.value = "";
        if (stored.length) setBinaries((known) => [...known, ...stored]);
        return stored.map((b) => b.id);
      };
      const mainIds = [...mains, ...(await uploaded(mainFile.current))];
      setMains(mainIds);
      const libIds = [...libs, ...(await uploaded(libFile.current))];
      setLibs(libIds);
      setProgress(null);
      const { job_template } = await api<{ job_template: Template }>("POST", "/v2/job-templates", {
        name,
        type,
        ...(description ? { description } : {}),
        mains: mainIds,
        libs: libIds,
        interface: rows.map((r) => ({ ...r, default: r.default || undefined, description: r.description || undefined })),
      });
      onCreated(job_template);
    } catch (e) {
      setProgress(null);
      setErrors(FormErrors.of(e, FIELDS));
    } finally {
      setBusy(false);
    }
  }

  const setRow = (index: number, change: Partial<InterfaceRow>) => setRows(rows.map((r, i) => (i === index ? { ...r, ...change } : r)));

  return (
    <form class="stack card" onSubmit={submit} noValidate aria-label="New template">
      <h2>New template</h2>
      <div class="row">
        <Field label="Name" error={errors.field("name")} hint="Letters, digits, '-', '_' and '.'">
          <input name="name" required value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </Field>
        <Field label="Type" error={errors.field("type")}>
          <select name="type" value={type} onChange={(e) => setType(e.currentTarget.value)}>
            {types.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </Field>
      </div>
      <Field label="Description" error={errors.field("description")}>
        <input name="description" value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
      </Field>
      <div class="row">
        <Field label="Mains (stored binaries)" error={errors.field("mains")}>
          <select
            name="mains"
            multiple
            size={Math.min(4, Math.max(2, binaries.length))}
            onChange={(e) => setMains(Array.from(e.currentTarget.selectedOptions, (o) => o.value))}
          >
            {binaries.map((b) => (
              <option key={b.id} value={b.id} selected={mains.includes(b.id)}>
                {b.name}
              </option>
            ))}
          </select>
        </Field>
        <Field label="…or upload a main">
          <input type="file" name="main-file" ref={mainFile} />
        </Field>
      </div>
      <div class="row">
        <Field label="Libs (stored binaries)" error={errors.field("libs")}>
          <select
            name="libs"
            multiple
            size={Math.min(4, Math.max(2, binaries.length))}
            onChange={(e) => setLibs(Array.from(e.currentTarget.selectedOptions, (o) => o.value))}
          >
            {binaries.map((b) => (
              <option key={b.id} value={b.id} selected={libs.includes(b.id)}>
                {b.name}
              </option>
            ))}
          </select>
        </Field>
        <Field label="…or upload libs">
          <input type="file" name="lib-files" multiple ref={libFile} />
        </Field>
      </div>
      {progress !== null ? (
        <label class="field">
          <span class="label">Uploading</span>
          <progress max={1} value={progress} />
        </label>
      ) : null}
      <fieldset>
        <legend>Interface arguments</legend>
        {errors.field("interface") ? (
          <span class="field-error" role="alert">
            {errors.field("interface")}
          </span>
        ) : null}
        {rows.map((row, i) => (
          <div class="row interface-row" key={i}>
            <Field label="Name">
              <input value={row.name} onInput={(e) => setRow(i, { name: e.currentTarget.value })} />
            </Field>
            <Field label="Maps to">
              <select
                value={row.mapping_type}
                onChange={(e) => setRow(i, { mapping_type: e.currentTarget.value as InterfaceRow["mapping_type"] })}
              >
                <option value="args">args</option>
                <option value="params">params</option>
                <option value="configs">configs</option>
              </select>
            </Field>
            <Field label="Location" hint="Position for args, else the key">
              <input value={row.location} onInput={(e) => setRow(i, { location: e.currentTarget.value })} />
            </Field>
            <Field label="Type">
              <select value={row.value_type} onChange={(e) => setRow(i, { value_type: e.currentTarget.value })}>
                {["string", "number", "data_source"].map((v) => (
                  <option key={v}>{v}</option>
                ))}
              </select>
            </Field>
            <Field label="Default">
              <input value={row.default} onInput={(e) => setRow(i, { default: e.currentTarget.value })} />
            </Field>
            <label class="choice">
              <input type="checkbox" checked={row.required} onChange={(e) => setRow(i, { required: e.currentTarget.checked })} /> Required
            </label>
            <button type="button" class="secondary" onClick={() => setRows(rows.filter((_, j) => j !== i))}>
              Remove
            </button>
          </div>
        ))}
        <button
          type="button"
          class="secondary"
          onClick={() =>
            setRows([
              ...rows,
              {
                name: "",
                mapping_type: "args",
                location: String(rows.length),
                value_type: "string",
                required: false,
                default: "",
                description: "",
              },
            ])
          }
        >
          Add an argument
        </button>
      </fieldset>
      <ErrorBox error={errors.general()} />
      <div class="actions">
        <button type="submit" disabled={busy}>
          {busy ? "Creating…" : "Create template"}
        </button>
        <button type="button" class="secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

export function TemplatePage({ id }: { id: string }) {
  const [template, setTemplate] = useState<Template>();
  const [runs, setRuns] = useState<Job[]>();
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    const answers = currentAnswers();
    api<{ job_template: Template }>("GET", `/v2/job-templates/${id}`).then(
      answers.keep((b) => setTemplate(b.job_template)),
      answers.keep(setError),
    );
    api<{ jobs: Job[] }>("GET", `/v2/jobs${query({ job_template_id: id, sort_by: "-created_at", limit: "30" })}`).then(
      answers.keep((b) => setRuns(b.jobs)),
      answers.keep(setError),
    );
    return answers.drop;
  }, [id]);

  if (error) return <ErrorBox error={error} />;
  if (!template) return <p>Loading…</p>;
  return (
    <section>
      <p class="crumbs">
        <a href="#/templates">Templates</a> /
      </p>
      <div class="page-head">
        <h1>{template.name}</h1>
        <a class="button" href={`#/run?template=${template.id}`}>
          Run it
        </a>
      </div>
      {template.description ? <p class="description">{template.description}</p> : null}
      <dl class="facts">
        <div>
          <dt>Type</dt>
          <dd>{template.type}</dd>
        </div>
        <div>
          <dt>Mains</dt>
          <dd>{template.mains.map((m) => m.name ?? "(missing)").join(", ") || "—"}</dd>
        </div>
        <div>
          <dt>Libs</dt>
          <dd>{template.libs.map((m) => m.name ?? "(missing)").join(", ") || "—"}</dd>
        </div>
        <div>
          <dt>Interface</dt>
          <dd>{template.interface.map((a) => `${a.name} → ${a.mapping_type} ${a.location}`).join("; ") || "—"}</dd>
        </div>
      </dl>
      <h2>Last runs</h2>
      {runs?.length === 0 ? <Empty>Not run yet: choose Run it above to start its first job.</Empty> : null}
      {runs?.length ? (
        <>
          <ol class="run-cells" aria-label="Last runs, newest first">
            {runs.map((run) => (
              <li key={run.id}>
                <a href={`#/jobs/${run.id}`} title={`${run.info.status}, ${duration(run.start_time, run.end_time)}`}>
                  <Status status={run.info.status} />
                </a>
              </li>
            ))}
          </ol>
          <DurationChart runs={runs} />
        </>
      ) : null}
    </section>
  );
}

const CHART_HEIGHT = 200;

/** Durations of the ended runs, oldest first; uPlot is loaded only on this page so the first page stays small. */
function DurationChart({ runs }: { runs: Job[] }) {
  const box = useRef<HTMLDivElement>(null);
  const ended = runs.filter((r) => r.start_time && r.end_time).reverse();
  useEffect(() => {
    if (!box.current || ended.length < 1) return;
    let chart: UPlotChart | undefined;
    let cancelled = false;
    // The plot takes its box's width, and follows it when the window (or a phone's orientation) changes.
    const resized = new ResizeObserver(() => {
      if (box.current) chart?.setSize({ width: box.current.clientWidth, height: CHART_HEIGHT });
    });
    resized.observe(box.current);
    Promise.all([import("uplot"), import("uplot/dist/uPlot.min.css")]).then(([{ default: UPlot }]) => {
      if (cancelled || !box.current) return;
      // Runs are numbered oldest first: their start times can be seconds or weeks apart, and a time axis
      // would then read in fractions of a second.
      const xs = ended.map((_, i) => i + 1);
      const ys = ended.map((r) => (parseApiTime(r.end_time!).getTime() - parseApiTime(r.start_time!).getTime()) / 1000);
      // The legend reads the run under the cursor, and the newest run when the cursor is off the chart,
      // where uPlot would write "--" for each value.
      const newest = xs.length - 1;
      // Times are to the second (Sahara's format): 0 means the run ended within the second it started.
      const seconds = (value: number) => (value === 0 ? "under 1" : String(Math.round(value * 1000) / 1000));
      chart = new UPlot(
        {
          width: box.current.clientWidth,
          height: CHART_HEIGHT,
          // At least a second tall, so runs under a second lie on a 0-1 s axis rather than at the foot of uPlot's 0-100.
          scales: { x: { time: false }, y: { range: (_u, _min, max) => [0, Math.max(1, Math.ceil(max * 1.1))] } },
          series: [
            { label: "Run", value: (_u, run, _s, idx) => (idx === null ? `${xs[newest]} (newest)` : String(run)) },
            {
              label: "Duration (s)",
              value: (_u, duration, _s, idx) => seconds(idx === null || duration === null ? ys[newest] : duration),
              stroke: "#2f6feb",
              width: 2,
              points: { show: true, size: 6 },
            },
          ],
          axes: [{ label: "run, oldest first", incrs: [1, 2, 5, 10, 20, 50, 100] }, { label: "seconds" }],
        },
        [xs, ys],
        box.current,
      );
    });
    return () => {
      cancelled = true;
      resized.disconnect();
      chart?.destroy();
    };
  }, [runs]);
  if (ended.length < 1) return null;
  return (
    <figure class="chart">
      <figcaption>Durations of the last {ended.length} ended runs</figcaption>
      <div ref={box} />
    </figure>
  );
}
