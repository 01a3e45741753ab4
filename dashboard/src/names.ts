import { useEffect, useState } from "preact/hooks";
import { type Cluster, type DataSource, listAll, type Template } from "./api";

export interface Catalogue {
  templates: Template[];
  clusters: Cluster[];
  dataSources: DataSource[];
}

/** The templates, clusters and data sources a page names jobs by; read once per page. */
export function useCatalogue(): Catalogue | undefined {
  const [catalogue, setCatalogue] = useState<Catalogue>();
  useEffect(() => {
    Promise.all([
      listAll<Template>("/v2/job-templates", "job_templates"),
      listAll<Cluster>("/v2/clusters", "clusters"),
      listAll<DataSource>("/v2/data-sources", "data_sources"),
    ])
      .then(([templates, clusters, dataSources]) => setCatalogue({ templates, clusters, dataSources }))
      .catch(() => setCatalogue({ templates: [], clusters: [], dataSources: [] }));
  }, []);
  return catalogue;
}

export function nameOf(items: { id: string; name: string }[] | undefined, id: string | null | undefined): string {
  if (!id) return "—";
  return items?.find((item) => item.id === id)?.name ?? id.slice(0, 8);
}
