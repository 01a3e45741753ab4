import { useEffect, useState } from "preact/hooks";
import { api, type DataSource, listAll } from "../api";
import { DataTable, Empty, ErrorBox, Field, FormErrors, InlineDelete, Time } from "../ui";

/** What each type needs: its URL form and which write-only credentials it takes. */
const TYPES: Record<string, { example: string; credentials: ("user" | "password" | "accesskey" | "secretkey" | "endpoint")[] }> = {
  hdfs: { example: "hdfs://namenode:8020/user/me/input", credentials: [] },
  s3: { example: "s3a://bucket/path", credentials: ["accesskey", "secretkey", "endpoint"] },
  swift: { example: "swift://container.sahara/object", credentials: ["user", "password"] },
  file: { example: "file:///data/input", credentials: [] },
  maprfs: { example: "maprfs:///user/me/input", credentials: [] },
  manila: { example: "manila://share-id/path", credentials: [] },
};
const LABELS = { user: "User", password: "Password", accesskey: "Access key", secretkey: "Secret key", endpoint: "Endpoint" };
const SECRET = new Set(["password", "secretkey"]);
const FIELDS = ["name", "type", "url", "description", "credentials"];

export function DataSourcesPage() {
  const [sources, setSources] = useState<DataSource[]>();
  const [error, setError] = useState<unknown>(null);
  const load = () => listAll<DataSource>("/v2/data-sources", "data_sources").then(setSources, setError);
  useEffect(() => {
    load();
  }, []);

  async function remove(id: string) {
    setError(null);
    try {
      await api("DELETE", `/v2/data-sources/${id}`);
      load();
    } catch (e) {
      setError(e);
    }
  }

  return (
    <section>
      <h1>Data sources</h1>
      <CreateDataSource onDone={load} />
      <ErrorBox error={error} />
      {sources?.length === 0 ? (
        <Empty>No data sources yet. Register the input and output locations your jobs read and write above.</Empty>
      ) : null}
      {sources?.length ? (
        <DataTable
          rows={sources}
          rowKey={(s) => s.id}
          columns={[
            { label: "Name", cell: (s) => s.name },
            { label: "Type", cell: (s) => s.type },
            { label: "URL", class: "mono", cell: (s) => s.url },
            { label: "Created", cell: (s) => <Time value={s.created_at} /> },
            { label: "Actions", hiddenLabel: true, cell: (s) => <InlineDelete name={s.name} onDelete={() => remove(s.id)} /> },
          ]}
        />
      ) : null}
    </section>
  );
}

function CreateDataSource({ onDone }: { onDone: () => void }) {
  const [name, setName] = useState("");
  const [type, setType] = useState("hdfs");
  const [url, setUrl] = useState("");
  const [description, setDescription] = useState("");
  const [credentials, setCredentials] = useState<Record<string, string>>({});
  const [errors, setErrors] = useState(FormErrors.none(FIELDS));
  const spec = TYPES[type];

  async function submit(event: Event) {
    event.preventDefault();
    setErrors(FormErrors.none(FIELDS));
    const given = Object.fromEntries(spec.credentials.filter((k) => credentials[k]).map((k) => [k, credentials[k]]));
    try {
      await api("POST", "/v2/data-sources", {
        name,
        type,
        url,
        ...(description ? { description } : {}),
        ...(Object.keys(given).length ? { credentials: given } : {}),
      });
      setName("");
      setUrl("");
      setDescription("");
      setCredentials({});
      onDone();
    } catch (e) {
      setErrors(FormErrors.of(e, FIELDS));
    }
  }

  return (
    <form class="stack card" onSubmit={submit} noValidate aria-label="New data source">
      <h2>New data source</h2>
      <div class="row">
        <Field label="Name" error={errors.field("name")}>
          <input name="name" value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </Field>
        <Field label="Type" error={errors.field("type")}>
          <select name="type" value={type} onChange={(e) => setType(e.currentTarget.value)}>
            {Object.keys(TYPES).map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </Field>
      </div>
      <Field label="URL" error={errors.field("url")} hint={`For example ${spec.example}`}>
        <input name="url" value={url} onInput={(e) => setUrl(e.currentTarget.value)} />
      </Field>
      <Field label="Description" error={errors.field("description")}>
        <input name="description" value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
      </Field>
      {spec.credentials.length ? (
        <fieldset>
          <legend>Credentials (write-only: never shown again)</legend>
          <div class="row">
            {spec.credentials.map((k) => (
              <Field key={k} label={LABELS[k]} error={errors.field(`credentials.${k}`)}>
                <input
                  name={k}
                  type={(SECRET.has(k) ? "password" : "text") as "text"}
                  autoComplete="off"
                  value={credentials[k] ?? ""}
                  onInput={(e) => setCredentials({ ...credentials, [k]: e.currentTarget.value })}
                />
              </Field>
            ))}
          </div>
        </fieldset>
      ) : null}
      <ErrorBox error={errors.general()} />
      <button type="submit">Create data source</button>
    </form>
  );
}
