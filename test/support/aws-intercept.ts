/** What a request-level test sees of one AWS SDK call: the command's name and its input, as built by the adapter. */
export interface SentRequest {
  command: string;
  input: Record<string, unknown>;
}

/** Answers a request: returns the output, or throws the service error to simulate. */
export type Responder = (request: SentRequest) => Record<string, unknown> | undefined;

interface InterceptableClient {
  middlewareStack: {
    add(
      middleware: (
        next: unknown,
        context: { commandName?: string },
      ) => (args: { input: Record<string, unknown> }) => Promise<{ output: { $metadata: Record<string, unknown> }; response: unknown }>,
      options: { step: "initialize"; name: string; priority: "high" },
    ): void;
  };
}

/**
 * Records every request an AWS SDK v3 client would send and answers it at the
 * `initialize` step of its middleware stack, before anything is signed or serialised.
 * Nothing reaches the network: clients built for tests also get a request handler that
 * throws (`offlineClientConfig`), so a request that slipped past would fail loudly.
 */
export function intercept(client: unknown, respond: Responder = () => ({})): SentRequest[] {
  const sent: SentRequest[] = [];
  (client as InterceptableClient).middlewareStack.add(
    (_next, context) => async (args) => {
      const request = { command: context.commandName ?? "?", input: args.input };
      sent.push(request);
      const output = respond(request) ?? {};
      return { output: { $metadata: { httpStatusCode: 200 }, ...output }, response: {} };
    },
    { step: "initialize", name: "edpTestIntercept", priority: "high" },
  );
  return sent;
}

/** Client settings for tests: a region, dummy credentials and a request handler that refuses to send anything. */
export const offlineClientConfig = {
  region: "us-east-1",
  credentials: { accessKeyId: "test", secretAccessKey: "test" },
  requestHandler: {
    handle: async () => {
      throw new Error("A test request reached the network layer");
    },
  },
};
