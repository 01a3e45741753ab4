import { useState } from "preact/hooks";
import { api, type Cluster, type Job, listAll } from "../api";
import { Refreshed, usePolling } from "../poll";
import { type Column, DataTable, Empty, ErrorBox, Field, FormErrors, parseApiTime, Status } from "../ui";

interface ClusterRow {
  cluster: Cluster;
  running: number;
  queued: number;
}

function age(iso: string | undefined): string {
  if (!iso) return "";
  const seconds = Math.round((Date.now() - parseApiTime(iso).getTime()) / 1000);
  return seconds < 90 ? `${seconds}s ago` : `${Math.round(seconds / 60)} min ago`;
}

/** The load the sweep records (issue 13) in words, where it exists; "not recorded" otherwise. */
function Load({ load }: { load: Cluster["load"] }) {
  if (!load) return <span class="muted">not recorded</span>;
  const parts: string[] = [];
  const n = (k: string) => (typeof load[k] === "number" ? (load[k] as number) : undefined);
  if (n("cores_total") !== undefined) parts.push(`${n("cores_used") ?? 0} of ${n("cores_total")} cores used`);
  if (n("memory_mb_total") !== undefined) parts.push(`${n("memory_mb_used") ?? 0} of ${n("memory_mb_total")} MB`);
  if (n("alive_workers") !== undefined) parts.push(`${n("alive_workers")} workers`);
  if (n("running_applications") !== undefined) parts.push(`${n("running_applications")} apps`);
  const yarn = (load.yarn ?? {}) as Record<string, unknown>;
  if (typeof yarn.availableMB === "number") parts.push(`${yarn.availableMB} MB free`);
  if (typeof yarn.availableVirtualCores === "number") parts.push(`${yarn.availableVirtualCores} vcores free`);
  if (load.source === "unknown") parts.push(`unknown${typeof load.unknown_reason === "string" ? `: ${load.unknown_reason}` : ""}`);
  return (
    <span>
      {parts.join(", ") || "recorded"}
      {load.observed_at ? (
        <span class={load.stale ? "stale" : "muted"}>
          {" "}
          · {load.stale ? "stale, " : ""}
          {age(load.observed_at)}
        </span>
      ) : null}
    </span>
  );
}

const COLUMNS: Column<ClusterRow>[] = [
  {
    label: "Name",
    cell: ({ cluster }) => (
      <>
        <a href={`#/jobs?cluster=${cluster.id}`}>{cluster.name}</a>
        <span class="id">{cluster.description}</span>
      </>
    ),
  },
  { label: "Status", cell: ({ cluster }) => <Status status={cluster.status} /> },
  { label: "Kind", cell: ({ cluster }) => `${cluster.plugin_name} ${cluster.plugin_version}` },
  { label: "Running", cell: ({ running }) => running },
  { label: "Queued", cell: ({ queued }) => queued },
  { label: "Load", cell: ({ cluster }) => <Load load={cluster.load} /> },
];

export function ClustersPage() {
  const [adding, setAdding] = useState(false);
  const { value, error, at, paused, reload } = usePolling<ClusterRow[]>(
    async () => {
      const [clusters, running, pending] = await Promise.all([
        listAll<Cluster>("/v2/clusters", "clusters"),
        listAll<Job>("/v2/jobs", "jobs", { status: "RUNNING" }),
        listAll<Job>("/v2/jobs", "jobs", { status: "PENDING" }),
      ]);
      return clusters.map((cluster) => ({
        cluster,
        running: cluster.load?.edp?.running ?? running.filter((j) => j.cluster_id === cluster.id).length,
        queued: cluster.load?.edp?.pending ?? pending.filter((j) => j.cluster_id === cluster.id).length,
      }));
    },
    5000,
    [],
  );

  return (
    <section>
      <div class="page-head">
        <h1>Clusters</h1>
        {!adding ? (
          <button type="button" onClick={() => setAdding(true)}>
            Register a cluster
          </button>
        ) : null}
      </div>
      {adding ? (
        <RegisterCluster
          onDone={() => {
            setAdding(false);
            reload();
          }}
          onCancel={() => setAdding(false)}
        />
      ) : null}
      <Refreshed at={at} paused={paused} />
      <ErrorBox error={error} />
      {value?.length === 0 ? <Empty>No clusters. Register a Spark cluster reached over SSH, or an Oozie one.</Empty> : null}
      {value?.length ? <DataTable columns={COLUMNS} rows={value} rowKey={(row) => row.cluster.id} /> : null}
    </section>
  );
}

