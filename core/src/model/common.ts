import * as z from "./zod.js";

/** Sahara's `valid_name`: 1-50 characters, letters, digits and `-_.`, not starting with punctuation. */
export const NameSchema = z
  .string()
  .check(
    z.minLength(1),
    z.maxLength(50),
    z.regex(/^[a-zA-Z0-9][a-zA-Z0-9\-_.]*$/, "must start with a letter or digit and contain only letters, digits, '-', '_' and '.'"),
  );

export const IdSchema = z.uuid({ message: "must be a UUID" });

export const DescriptionSchema = z.string().check(z.maxLength(4096));

/**
 * An optional string field where JSON `null` means absent: python-saharaclient sends
 * `"description": null` (and other unset strings) when it was given none.
 */
export function optionalString(schema: z.ZodMiniString<string>) {
  // `optional` around the transform keeps the key optional in the inferred type.
  return z.optional(
    z.pipe(
      z.nullish(schema),
      z.transform((value) => value ?? undefined),
    ),
  );
}

/** The fields a data source's credentials and a job binary's extra share: a store's user, keys and endpoint. */
export const StoreCredentialFields = {
  user: optionalString(z.string().check(z.maxLength(1024))),
  password: optionalString(z.string().check(z.maxLength(4096))),
  accesskey: optionalString(z.string().check(z.maxLength(1024))),
  secretkey: optionalString(z.string().check(z.maxLength(4096))),
  endpoint: optionalString(z.string().check(z.maxLength(1024))),
};

/** Write-only credentials: no other key, and the fields sent as `null` dropped, as if absent. */
export function credentialsObject<Shape extends z.core.$ZodLooseShape>(shape: Shape) {
  return z.pipe(z.strictObject(shape), z.transform(withoutUndefined));
}

/** A description on create: optional, `null` meaning none. */
export const OptionalDescriptionSchema = optionalString(DescriptionSchema);

/** An object without the keys whose value is undefined (an optional field sent as `null`), so key counts stay honest. */
export function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** Sahara accepts `null` for the flags and treats it as false. */
export const FlagSchema = z.optional(z.nullable(z.boolean()));

/**
 * Text that becomes a process argument, an environment variable or a configuration
 * property on a cluster. None of them can hold a NUL byte (execve takes C strings), so one
 * is refused at submit rather than failing the launch.
 */
export function processText(maxLength: number) {
  return z.string().check(
    z.maxLength(maxLength),
    z.refine((text) => !text.includes("\0"), "must not contain a NUL byte"),
  );
}

/** Sahara's `simple_config`: string keys to string or number values (no booleans). */
export const SimpleConfigSchema = z.record(processText(1024), z.union([processText(65536), z.number()]));

/** Fields every stored resource carries. */
export interface Resource {
  id: string;
  project_id: string;
  created_at: string;
  updated_at: string | null;
  is_public: boolean;
  is_protected: boolean;
}
