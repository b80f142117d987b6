import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { get, type Session } from './api';
import { ErrorNote, Loading } from './components/ui';
import { DagPage, DagsPage } from './pages/dags';
import { JobPage } from './pages/job';
import { JobsPage } from './pages/jobs';
import { OverviewPage } from './pages/overview';
import { QueuePage } from './pages/queue';
import { SchedulesPage } from './pages/schedules';
import { interceptLinks, usePath } from './router';
import { SessionContext } from './session';
import './styles.css';

const NAV = [
  { href: '/ui/', label: 'Overview', match: (p: string) => p === '/' || p.startsWith('/queues') },
  { href: '/ui/jobs', label: 'Jobs', match: (p: string) => p.startsWith('/jobs') },
  { href: '/ui/dags', label: 'DAG runs', match: (p: string) => p.startsWith('/dags') },
  { href: '/ui/schedules', label: 'Schedules', match: (p: string) => p.startsWith('/schedules') },
];

function Route({ path, search }: { path: string; search: URLSearchParams }) {
  let m: RegExpExecArray | null;
  if (path === '/') return <OverviewPage />;
  if ((m = /^\/queues\/([^/]+)$/.exec(path))) return <QueuePage name={decodeURIComponent(m[1])} />;
  if (path === '/jobs') return <JobsPage search={search} />;
  if ((m = /^\/jobs\/(\d+)$/.exec(path))) return <JobPage id={Number(m[1])} />;
  if (path === '/dags') return <DagsPage />;
  if ((m = /^\/dags\/(\d+)$/.exec(path))) return <DagPage id={Number(m[1])} />;
  if (path === '/schedules') return <SchedulesPage />;
  return (
    <div class="page muted pad">
      No page here. <a href="/ui/">Overview</a>
    </div>
  );
}

function App() {
  const { path, search } = usePath();
  const [session, setSession] = useState<Session>();
  const [error, setError] = useState<Error>();
  const title = NAV.find((n) => n.match(path))?.label;
  useEffect(() => {
    get<Session>('/v1/dashboard/session').then(setSession, setError);
  }, []);
  useEffect(() => {
    document.title = title ? `${title} · Jobline` : 'Jobline';
  }, [title]);
  if (error) return <ErrorNote error={error} />;
  if (!session) return <Loading />;
  return (
    <SessionContext.Provider value={session}>
      <header class="top">
        <a class="brand" href="/ui/">
          <svg width="22" height="22" viewBox="0 0 24 24" aria-hidden="true">
            <rect x="2" y="4" width="6" height="16" rx="2" fill="#818cf8" />
            <rect x="9" y="8" width="6" height="12" rx="2" fill="#6366f1" />
            <rect x="16" y="12" width="6" height="8" rx="2" fill="#4f46e5" />
          </svg>
          Jobline
        </a>
        <nav>
          {NAV.map((n) => (
            <a key={n.href} href={n.href} class={n.match(path) ? 'active' : ''}>
              {n.label}
            </a>
          ))}
        </nav>
        <div class="who" data-testid="who">
          {session.auth ? (
            <>
              <span title={session.allQueues ? 'all queues' : `queues: ${session.queues?.join(', ')}`}>
                {session.name} · {session.scopes.join(', ')}
              </span>
              <form method="post" action="/ui/logout">
                <button class="btn plain small">Sign out</button>
              </form>
            </>
          ) : (
            <span class="pill warn">auth off</span>
          )}
        </div>
      </header>
      <main>
        <Route path={path} search={search} />
      </main>
    </SessionContext.Provider>
  );
}

interceptLinks();
render(<App />, document.getElementById('app')!);
