import { randomUUID } from "node:crypto";
import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { SecretStore } from "./secret-store.js";

/**
 * The local runtime's secret store: one JSON file readable only by its owner (0600).
 * Writes go through a temporary file and a rename so a crash never leaves half a file,
 * and are serialised in-process so concurrent puts don't lose each other.
 */
export class FileSecretStore implements SecretStore {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly path: string) {}

  async put(value: Record<string, unknown>): Promise<string> {
    const id = randomUUID();
    await this.mutate((all) => {
      all[id] = value;
    });
    return id;
  }

  async get(id: string): Promise<Record<string, unknown> | undefined> {
    await this.queue;
    return (await this.readAll())[id];
  }

  async replace(id: string, value: Record<string, unknown>): Promise<void> {
    await this.mutate((all) => {
      all[id] = value;
    });
  }

  async delete(id: string): Promise<void> {
    await this.mutate((all) => {
      delete all[id];
    });
  }

  private mutate(change: (all: Record<string, Record<string, unknown>>) => void): Promise<void> {
    const next = this.queue.then(async () => {
      const all = await this.readAll();
      change(all);
      await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
      const temporary = `${this.path}.${process.pid}.tmp`;
      await writeFile(temporary, JSON.stringify(all), { mode: 0o600 });
      await chmod(temporary, 0o600);
      await rename(temporary, this.path);
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async readAll(): Promise<Record<string, Record<string, unknown>>> {
    try {
      return JSON.parse(await readFile(this.path, "utf8"));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return {};
      throw error;
    }
  }
}
