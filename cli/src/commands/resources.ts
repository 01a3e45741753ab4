import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { type Command, InvalidArgumentError } from "commander";
import type { Json } from "../client.js";
import { clientFor, collect, formatFor } from "../context.js";
import { printItem, printList } from "../output.js";
import { kinds, resolveId, resolveResource } from "../resolve.js";

function parseJsonOption(text: string): Json {
  try {
    const value = JSON.parse(text);
    if (value && typeof value === "object" && !Array.isArray(value)) return value as Json;
  } catch {}
  throw new InvalidArgumentError("expected a JSON object");
}

/** `edp clusters ls|show|register|rm` */
export function clustersCommand(program: Command): void {
  const clusters = program.command("clusters").description("registered clusters");
  clusters
    .command("ls")
    .description("list clusters")
    .addHelpText("after", "\nExample:\n  edp clusters ls -o json")
    .action(async (_options, command: Command) => {
      const client = await clientFor(command);
      const rows = await client.list<Json>(kinds.cluster.path, kinds.cluster.list);
      printList(
        rows,
        [
          { header: "ID", value: (r) => r.id },
          { header: "NAME", value: (r) => r.name },
          { header: "PLUGIN", value: (r) => `${r.plugin_name} ${r.plugin_version}` },
          { header: "STATUS", value: (r) => r.status },
        ],
        formatFor(command),
      );
    });
  clusters
    .command("show <cluster>")
    .description("show a cluster, by name or id")
    .addHelpText("after", "\nExample:\n  edp clusters show local")
    .action(async (cluster: string, _options, command: Command) => {
      const client = await clientFor(command);
      printItem(await resolveResource(client, kinds.cluster, cluster), formatFor(command));
    });
  clusters
    .command("register <name>")
    .description("register an existing cluster (Spark over SSH, or Oozie)")
    .requiredOption("--plugin <plugin>", "the plugin: spark or oozie")
    .requiredOption("--plugin-version <version>", "the plugin's version, e.g. 3.5.0")
    .option("--connection <json>", "how EDP reaches it, a JSON object (secrets are stored, never shown)", parseJsonOption)
    .option("--description <text>", "a description")
    .addHelpText(
      "after",
      `\nExample:\n  edp clusters register lab --plugin spark --plugin-version 3.5.0 \\\n    --connection '{"host": "spark.lab.example", "username": "edp", "private_key": "..."}'`,
    )
    .action(async (name: string, options: { plugin: string; pluginVersion: string; connection?: Json; description?: string }, command) => {
      const client = await clientFor(command);
      const body = await client.post<Json>(kinds.cluster.path, {
        name,
        plugin_name: options.plugin,
        plugin_version: options.pluginVersion,
        connection: options.connection ?? {},
        description: options.description,
      });
      printItem(body.cluster as Json, formatFor(command));
    });
  clusters
    .command("rm <cluster>")
    .description("unregister a cluster, by name or id")
    .addHelpText("after", "\nExample:\n  edp clusters rm lab")
    .action(async (cluster: string, _options, command: Command) => {
      const client = await clientFor(command);
      const id = await resolveId(client, kinds.cluster, cluster);
      await client.delete(`${kinds.cluster.path}/${id}`);
      process.stderr.write(`removed cluster ${id}\n`);
    });
}

/** `edp binaries ls|upload|rm` */
export function binariesCommand(program: Command): void {
  const binaries = program.command("binaries").description("job binaries: the code a job runs");
  binaries
    .command("ls")
    .description("list job binaries")
    .addHelpText("after", "\nExample:\n  edp binaries ls")
    .action(async (_options, command: Command) => {
      const client = await clientFor(command);
      const rows = await client.list<Json>(kinds.binary.path, kinds.binary.list);
      printList(
        rows,
        [
          { header: "ID", value: (r) => r.id },
          { header: "NAME", value: (r) => r.name },
          { header: "URL", value: (r) => r.url },
        ],
        formatFor(command),
      );
    });
  binaries
    .command("upload <file>")
    .description("upload a file into EDP and make it a job binary")
    .option("--name <name>", "the binary's name (default: the file's name)")
    .option("--public", "visible to every project")
    .addHelpText("after", "\nExample:\n  edp binaries upload hello.sh")
    .action(async (file: string, options: { name?: string; public?: boolean }, command: Command) => {
      const client = await clientFor(command);
      const name = options.name ?? basename(file);
      const content = await readFile(file);
      const internal = (
        await client.request<Json>(`/v2/job-binary-internals/${encodeURIComponent(name)}`, {
          method: "PUT",
          body: content,
          headers: { "Content-Type": "application/octet-stream" },
        })
      ).body.job_binary_internal as Json;
      const body = await client.post<Json>(kinds.binary.path, { name, url: `internal-db://${internal.id}`, is_public: options.public });
      printItem(body.job_binary as Json, formatFor(command));
    });
  binaries
    .command("rm <binary>")
    .description("remove a job binary, by name or id (and the uploaded file behind it)")
    .addHelpText("after", "\nExample:\n  edp binaries rm hello.sh")
    .action(async (binary: string, _options, command: Command) => {
      const client = await clientFor(command);
      const found = await resolveResource(client, kinds.binary, binary);
      await client.delete(`${kinds.binary.path}/${found.id}`);
      const internal = /^internal-db:\/\/(.+)$/.exec(String(found.url));
      if (internal) await client.delete(`/v2/job-binary-internals/${internal[1]}`);
      process.stderr.write(`removed job binary ${found.id}\n`);
    });
}

