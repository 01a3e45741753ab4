import { useEffect, useRef, useState } from "preact/hooks";
import { api, type Binary, listAll } from "../api";
import { uploadBinary } from "../binaries";
import { DataTable, Empty, ErrorBox, Field, FormErrors, InlineDelete, Time } from "../ui";

const FIELDS = ["name", "url", "description", "extra"];

export function BinariesPage() {
  const [binaries, setBinaries] = useState<Binary[]>();
  const [error, setError] = useState<unknown>(null);
  const load = () => listAll<Binary>("/v2/job-binaries", "binaries").then(setBinaries, setError);
  useEffect(() => {
    load();
  }, []);

  async function remove(binary: Binary) {
    setError(null);
    try {
      await api("DELETE", `/v2/job-binaries/${binary.id}`);
      // The stored bytes go too when EDP holds them.
      const internal = /^internal-db:\/\/(.+)$/.exec(binary.url)?.[1];
      if (internal) await api("DELETE", `/v2/job-binary-internals/${internal}`).catch(() => {});
      load();
    } catch (e) {
      setError(e);
    }
  }

  return (
    <section>
      <h1>Binaries</h1>
      <div class="two">
        <UploadBinary onDone={load} />
        <RegisterBinary onDone={load} />
      </div>
      <ErrorBox error={error} />
      {binaries?.length === 0 ? (
        <Empty>No binaries yet. Upload a script or a jar above; templates use binaries as mains and libs.</Empty>
      ) : null}
      {binaries?.length ? (
        <DataTable
          rows={binaries}
          rowKey={(b) => b.id}
          columns={[
            { label: "Name", cell: (b) => b.name },
            { label: "URL", class: "mono", cell: (b) => b.url },
            { label: "Created", cell: (b) => <Time value={b.created_at} /> },
            { label: "Actions", hiddenLabel: true, cell: (b) => <InlineDelete name={b.name} onDelete={() => remove(b)} /> },
          ]}
        />
      ) : null}
    </section>
  );
}

function UploadBinary({ onDone }: { onDone: () => void }) {
  const file = useRef<HTMLInputElement>(null);
  const [progress, setProgress] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  async function submit(event: Event) {
    event.preventDefault();
    const chosen = file.current?.files?.[0];
    if (!chosen) return setError(new Error("Choose a file to upload."));
    setError(null);
    try {
      await uploadBinary(chosen, setProgress);
      file.current!.value = "";
      onDone();
    } catch (e) {
      setError(e);
    } finally {
      setProgress(null);
    }
  }
  return (
    <form class="stack card" onSubmit={submit} aria-label="Upload a binary">
      <h2>Upload</h2>
      <Field label="File" hint="Stored by EDP (internal-db://)">
        <input type="file" name="file" ref={file} />
      </Field>
      {progress !== null ? (
        <label class="field">
          <span class="label">Uploading {Math.round(progress * 100)}%</span>
          <progress max={1} value={progress} />
        </label>
      ) : null}
      <ErrorBox error={error} />
      <button type="submit">Upload</button>
    </form>
  );
}

/** A binary kept elsewhere (Swift, S3, HDFS…): its URL and, write-only, the credentials to read it. */
function RegisterBinary({ onDone }: { onDone: () => void }) {
  const [name, setName] = useState("");
  const [url, setUrl] = useState("");
  const [user, setUser] = useState("");
  const [password, setPassword] = useState("");
  const [errors, setErrors] = useState(FormErrors.none(FIELDS));
  async function submit(event: Event) {
    event.preventDefault();
    setErrors(FormErrors.none(FIELDS));
    try {
      // A git repository takes HTTP Basic credentials as username and token (README: Job code from git).
      const credentials = url.startsWith("git+") ? { username: user, token: password } : { user, password };
      const extra = user || password ? { extra: credentials } : {};
      await api("POST", "/v2/job-binaries", { name, url, ...extra });
      setName("");
      setUrl("");
      setUser("");
      setPassword("");
      onDone();
    } catch (e) {
      setErrors(FormErrors.of(e, FIELDS));
    }
  }
  return (
    <form class="stack card" onSubmit={submit} noValidate aria-label="Register a binary by URL">
      <h2>Register by URL</h2>
      <Field label="Name" error={errors.field("name")}>
        <input name="name" value={name} onInput={(e) => setName(e.currentTarget.value)} />
      </Field>
      <Field label="URL" error={errors.field("url")} hint="swift://, s3://, git+https://host/repo.git#ref:path …">
        <input name="url" value={url} onInput={(e) => setUrl(e.currentTarget.value)} />
      </Field>
      <div class="row">
        <Field label="User" error={errors.field("extra")}>
          <input name="user" autoComplete="off" value={user} onInput={(e) => setUser(e.currentTarget.value)} />
        </Field>
        <Field label="Password (write-only)">
          <input
            type="password"
            name="password"
            autoComplete="new-password"
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </Field>
      </div>
      <ErrorBox error={errors.general()} />
      <button type="submit">Register</button>
    </form>
  );
}
