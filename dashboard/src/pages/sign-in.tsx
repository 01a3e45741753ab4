import { useState } from "preact/hooks";
import { ApiError, api, session } from "../api";
import { ErrorBox, Field } from "../ui";

/** The token is typed here and kept in sessionStorage for this tab only; it never goes in a URL. */
export function SignIn({ onSignedIn }: { onSignedIn: () => void }) {
  const [token, setToken] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    session.signIn(token.trim());
    try {
      await api("GET", "/v2/clusters?limit=1");
      onSignedIn();
    } catch (e) {
      session.signOut();
      setError(e instanceof ApiError && e.status === 401 ? new Error("That token was not accepted. Check it and try again.") : e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <main id="main" class="sign-in">
      <h1>Sign in to EDP</h1>
      <p>
        Paste the token that <code>npm start</code> printed (also in <code>.edp/token</code>), or one issued for your project.
      </p>
      <form onSubmit={submit}>
        <Field label="Token">
          <input
            type="password"
            name="token"
            autoComplete="current-password"
            required
            value={token}
            onInput={(e) => setToken(e.currentTarget.value)}
          />
        </Field>
        <ErrorBox error={error} />
        <button type="submit" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
