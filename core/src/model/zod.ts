/**
 * The zod every EDP schema is built with: `zod/mini`, zod's functional API. It validates
 * exactly as classic zod does, but each check is a function that a bundle takes only if it
 * uses it, and a schema carries no methods of its own: a function bundle loads about a
 * quarter of the code and builds its schemas faster at cold start (issue 17.1).
 *
 * zod/mini ships no messages by default ("Invalid input"); English is configured here, once,
 * so that every issue reads as classic zod writes it. Import zod from here, never directly.
 */
import { en } from "zod/locales";
import { config, superRefine } from "zod/mini";

export * from "zod/mini";

config(en());

/**
 * A string check that runs a parser which throws (a CIDR list, an OpenSSH key line) and reports
 * what it threw as the field's message, so the schema and the parser cannot disagree.
 */
export function parsedBy(parse: (value: string) => unknown) {
  return superRefine((value: string, ctx) => {
    try {
      parse(value);
    } catch (error) {
      ctx.addIssue({ code: "custom", message: (error as Error).message });
    }
  });
}
