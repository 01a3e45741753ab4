import { z } from "zod";

/** Sahara's `valid_name`: 1-50 characters, letters, digits and `-_.`, not starting with punctuation. */
export const NameSchema = z
  .string()
  .min(1)
  .max(50)
  .regex(/^[a-zA-Z0-9][a-zA-Z0-9\-_.]*$/, "must start with a letter or digit and contain only letters, digits, '-', '_' and '.'");

export const IdSchema = z.uuid({ message: "must be a UUID" });

export const DescriptionSchema = z.string().max(4096);

/** Sahara accepts `null` for the flags and treats it as false. */
export const FlagSchema = z.boolean().nullable().optional();

/** Sahara's `simple_config`: string keys to string or number values (no booleans). */
export const SimpleConfigSchema = z.record(z.string().max(1024), z.union([z.string().max(65536), z.number()]));

/** Fields every stored resource carries. */
export interface Resource {
  id: string;
  project_id: string;
  created_at: string;
  updated_at: string | null;
  is_public: boolean;
  is_protected: boolean;
}
