import { DescriptionSchema, FlagSchema, IdSchema, NameSchema, OptionalDescriptionSchema, type Resource } from "./common.js";
import { type NotificationEvent, NotificationSubscriptionSchema } from "./job-execution.js";
import { ACCEPTED_MAPPING_TYPES, type JobType, JobTypeSchema, LIBS_REQUIRED, MAIN_REQUIRED, MAINS_FORBIDDEN } from "./job-types.js";
import * as z from "./zod.js";

export const InterfaceArgumentSchema = z.strictObject({
  name: z.string().check(z.minLength(1), z.maxLength(80)),
  description: OptionalDescriptionSchema,
  mapping_type: z.enum(["args", "configs", "params"]),
  location: z.string().check(z.minLength(1), z.maxLength(255)),
  value_type: z._default(z.enum(["string", "number", "data_source"]), "string"),
  required: z.boolean(),
  default: z.optional(z.nullable(z.string().check(z.maxLength(65536)))),
});
export type InterfaceArgument = z.infer<typeof InterfaceArgumentSchema>;

const BinaryIdList = z.array(IdSchema).check(z.maxLength(100));

/** A template's webhooks: the execution's subscription schema; no secret is kept on the template. */
const TemplateNotificationsSchema = z.array(NotificationSubscriptionSchema).check(z.maxLength(10));

/** Interface rules of Sahara §9 (`check_interface`). */
function checkInterface(type: JobType, args: InterfaceArgument[], addIssue: (path: (string | number)[], message: string) => void) {
  const names = new Set<string>();
  const places = new Set<string>();
  const positional: number[] = [];
  args.forEach((arg, index) => {
    if (names.has(arg.name)) addIssue(["interface", index, "name"], `Name '${arg.name}' is not unique`);
    names.add(arg.name);
    if (!ACCEPTED_MAPPING_TYPES[type].includes(arg.mapping_type))
      addIssue(["interface", index, "mapping_type"], `Mapping type '${arg.mapping_type}' is not allowed for job type ${type}`);
    const place = `${arg.mapping_type}:${arg.location}`;
    if (places.has(place)) addIssue(["interface", index, "location"], `Location '${arg.location}' is used twice for ${arg.mapping_type}`);
    places.add(place);
    if (arg.mapping_type === "args") {
      if (!/^\d+$/.test(arg.location)) addIssue(["interface", index, "location"], "Positional arguments must have a numeric location");
      else positional.push(Number(arg.location));
      if (!arg.required && (arg.default === undefined || arg.default === null))
        addIssue(["interface", index, "default"], "Positional arguments that are not required must have a default");
    }
    if (arg.value_type === "number" && arg.default != null && Number.isNaN(Number(arg.default)))
      addIssue(["interface", index, "default"], `Default '${arg.default}' is not a number`);
  });
  const sorted = [...positional].sort((a, b) => a - b);
  if (sorted.some((location, i) => location !== i)) addIssue(["interface"], "Positional argument locations must be the numbers 0 to n-1");
}

export const JobTemplateCreateSchema = z
  .strictObject({
    name: NameSchema,
    type: JobTypeSchema,
    description: OptionalDescriptionSchema,
    mains: z._default(BinaryIdList, []),
    libs: z._default(BinaryIdList, []),
    streaming: z.optional(z.boolean()),
    interface: z._default(z.array(InterfaceArgumentSchema).check(z.maxLength(100)), []),
    is_public: FlagSchema,
    is_protected: FlagSchema,
    /** Webhooks told of every run's events (issue 12); each run gives each its own signing secret. */
    notifications: z.optional(TemplateNotificationsSchema),
  })
  .check(
    z.superRefine((input, ctx) => {
      const addIssue = (path: (string | number)[], message: string) => ctx.addIssue({ code: "custom", path, message });
      // Sahara's check_mains_libs raises InvalidDataException: these are INVALID_DATA, not schema errors.
      const invalidData = (path: string, message: string) =>
        ctx.addIssue({ code: "custom", path: [path], message, params: { code: "INVALID_DATA" } });
      const mainMessage = MAIN_REQUIRED[input.type];
      if (mainMessage && input.mains.length === 0) invalidData("mains", mainMessage);
      if (mainMessage && input.mains.some((id) => input.libs.includes(id))) invalidData("libs", "'mains' and 'libs' overlap");
      if (MAINS_FORBIDDEN.includes(input.type) && input.mains.length > 0) invalidData("mains", `${input.type} flow does not use mains`);
      if (LIBS_REQUIRED.includes(input.type) && input.libs.length === 0) invalidData("libs", `${input.type} flow requires libs`);
      if (new Set(input.mains).size !== input.mains.length) addIssue(["mains"], "Binary ids must be unique");
      if (new Set(input.libs).size !== input.libs.length) addIssue(["libs"], "Binary ids must be unique");
      checkInterface(input.type, input.interface, addIssue);
    }),
  );
export type JobTemplateCreate = z.infer<typeof JobTemplateCreateSchema>;

export const JobTemplateUpdateSchema = z.strictObject({
  name: z.optional(NameSchema),
  description: z.optional(z.nullable(DescriptionSchema)),
  is_public: FlagSchema,
  is_protected: FlagSchema,
  /** Replaces the template's webhooks; `[]` removes them. */
  notifications: z.optional(TemplateNotificationsSchema),
});
export type JobTemplateUpdate = z.infer<typeof JobTemplateUpdateSchema>;

export interface JobTemplate extends Resource {
  name: string;
  type: JobType;
  description: string;
  mains: string[];
  libs: string[];
  streaming?: boolean;
  interface: (InterfaceArgument & { order: number })[];
  /** Subscribed by every run of the template, in addition to the run's own (issue 12). */
  notifications?: { url: string; events: NotificationEvent[] }[];
}
