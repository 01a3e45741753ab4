import { text } from "node:stream/consumers";
import type { Command } from "commander";
import { ApiClient } from "../client.js";
import { profilePath, resolveConnection, saveProfile } from "../profiles.js";

export function loginCommand(program: Command): void {
  program
    .command("login")
    .description("check a URL and token against the API and save them as a profile (0600, in the XDG config directory)")
    .requiredOption("--url <url>", "EDP's API, e.g. http://127.0.0.1:8386")
    .requiredOption("--token <token>", "a token of your project, or - to read it from stdin (kept out of shell history and ps)")
    .addHelpText(
      "after",
      `
The profile is used by later commands; --profile NAME (or EDP_PROFILE) picks another, and
EDP_URL and EDP_TOKEN override it. With no profile, edp uses the local runtime of npm start.

Example:
  edp login --url http://127.0.0.1:8386 --token - < .edp/token`,
    )
    .action(async (options: { url: string; token: string }, command: Command) => {
      const name = (command.optsWithGlobals().profile as string | undefined) ?? "default";
      const url = options.url.replace(/\/+$/, "");
      const token = options.token === "-" ? (await text(process.stdin)).trim() : options.token;
      // A login that does not work is not saved.
      await new ApiClient({ url, token, source: "edp login" }).get("/v2/clusters", { limit: 1 });
      await saveProfile(name, { url, token });
      process.stderr.write(`logged in to ${url} as profile ${name} (${profilePath()})\n`);
    });
  program
    .command("whoami")
    .description("show which API and which source of credentials edp would use (never the token)")
    .addHelpText("after", "\nExample:\n  EDP_PROFILE=prod edp whoami")
    .action(async (_options, command: Command) => {
      const connection = await resolveConnection(command.optsWithGlobals().profile as string | undefined);
      process.stdout.write(`${connection.url}  (${connection.source})\n`);
    });
}
