import { useEffect, useState } from "preact/hooks";

/**
 * Routes live in the hash (`#/jobs?status=RUNNING`), so every page and its filters are a
 * URL one can bookmark or share, and the server needs only to serve index.html at `/`.
 */
export interface Route {
  path: string;
  params: URLSearchParams;
}

function current(): Route {
  const hash = location.hash.replace(/^#/, "") || "/jobs";
  const [path, search = ""] = hash.split("?");
  return { path, params: new URLSearchParams(search) };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(current);
  useEffect(() => {
    const update = () => setRoute(current());
    addEventListener("hashchange", update);
    return () => removeEventListener("hashchange", update);
  }, []);
  return route;
}

export function href(path: string, params?: Record<string, string | undefined>): string {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params ?? {})) if (v) search.set(k, v);
  const s = search.toString();
  return `#${path}${s ? `?${s}` : ""}`;
}

export function navigate(path: string, params?: Record<string, string | undefined>): void {
  location.hash = href(path, params);
}
