import { useEffect, useRef, useState } from "preact/hooks";

/**
 * Runs `load` now and every `intervalMs` while the tab is visible; a hidden tab stops asking
 * and catches up as soon as it is shown again. Returns the last value, the last error and
 * when the last successful read finished.
 */
export function usePolling<T>(load: () => Promise<T>, intervalMs: number, deps: unknown[]) {
  const [value, setValue] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [at, setAt] = useState<Date | null>(null);
  const [paused, setPaused] = useState(document.hidden);
  const loadRef = useRef(load);
  loadRef.current = load;
  const [tick, setTick] = useState(0);

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    async function round() {
      if (stopped) return;
      if (document.hidden) {
        setPaused(true);
        return;
      }
      try {
        const result = await loadRef.current();
        if (stopped) return;
        setValue(result);
        setError(null);
        setAt(new Date());
      } catch (e) {
        if (!stopped) setError(e);
      }
      if (!stopped && intervalMs > 0) timer = setTimeout(round, intervalMs);
    }
    const onVisibility = () => {
      if (!document.hidden) {
        setPaused(false);
        clearTimeout(timer);
        round();
      }
    };
    document.addEventListener("visibilitychange", onVisibility);
    round();
    return () => {
      stopped = true;
      clearTimeout(timer);
      document.removeEventListener("visibilitychange", onVisibility);
    };
    // The caller names what restarts the polling (deps).
  }, [...deps, tick, intervalMs]);

  return { value, error, at, paused, reload: () => setTick((t) => t + 1) };
}

export function Refreshed({ at, paused }: { at: Date | null; paused: boolean }) {
  return (
    <p class="refreshed" aria-live="off">
      {paused ? "Paused while this tab is hidden. " : ""}
      {at ? `Last refreshed ${at.toLocaleTimeString()}` : "Loading…"}
    </p>
  );
}
