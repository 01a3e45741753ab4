import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { session, whenUnauthorized } from "./api";
import { BinariesPage } from "./pages/binaries";
import { ClustersPage } from "./pages/clusters";
import { DataSourcesPage } from "./pages/data-sources";
import { JobPage } from "./pages/job";
import { JobsPage } from "./pages/jobs";
import { RunPage } from "./pages/run";
import { SignIn } from "./pages/sign-in";
import { TemplatePage, TemplatesPage } from "./pages/templates";
import { useRoute } from "./router";
import "./style.css";

const NAV = [
  ["/jobs", "Jobs"],
  ["/run", "Run a job"],
  ["/templates", "Templates"],
  ["/binaries", "Binaries"],
  ["/data-sources", "Data sources"],
  ["/clusters", "Clusters"],
] as const;

function Page({ path, params }: { path: string; params: URLSearchParams }) {
  const [, section, id] = path.split("/");
  switch (section) {
    case "jobs":
      return id ? <JobPage id={id} /> : <JobsPage params={params} />;
    case "run":
      // The form starts from its URL (a template, a job to re-run): another URL is another form.
      return <RunPage key={params.toString()} params={params} />;
    case "templates":
      return id ? <TemplatePage id={id} /> : <TemplatesPage />;
    case "binaries":
      return <BinariesPage />;
    case "data-sources":
      return <DataSourcesPage />;
    case "clusters":
      return <ClustersPage />;
    default:
      return (
        <p>
          No such page. <a href="#/jobs">Go to the jobs</a>.
        </p>
      );
  }
}

function App() {
  const [signedIn, setSignedIn] = useState(() => session.token() !== null);
  const route = useRoute();
  useEffect(() => whenUnauthorized(() => setSignedIn(false)), []);
  const section = `/${route.path.split("/")[1]}`;
  useEffect(() => {
    const label = NAV.find(([p]) => p === section)?.[1];
    document.title = label ? `${label} · EDP` : "EDP";
  }, [section]);

  if (!signedIn) return <SignIn onSignedIn={() => setSignedIn(true)} />;
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href="#/jobs">
          EDP
        </a>
        <nav aria-label="Pages">
          {NAV.map(([path, label]) => (
            <a key={path} href={`#${path}`} aria-current={section === path ? "page" : undefined}>
              {label}
            </a>
          ))}
        </nav>
        <button
          type="button"
          class="link sign-out"
          onClick={() => {
            session.signOut();
            setSignedIn(false);
          }}
        >
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        <Page path={route.path} params={route.params} />
      </main>
    </>
  );
}

render(<App />, document.getElementById("app")!);
