import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

export interface Polled<T> {
  data?: T;
  error?: Error;
  loading: boolean;
  reload(): void;
}

/**
 * Loads `fn` now and every `intervalMs` while the tab is visible (live views poll: one cached
 * overview read per interval is cheaper than a server-sent stream per viewer, and survives
 * proxies). `deps` restart it.
 */
export function usePoll<T>(fn: () => Promise<T>, intervalMs: number | undefined, deps: unknown[]): Polled<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<Error>();
  const [loading, setLoading] = useState(true);
  const seq = useRef(0);
  const load = useCallback(() => {
    const mine = ++seq.current;
    fn().then(
      (d) => {
        if (mine !== seq.current) return;
        setData(d);
        setError(undefined);
        setLoading(false);
      },
      (e: Error) => {
        if (mine !== seq.current) return;
        setError(e);
        setLoading(false);
      },
    );
  }, deps);
  useEffect(() => {
    setLoading(true);
    load();
    if (!intervalMs) return;
    const t = setInterval(() => {
      if (document.visibilityState === 'visible') load();
    }, intervalMs);
    return () => clearInterval(t);
  }, [load, intervalMs]);
  return { data, error, loading, reload: load };
}
