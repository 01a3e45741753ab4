import { useEffect, useState } from "preact/hooks";
import { ApiError, api, currentAnswers, type DataSource, type Job, type Template } from "../api";
import { nameOf, useCatalogue } from "../names";
import { navigate } from "../router";
import { Empty, ErrorBox, Field, FormErrors } from "../ui";

interface Hint {
  name: string;
  value: string;
  description: string;
}

/**
 * One cluster in the dispatcher's ranking (issue 13), best first and the usable ones ahead: its
 * score and reasons in words. A cluster that is not usable (in Error) is never chosen, so its
 * score compares with nothing.
 */
interface Candidate {
  cluster_id: string;
  score?: number;
  usable?: boolean;
  reasons?: string[];
}

/** The API's `cluster_id` that asks the dispatcher to place the job (issue 13.2). */
const AUTO = "auto";

const FIELDS = ["job_template_id", "cluster_id", "input_id", "output_id", "job_configs.args", "job_configs.params", "job_configs.configs"];

function lines(text: string): string[] {
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
}

function hintOf({ score, usable, reasons = [] }: Candidate): string {
  const label = usable === false ? "not usable: " : score !== undefined ? `score ${score}: ` : "";
  return label + reasons.join("; ");
}

function pairs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of lines(text)) {
    const at = line.indexOf("=");
    if (at > 0) out[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return out;
}

function unpair(values: Record<string, string> | undefined): string {
  return Object.entries(values ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join("\n");
}

export function RunPage({ params }: { params: URLSearchParams }) {
  const catalogue = useCatalogue();
  const [templateId, setTemplateId] = useState(params.get("template") ?? "");
  const [clusterId, setClusterId] = useState("");
  const [inputId, setInputId] = useState("");
  const [outputId, setOutputId] = useState("");
  const [args, setArgs] = useState("");
  const [paramsText, setParamsText] = useState("");
  const [configsText, setConfigsText] = useState("");
  const [interfaceValues, setInterfaceValues] = useState<Record<string, string>>({});
  const [hintValues, setHintValues] = useState<Record<string, string>>({});
  const [hints, setHints] = useState<Hint[]>([]);
  const [ranking, setRanking] = useState<Candidate[]>([]);
  // Where "Let EDP choose" would send the job now: the first usable cluster of the ranking.
  const bestFit = ranking.find((candidate) => candidate.usable !== false)?.cluster_id;
  const [errors, setErrors] = useState(FormErrors.none(FIELDS));
  const [busy, setBusy] = useState(false);
  const [rerunNote, setRerunNote] = useState("");
  const template: Template | undefined = catalogue?.templates.find((t) => t.id === templateId);

  // Re-run: the same template, cluster, data sources, args, params and configs (masked values must be typed again).
  const rerun = params.get("rerun");
  useEffect(() => {
    if (!rerun) return;
    api<{ job: Job }>("GET", `/v2/jobs/${rerun}`).then(({ job }) => {
      setTemplateId(job.job_template_id);
      setClusterId(job.cluster_id);
      setInputId(job.input_id ?? "");
      setOutputId(job.output_id ?? "");
      setArgs((job.job_configs.args ?? []).join("\n"));
      setParamsText(unpair(job.job_configs.params));
      setConfigsText(unpair(job.job_configs.configs));
      const masked = [...(job.masked_keys?.configs ?? []), ...(job.masked_keys?.params ?? [])];
      setRerunNote(
        masked.length
          ? `Copied from job ${job.id.slice(0, 8)}. The API never returns secret values: type ${masked.join(", ")} again.`
          : `Copied from job ${job.id.slice(0, 8)}.`,
      );
    });
  }, [rerun]);

  useEffect(() => {
    if (catalogue && !clusterId && catalogue.clusters.length === 1) setClusterId(catalogue.clusters[0].id);
  }, [catalogue, clusterId]);

  useEffect(() => {
    setHints([]);
    setRanking([]);
    if (!template) return;
    const answers = currentAnswers();
    api<{ job_config: { configs?: Hint[] } }>("GET", `/v2/job-templates/config-hints/${encodeURIComponent(template.type)}`).then(
      answers.keep((body) => setHints(body.job_config.configs ?? [])),
      answers.keep(() => setHints([])),
    );
    // Placement hints exist where the dispatcher does; without them the clusters are listed plainly.
    api<{ placement?: Candidate[] }>("GET", `/v2/job-templates/${template.id}/placement${inputId ? `?input_id=${inputId}` : ""}`).then(
      answers.keep((body) => setRanking(body.placement ?? [])),
      answers.keep(() => setRanking([])),
    );
    return answers.drop;
  }, [template?.id, inputId]);

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setErrors(FormErrors.none(FIELDS));
    const configs = { ...pairs(configsText) };
    for (const [k, v] of Object.entries(hintValues)) if (v) configs[k] = v;
    const jobParams = pairs(paramsText);
    const jobArgs = lines(args);
    const body: Record<string, unknown> = {
      job_template_id: templateId,
      cluster_id: clusterId,
      job_configs: { configs, params: jobParams, args: jobArgs },
    };
    if (inputId) body.input_id = inputId;
    if (outputId) body.output_id = outputId;
    // Interface arguments go by name; the API maps each to its arg, param or config, as Sahara does.
    const named = Object.fromEntries(Object.entries(interfaceValues).filter(([, v]) => v));
    if (Object.keys(named).length) body.interface = named;
    try {
      const { job } = await api<{ job: Job }>("POST", "/v2/jobs", body);
      navigate(`/jobs/${job.id}`);
    } catch (e) {
      setErrors(FormErrors.of(e, FIELDS));
      if (!(e instanceof ApiError)) throw e;
    } finally {
      setBusy(false);
    }
  }

  if (catalogue && catalogue.templates.length === 0)
    return (
      <section>
        <h1>Run a job</h1>
        <Empty>
          There is no template to run yet. <a href="#/templates">Create a template</a> from an uploaded script or jar first.
        </Empty>
      </section>
    );

  return (
    <section>
      <h1>Run a job</h1>
      {rerunNote ? <p class="note">{rerunNote}</p> : null}
      <form class="stack" onSubmit={submit} noValidate>
        <Field label="Template" error={errors.field("job_template_id")}>
          <select name="job_template_id" required value={templateId} onChange={(e) => setTemplateId(e.currentTarget.value)}>
            <option value="">Choose a template</option>
            {catalogue?.templates.map((t) => (
              <option key={t.id} value={t.id}>
                {t.name} ({t.type})
              </option>
            ))}
          </select>
        </Field>
        <fieldset>
          <legend>Cluster</legend>
          {errors.field("cluster_id") ? (
            <span class="field-error" role="alert">
              {errors.field("cluster_id")}
            </span>
          ) : null}
          {catalogue?.clusters.length === 0 ? (
            <p>
              No cluster is registered. <a href="#/clusters">Register one</a>.
            </p>
          ) : null}
          {catalogue?.clusters.length ? (
            <label class="choice">
              <input type="radio" name="cluster_id" value={AUTO} checked={clusterId === AUTO} onChange={() => setClusterId(AUTO)} />
              <span>
                <strong>Let EDP choose</strong> <span class="muted">by load and data locality, when the job is placed</span>
                {bestFit ? <span class="hint">now: {nameOf(catalogue.clusters, bestFit)}</span> : null}
              </span>
            </label>
          ) : null}
          {catalogue?.clusters.map((c) => {
            const candidate = ranking.find((entry) => entry.cluster_id === c.id);
            return (
              <label key={c.id} class="choice">
                <input type="radio" name="cluster_id" value={c.id} checked={clusterId === c.id} onChange={() => setClusterId(c.id)} />
                <span>
                  <strong>{c.name}</strong> <span class="muted">{c.plugin_name}</span>
                  {candidate ? <span class="hint">{hintOf(candidate)}</span> : null}
                </span>
              </label>
            );
          })}
        </fieldset>
        <div class="row">
          <Field label="Input data source" error={errors.field("input_id")}>
            <DataSourceSelect name="input_id" value={inputId} onChange={setInputId} sources={catalogue?.dataSources} />
          </Field>
          <Field label="Output data source" error={errors.field("output_id")}>
            <DataSourceSelect name="output_id" value={outputId} onChange={setOutputId} sources={catalogue?.dataSources} />
          </Field>
        </div>
        {template?.interface.length ? (
          <fieldset>
            <legend>{template.name}'s arguments</legend>
            {template.interface.map((arg) => (
              <Field
                key={arg.name}
                label={`${arg.name}${arg.required ? " (required)" : ""}`}
                hint={`${arg.description ? `${arg.description} · ` : ""}${arg.mapping_type} ${arg.location}, ${arg.value_type}`}
                error={errors.field(`interface.${arg.name}`)}
              >
                <input
                  name={`interface.${arg.name}`}
                  value={interfaceValues[arg.name] ?? ""}
                  placeholder={arg.default ?? ""}
                  onInput={(e) => setInterfaceValues({ ...interfaceValues, [arg.name]: e.currentTarget.value })}
                />
              </Field>
            ))}
          </fieldset>
        ) : null}
        <Field label="Arguments, one per line" error={errors.field("job_configs.args")}>
          <textarea name="args" rows={3} value={args} onInput={(e) => setArgs(e.currentTarget.value)} />
        </Field>
        <Field
          label="Params, one NAME=value per line"
          hint={template?.type === "Shell" ? "A Shell job gets its params as environment variables." : undefined}
          error={errors.field("job_configs.params")}
        >
          <textarea name="params" rows={3} value={paramsText} onInput={(e) => setParamsText(e.currentTarget.value)} />
        </Field>
        {hints.length ? (
          <fieldset>
            <legend>{template?.type} settings</legend>
            {hints.map((hint) => (
              <Field key={hint.name} label={hint.name} hint={hint.description} error={errors.field(`job_configs.configs.${hint.name}`)}>
                <input
                  name={`config.${hint.name}`}
                  value={hintValues[hint.name] ?? ""}
                  placeholder={hint.value}
                  onInput={(e) => setHintValues({ ...hintValues, [hint.name]: e.currentTarget.value })}
                />
              </Field>
            ))}
          </fieldset>
        ) : null}
        <Field label="Other configs, one key=value per line" error={errors.field("job_configs.configs")}>
          <textarea name="configs" rows={3} value={configsText} onInput={(e) => setConfigsText(e.currentTarget.value)} />
        </Field>
        <ErrorBox error={errors.general()} />
        <button type="submit" disabled={busy}>
          {busy ? "Starting…" : "Run"}
        </button>
      </form>
    </section>
  );
}

/** A choice of data source, or none. */
function DataSourceSelect({
  name,
  value,
  onChange,
  sources,
}: {
  name: string;
  value: string;
  onChange: (id: string) => void;
  sources: DataSource[] | undefined;
}) {
  return (
    <select name={name} value={value} onChange={(e) => onChange(e.currentTarget.value)}>
      <option value="">None</option>
      {sources?.map((d) => (
        <option key={d.id} value={d.id}>
          {d.name} ({d.type})
        </option>
      ))}
    </select>
  );
}
