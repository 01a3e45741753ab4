import { type Command, InvalidArgumentError } from "commander";
import { ApiClient } from "./client.js";
import { chooseFormat, type Format } from "./output.js";
import { resolveConnection } from "./profiles.js";

/** The options every command shares, read from the program at the root. */
export interface GlobalOptions {
  profile?: string;
  output?: string;
}

export function globals(command: Command): GlobalOptions {
  return command.optsWithGlobals() as GlobalOptions;
}

export async function clientFor(command: Command): Promise<ApiClient> {
  return new ApiClient(await resolveConnection(globals(command).profile));
}

export function formatFor(command: Command): Format {
  return chooseFormat(globals(command).output);
}

/** `k=v` options, collected into an object; a value may hold further `=`. */
export function keyValue(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const at = value.indexOf("=");
  if (at <= 0) throw new InvalidArgumentError(`expected key=value, not ${value}`);
  return { ...previous, [value.slice(0, at)]: value.slice(at + 1) };
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
