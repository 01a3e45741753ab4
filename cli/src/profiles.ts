import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { UsageError } from "./exit-codes.js";

export interface Profile {
  url: string;
  token: string;
}

interface ProfileFile {
  current?: string;
  profiles: Record<string, Profile>;
}

/** Where profiles live: $XDG_CONFIG_HOME/edp/config.json, or ~/.config/edp/config.json. */
export function profilePath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || join(homedir(), ".config");
  return join(base, "edp", "config.json");
}

async function readProfiles(path: string): Promise<ProfileFile> {
  try {
    const parsed = JSON.parse(await readFile(path, "utf8")) as ProfileFile;
    return { current: parsed.current, profiles: parsed.profiles ?? {} };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { profiles: {} };
    throw new UsageError(`cannot read ${path}: ${(error as Error).message}`);
  }
}

/** Saves a profile, 0600 in a 0700 directory, written whole and renamed so a crash never leaves half a file. */
export async function saveProfile(name: string, profile: Profile, path = profilePath()): Promise<void> {
  const file = await readProfiles(path);
  file.profiles[name] = profile;
  file.current = name;
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, path);
}

export interface Connection extends Profile {
  /** Where the URL and token came from, for `edp whoami` and error messages. */
  source: string;
}

/**
 * The API to talk to, first found wins: an explicit --profile; EDP_URL/EDP_TOKEN (each on its own
 * overrides the profile's); the current profile; the local runtime of `npm start` (its `.edp/` in
 * this directory or a parent).
 */
export async function resolveConnection(profileName: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<Connection> {
  const file = await readProfiles(profilePath(env));
  const chosen = profileName ?? env.EDP_PROFILE;
  if (chosen !== undefined && !file.profiles[chosen])
    throw new UsageError(`no profile named ${chosen} in ${profilePath(env)}; create it with edp login --profile ${chosen}`);
  const name = chosen ?? file.current;
  const profile = name ? file.profiles[name] : undefined;
  if (chosen !== undefined && profile) return { ...profile, source: `profile ${chosen}` };
  const local = profile ? undefined : await localRuntime(env);
  const url = env.EDP_URL || profile?.url || local?.url;
  const token = env.EDP_TOKEN || profile?.token || local?.token;
  if (!url || !token)
    throw new UsageError(
      "not logged in: run edp login --url URL --token TOKEN, set EDP_URL and EDP_TOKEN, or start the local runtime with npm start",
    );
  const source = env.EDP_URL || env.EDP_TOKEN ? "environment" : profile ? `profile ${name}` : `local runtime (${local?.dir})`;
  return { url: url.replace(/\/+$/, ""), token, source };
}

/** The local runtime's URL and token, as `npm start` writes them into its data directory. */
async function localRuntime(env: NodeJS.ProcessEnv): Promise<(Partial<Profile> & { dir: string }) | undefined> {
  const candidates = env.EDP_DATA_DIR ? [resolve(env.EDP_DATA_DIR)] : ancestors(process.cwd()).map((dir) => join(dir, ".edp"));
  for (const dir of candidates) {
    const token = await readTrimmed(join(dir, "token"));
    if (!token) continue;
    const url = (await readTrimmed(join(dir, "url"))) ?? `http://127.0.0.1:${env.EDP_PORT || 8386}`;
    return { url, token, dir };
  }
  return undefined;
}

function ancestors(start: string): string[] {
  const dirs = [start];
  while (dirname(dirs[dirs.length - 1]) !== dirs[dirs.length - 1]) dirs.push(dirname(dirs[dirs.length - 1]));
  return dirs;
}

async function readTrimmed(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, "utf8")).trim() || undefined;
  } catch {
    return undefined;
  }
}