/** `edp data-sources ls|create|rm` */
export function dataSourcesCommand(program: Command): void {
  const sources = program.command("data-sources").description("data sources: a job's input and output");
  sources
    .command("ls")
    .description("list data sources")
    .addHelpText("after", "\nExample:\n  edp data-sources ls")
    .action(async (_options, command: Command) => {
      const client = await clientFor(command);
      const rows = await client.list<Json>(kinds.dataSource.path, kinds.dataSource.list);
      printList(
        rows,
        [
          { header: "ID", value: (r) => r.id },
          { header: "NAME", value: (r) => r.name },
          { header: "TYPE", value: (r) => r.type },
          { header: "URL", value: (r) => r.url },
        ],
        formatFor(command),
      );
    });
  sources
    .command("create <name>")
    .description("create a data source")
    .requiredOption("--type <type>", "hdfs, swift, s3, maprfs or manila")
    .requiredOption("--url <url>", "where the data is")
    .option("--description <text>", "a description")
    .addHelpText("after", "\nExample:\n  edp data-sources create logs --type hdfs --url hdfs://namenode/logs")
    .action(async (name: string, options: { type: string; url: string; description?: string }, command: Command) => {
      const client = await clientFor(command);
      const body = await client.post<Json>(kinds.dataSource.path, { name, ...options });
      printItem(body.data_source as Json, formatFor(command));
    });
  sources
    .command("rm <source>")
    .description("remove a data source, by name or id")
    .addHelpText("after", "\nExample:\n  edp data-sources rm logs")
    .action(async (source: string, _options, command: Command) => {
      const client = await clientFor(command);
      const id = await resolveId(client, kinds.dataSource, source);
      await client.delete(`${kinds.dataSource.path}/${id}`);
      process.stderr.write(`removed data source ${id}\n`);
    });
}

/** `edp templates ls|show|create|rm` */
export function templatesCommand(program: Command): void {
  const templates = program.command("templates").description("job templates: what a job runs");
  templates
    .command("ls")
    .description("list job templates")
    .addHelpText("after", "\nExample:\n  edp templates ls")
    .action(async (_options, command: Command) => {
      const client = await clientFor(command);
      const rows = await client.list<Json>(kinds.template.path, kinds.template.list);
      printList(
        rows,
        [
          { header: "ID", value: (r) => r.id },
          { header: "NAME", value: (r) => r.name },
          { header: "TYPE", value: (r) => r.type },
          { header: "MAINS", value: (r) => ((r.mains as Json[]) ?? []).map((m) => m.name ?? m.id).join(",") },
        ],
        formatFor(command),
      );
    });
  templates
    .command("show <template>")
    .description("show a job template, by name or id")
    .addHelpText("after", "\nExample:\n  edp templates show hello")
    .action(async (template: string, _options, command: Command) => {
      const client = await clientFor(command);
      printItem(await resolveResource(client, kinds.template, template), formatFor(command));
    });
  templates
    .command("create <name>")
    .description("create a job template from job binaries")
    .requiredOption("--type <type>", "Shell, Spark, Pig, Hive, MapReduce, MapReduce.Streaming or Java")
    .option("--main <binary>", "a main binary, by name or id (repeatable)", collect)
    .option("--lib <binary>", "a library binary, by name or id (repeatable)", collect)
    .option("--interface <json>", "the interface arguments, a JSON array as Sahara takes it", (text: string) => {
      try {
        const value = JSON.parse(text);
        if (Array.isArray(value)) return value;
      } catch {}
      throw new InvalidArgumentError("expected a JSON array");
    })
    .option("--description <text>", "a description")
    .option("--public", "visible to every project")
    .addHelpText("after", "\nExample:\n  edp templates create hello --type Shell --main hello.sh")
    .action(
      async (
        name: string,
        options: { type: string; main?: string[]; lib?: string[]; interface?: unknown[]; description?: string; public?: boolean },
        command: Command,
      ) => {
        const client = await clientFor(command);
        const mains = await Promise.all((options.main ?? []).map((b) => resolveId(client, kinds.binary, b)));
        const libs = await Promise.all((options.lib ?? []).map((b) => resolveId(client, kinds.binary, b)));
        const body = await client.post<Json>(kinds.template.path, {
          name,
          type: options.type,
          mains,
          libs,
          interface: options.interface,
          description: options.description,
          is_public: options.public,
        });
        printItem(body.job_template as Json, formatFor(command));
      },
    );
  templates
    .command("rm <template>")
    .description("remove a job template, by name or id")
    .addHelpText("after", "\nExample:\n  edp templates rm hello")
    .action(async (template: string, _options, command: Command) => {
      const client = await clientFor(command);
      const id = await resolveId(client, kinds.template, template);
      await client.delete(`${kinds.template.path}/${id}`);
      process.stderr.write(`removed job template ${id}\n`);
    });
}