const SPARK_FIELDS = ["host", "port", "user", "host_key", "private_key", "spark_home", "master_url"] as const;
const OOZIE_FIELDS = ["oozie_url", "name_node", "resource_manager", "webhdfs_url", "hdfs_user", "password"] as const;
const LONG = new Set(["host_key", "private_key"]);
const WRITE_ONLY = new Set(["private_key", "password"]);
const HINTS: Record<string, string> = {
  host_key: "The master's public host key line (ssh-keyscan), pinned",
  private_key: "Unencrypted OpenSSH or PEM key; write-only, never shown again",
  password: "Write-only, never shown again",
  oozie_url: "http://master:11000/oozie",
  name_node: "hdfs://master:8020",
  resource_manager: "master:8032",
  webhdfs_url: "http://master:9870",
};

function RegisterCluster({ onDone, onCancel }: { onDone: () => void; onCancel: () => void }) {
  const [kind, setKind] = useState<"spark" | "oozie">("spark");
  const [name, setName] = useState("");
  const [version, setVersion] = useState("3.5.0");
  const [values, setValues] = useState<Record<string, string>>({});
  const fields = kind === "spark" ? SPARK_FIELDS : OOZIE_FIELDS;
  const known = ["name", "plugin_version", ...fields.map((f) => `connection.${f}`), "connection"];
  const [errors, setErrors] = useState(FormErrors.none(known));

  async function submit(event: Event) {
    event.preventDefault();
    setErrors(FormErrors.none(known));
    const connection: Record<string, unknown> = kind === "spark" ? { mode: "ssh" } : {};
    for (const f of fields) if (values[f]) connection[f] = f === "port" ? Number(values[f]) : values[f];
    try {
      await api("POST", "/v2/clusters", {
        name,
        plugin_name: kind === "spark" ? "spark" : "vanilla",
        plugin_version: version,
        connection,
      });
      onDone();
    } catch (e) {
      setErrors(FormErrors.of(e, known));
    }
  }

  return (
    <form class="stack card" onSubmit={submit} noValidate aria-label="Register a cluster">
      <h2>Register a cluster</h2>
      <fieldset>
        <legend>Kind</legend>
        <label class="choice">
          <input type="radio" name="kind" checked={kind === "spark"} onChange={() => setKind("spark")} /> Spark standalone over SSH
        </label>
        <label class="choice">
          <input type="radio" name="kind" checked={kind === "oozie"} onChange={() => setKind("oozie")} /> Hadoop with Oozie
        </label>
      </fieldset>
      <div class="row">
        <Field label="Name" error={errors.field("name")}>
          <input name="name" value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </Field>
        <Field label={kind === "spark" ? "Spark version" : "Hadoop version"} error={errors.field("plugin_version")}>
          <input name="plugin_version" value={version} onInput={(e) => setVersion(e.currentTarget.value)} />
        </Field>
      </div>
      {fields.map((f) => (
        <Field key={f} label={f.replace(/_/g, " ")} hint={HINTS[f]} error={errors.field(`connection.${f}`)}>
          {LONG.has(f) ? (
            <textarea
              name={f}
              rows={3}
              class="mono"
              autoComplete="off"
              value={values[f] ?? ""}
              onInput={(e) => setValues({ ...values, [f]: e.currentTarget.value })}
            />
          ) : (
            <input
              name={f}
              // Preact types a password input apart from a text one; this input is either.
              type={(WRITE_ONLY.has(f) ? "password" : "text") as "text"}
              autoComplete="off"
              value={values[f] ?? ""}
              onInput={(e) => setValues({ ...values, [f]: e.currentTarget.value })}
            />
          )}
        </Field>
      ))}
      <ErrorBox error={errors.general()} />
      <div class="actions">
        <button type="submit">Register</button>
        <button type="button" class="secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
