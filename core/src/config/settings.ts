import { z } from "zod";

/**
 * Every setting EDP reads from the environment, with its default. Parsed once, so a
 * bad value fails at start-up with the variable named rather than deep inside a request.
 */
const SettingsSchema = z.object({
  /** Which adapters back the ports: `local` (dynalite, files, timers) or `aws`. */
  EDP_RUNTIME: z.enum(["local", "aws"]).default("local"),
  EDP_TABLE_NAME: z.string().min(1).default("edp"),
  /** DynamoDB endpoint override (dynalite); unset on AWS. */
  EDP_DYNAMODB_ENDPOINT: z.string().url().optional(),
  /** Largest uploaded binary, in KiB (Sahara's job_binary_max_KB). */
  EDP_MAX_BINARY_KB: z.coerce.number().int().positive().default(5120),
  /** Largest JSON request body, in bytes. */
  EDP_MAX_BODY_BYTES: z.coerce.number().int().positive().default(1_048_576),
  /** Seconds a cancelled job may take to stop before the sweep escalates to SIGTERM/SIGKILL. */
  EDP_CANCEL_GRACE_SECONDS: z.coerce.number().int().nonnegative().default(60),
  /** Seconds a PENDING execution may wait for its launch trigger before the sweep re-drives it. */
  EDP_LAUNCH_REDRIVE_SECONDS: z.coerce.number().int().positive().default(30),
  EDP_CONNECT_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  EDP_COMMAND_TIMEOUT_MS: z.coerce.number().int().positive().default(60_000),
});

export type Settings = z.infer<typeof SettingsSchema>;

export function readSettings(env: Record<string, string | undefined> = process.env): Settings {
  const result = SettingsSchema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new Error(`Invalid EDP settings: ${problems}`);
  }
  return result.data;
}
