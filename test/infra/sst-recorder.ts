/**
 * Stand-ins for SST's globals (`$config`, `$app`, `$interpolate`, `sst`, `aws`) that record
 * what sst.config.ts and infra/ construct and call, so the real config can run in a test
 * with no `.sst`, no Pulumi, no network and no AWS.
 *
 * Every value is a recording Proxy named by how it was reached:
 * - `new sst.aws.Function("Run", args)` records a construct and returns `sst.aws.Function#Run`;
 * - a property read appends to the name (`sst.aws.Function#Run.arn`);
 * - a call records its arguments and returns `call#<n>` (its result's properties: `call#<n>.json`).
 * A recorded value turns into its name in template strings; names of ARNs start with `arn:`
 * so settings that must be ARNs still parse.
 */

export interface Recorded {
  kind: "construct" | "call";
  /** `sst.aws.Function` for a construct, `sst.aws.ApiGatewayV2#Api.route` for a call. */
  target: string;
  args: unknown[];
  /** The name of the value it returned. */
  result: string;
}

const NAME = Symbol("recorded name");

export function nameOf(value: unknown): string | undefined {
  return (typeof value === "function" || (typeof value === "object" && value !== null)) && NAME in value
    ? (value as { [NAME]: string })[NAME]
    : undefined;
}

/** A recorded value's name, or the string a plain value already is. */
export function text(value: unknown): string {
  return nameOf(value) ?? String(value);
}

export function createRecorder(app: { name: string; stage: string }) {
  const records: Recorded[] = [];

  const fake = (name: string): unknown =>
    // A `function`, not an arrow: only constructors can be `new`ed, even through a Proxy.
    new Proxy(function recorded() {}, {
      get(_target, property) {
        if (property === NAME) return name;
        if (property === "then") return undefined; // not a promise: `await` must not treat it as one
        if (property === Symbol.toPrimitive || property === "toString") return () => (name.endsWith(".arn") ? `arn:${name}` : `<${name}>`);
        if (property === "toJSON") return () => `<${name}>`;
        if (typeof property === "symbol") return undefined;
        return fake(`${name}.${property}`);
      },
      has: (_target, property) => property === NAME,
      construct(_target, args) {
        const result = `${name}#${String(args[0])}`;
        records.push({ kind: "construct", target: name, args, result });
        return fake(result) as object;
      },
      apply(_target, _this, args) {
        const result = `call#${records.length}`;
        records.push({ kind: "call", target: name, args, result });
        return fake(result);
      },
    });

  const globals = {
    $config: (config: unknown) => config,
    $app: app,
    $interpolate: (strings: TemplateStringsArray, ...values: unknown[]) => String.raw({ raw: strings }, ...values.map((v) => String(v))),
    sst: fake("sst"),
    aws: fake("aws"),
  };

  return {
    records,
    install() {
      Object.assign(globalThis, globals);
    },
    uninstall() {
      for (const key of Object.keys(globals)) delete (globalThis as Record<string, unknown>)[key];
    },
    constructs(target: string) {
      return records.filter((r) => r.kind === "construct" && r.target === target);
    },
    calls(target: string) {
      return records.filter((r) => r.kind === "call" && r.target === target);
    },
    /** The record that produced a value (`call#3.json` → call #3). */
    origin(value: unknown): Recorded | undefined {
      const name = nameOf(value) ?? String(value).replace(/^arn:/, "").replace(/^<|>$/g, "");
      return records
        .filter((r) => name === r.result || name.startsWith(`${r.result}.`))
        .sort((a, b) => b.result.length - a.result.length)[0];
    },
  };
}
