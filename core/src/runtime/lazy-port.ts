/** A port method: every port's methods are asynchronous, so a lazy adapter can wait for its own code. */
type AsyncMethod = (...args: never[]) => Promise<unknown>;

/** Every method of the port, each named once, so a method added to the port cannot be forgotten here. */
export type PortMethods<T> = { [K in keyof T]-?: T[K] extends AsyncMethod ? true : never };

export type LazyPort<T> = T & {
  /** The adapter itself, loading it if it is not yet: for tests that look at its client's configuration. */
  loaded(): Promise<T>;
};

/**
 * An adapter built on its first call (issue 17.1): `load` imports its module and its SDK client with
 * `import()`, so a function that never stores a secret or a binary never loads Secrets Manager or S3
 * (esbuild puts each in a chunk of its own). A failed load is retried by the next call.
 */
export function lazyPort<T extends object>(load: () => Promise<T>, methods: PortMethods<T>): LazyPort<T> {
  let adapter: Promise<T> | undefined;
  const loaded = (): Promise<T> => {
    adapter ??= load().catch((error: unknown) => {
      adapter = undefined;
      throw error;
    });
    return adapter;
  };
  const port: Record<string, unknown> = { loaded };
  for (const name of Object.keys(methods))
    port[name] = async (...args: unknown[]) => {
      const inner = (await loaded()) as Record<string, (...a: unknown[]) => Promise<unknown>>;
      return inner[name].apply(inner, args);
    };
  return port as LazyPort<T>;
}
