import { useEffect, useState } from 'preact/hooks';

/** Client-side routes under /ui/ with the History API; the producer serves index.html for each. */
export const BASE = '/ui';

export function navigate(to: string): void {
  history.pushState(null, '', to);
  dispatchEvent(new PopStateEvent('popstate'));
}

export function usePath(): { path: string; search: URLSearchParams } {
  const read = () => ({ path: location.pathname.slice(BASE.length) || '/', search: new URLSearchParams(location.search) });
  const [state, set] = useState(read);
  useEffect(() => {
    const on = () => set(read());
    addEventListener('popstate', on);
    return () => removeEventListener('popstate', on);
  }, []);
  return state;
}

/** Left clicks on same-origin links navigate without a page load. */
export function interceptLinks(): void {
  document.addEventListener('click', (e) => {
    const a = (e.target as Element | null)?.closest?.('a');
    if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || a.target) return;
    const url = new URL(a.href, location.href);
    if (url.origin !== location.origin || !url.pathname.startsWith(`${BASE}/`)) return;
    e.preventDefault();
    navigate(url.pathname + url.search);
  });
}
