import { api, type Binary, upload } from "./api";

/** A file stored in EDP's own binary store and registered as a job binary (internal-db://), as the README's quickstart does with curl. */
export async function uploadBinary(file: File, onProgress: (fraction: number) => void, description = ""): Promise<Binary> {
  const stored = (await upload(`/v2/job-binary-internals/${encodeURIComponent(file.name)}`, file, onProgress)) as {
    job_binary_internal: { id: string };
  };
  const { job_binary } = await api<{ job_binary: Binary }>("POST", "/v2/job-binaries", {
    name: file.name,
    url: `internal-db://${stored.job_binary_internal.id}`,
    ...(description ? { description } : {}),
  });
  return job_binary;
}
