/**
 * Serves the dashboard's built assets (apps/dashboard, `npm run build`) under /ui/.
 *
 * Browsers cannot attach a bearer token to a page load, so the dashboard signs in once: a page
 * without credentials gets a small sign-in form (401), which posts the token to /ui/login; a
 * token with the `read` scope is set as an HttpOnly, SameSite=Strict cookie. From then on the
 * cookie authenticates page loads and the dashboard's API calls exactly like the bearer header —
 * same tokens, same scopes, same queue limits (read to see, write to act). Requests authenticated
 * by the cookie that change something must also carry `X-Jobline-Dashboard: 1`, a header no
 * cross-site form can send, on top of SameSite (defence in depth against CSRF).
 * `Authorization: Bearer` works for /ui/ too (scripts, tests).
 *
 * With JOBLINE_AUTH=off every page is served without sign-in. The assets need no network at
 * run time (no CDN fonts or scripts); a Content-Security-Policy of 'self' enforces that.
 */
import { readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { authenticate, type ApiToken, type Principal } from './auth.js';

export const UI_COOKIE = 'jobline_ui';
export const UI_CSRF_HEADER = 'x-jobline-dashboard';
const COOKIE_MAX_AGE_S = 12 * 3600;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
};

const CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/**
 * Where the built dashboard is: JOBLINE_DASHBOARD_DIR, else dist/dashboard/ next to this module
 * (apps/dashboard builds into it, and the package ships it).
 */
export function dashboardDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.JOBLINE_DASHBOARD_DIR || fileURLToPath(new URL('./dashboard/', import.meta.url));
}

/** The token from the dashboard cookie, if any. */
export function cookieToken(req: IncomingMessage): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === UI_COOKIE) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

export interface UiOptions {
  tokens: ApiToken[] | undefined;
  dir: string;
}

export function createUiHandler(o: UiOptions) {
  const root = normalize(o.dir).replace(/[\\/]$/, '');

  async function serveFile(res: ServerResponse, method: string, rel: string): Promise<void> {
    let file = normalize(join(root, rel));
    if (file !== root && !file.startsWith(root + sep)) return text(res, 404, 'not found');
    let info = await stat(file).catch(() => undefined);
    // Client-side routes (/ui/jobs/12) get the app's index.html; missing assets are 404s.
    if (!info?.isFile()) {
      if (extname(rel) !== '') return text(res, 404, 'not found');
      file = join(root, 'index.html');
      info = await stat(file).catch(() => undefined);
      if (!info) return text(res, 503, `The dashboard is not built: run \`npm run build\` (looked in ${root}).`);
    }
    const body = await readFile(file);
    const hashed = rel.startsWith('/assets/');
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'content-length': body.length,
      // Vite names assets by content hash: they never change; index.html must always be fresh.
      'cache-control': hashed ? 'public, max-age=31536000, immutable' : 'no-store',
      'content-security-policy': CSP,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    });
    res.end(method === 'HEAD' ? undefined : body);
  }

  function principalOf(req: IncomingMessage): Principal | undefined {
    if (!o.tokens) return { name: 'auth-off', can: () => true, canQueue: () => true, allQueues: true };
    const bearer = req.headers.authorization;
    if (bearer) return authenticate(o.tokens, bearer);
    const t = cookieToken(req);
    return t ? authenticate(o.tokens, `Bearer ${t}`) : undefined;
  }

  /** Handles every /ui path. */
  return async function handleUi(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const method = req.method ?? 'GET';
    if (path === '/ui') return redirect(res, '/ui/');
    if (path === '/ui/login' && method === 'POST') return login(req, res);
    if (path === '/ui/logout' && method === 'POST') {
      res.writeHead(303, {
        location: '/ui/',
        'set-cookie': `${UI_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`,
        'content-length': 0,
      });
      return void res.end();
    }
    if (path === '/ui/login.js') return serveLoginScript(res);
    if (method !== 'GET' && method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return text(res, 405, 'use GET');
    }
    const p = principalOf(req);
    if (!p)
      return loginPage(
        res,
        401,
        req.headers.authorization || cookieToken(req) ? 'That token is not valid any more; sign in again.' : undefined,
      );
    if (!p.can('read')) return loginPage(res, 403, `Token "${p.name}" lacks the "read" scope the dashboard needs.`);
    return serveFile(res, method, path.slice('/ui'.length) || '/');
  };

  async function login(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req as AsyncIterable<Buffer>) {
      size += c.length;
      if (size > 8192) return text(res, 413, 'too large');
      chunks.push(c);
    }
    const token = new URLSearchParams(Buffer.concat(chunks).toString('utf8')).get('token')?.trim() ?? '';
    const p = o.tokens ? authenticate(o.tokens, `Bearer ${token}`) : undefined;
    if (o.tokens && !p) return loginPage(res, 401, 'Unknown token.');
    if (p && !p.can('read')) return loginPage(res, 403, `Token "${p.name}" lacks the "read" scope the dashboard needs.`);
    const secure = req.headers['x-forwarded-proto'] === 'https' || (req.socket as { encrypted?: boolean }).encrypted ? '; Secure' : '';
    res.writeHead(303, {
      location: '/ui/',
      'set-cookie': `${UI_COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${COOKIE_MAX_AGE_S}${secure}`,
      'content-length': 0,
    });
    res.end();
  }
}

function redirect(res: ServerResponse, to: string): void {
  res.writeHead(308, { location: to, 'content-length': 0 });
  res.end();
}

function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(body);
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function loginPage(res: ServerResponse, status: number, message?: string): void {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Jobline · sign in</title><script src="/ui/login.js" defer></script></head>
<body style="margin:0;font:15px/1.5 system-ui,-apple-system,'Segoe UI',sans-serif;background:#0f172a;color:#e2e8f0;display:grid;place-items:center;min-height:100vh">
<form method="post" action="/ui/login" style="background:#1e293b;padding:32px;border-radius:12px;width:340px;box-shadow:0 10px 30px #0006">
<h1 style="margin:0 0 4px;font-size:20px">Jobline</h1><p style="margin:0 0 20px;color:#94a3b8">Sign in with an API token (read scope to look, write scope to act).</p>
${message ? `<p role="alert" style="color:#fca5a5;margin:0 0 12px">${esc(message)}</p>` : ''}
<label for="token" style="display:block;font-size:13px;color:#94a3b8">Token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required style="box-sizing:border-box;width:100%;padding:8px 10px;margin:4px 0 16px;border-radius:6px;border:1px solid #334155;background:#0f172a;color:#e2e8f0">
<button type="submit" style="width:100%;padding:9px;border:0;border-radius:6px;background:#6366f1;color:white;font-weight:600;cursor:pointer">Sign in</button>
</form></body></html>`;
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(html),
    'cache-control': 'no-store',
    // Inline styles only on this page; scripts only from this origin.
    'content-security-policy':
      "default-src 'self'; style-src 'unsafe-inline'; script-src 'self'; form-action 'self'; frame-ancestors 'none'",
    ...(status === 401 ? { 'www-authenticate': 'Bearer realm="jobline"' } : {}),
  });
  res.end(html);
}

// `jobline dashboard` prints a sign-in link with the token in the fragment (#token=…), which
// browsers never send to a server or a log; this script submits it once and drops it from the URL.
const LOGIN_JS = `(function(){var m=/[#&]token=([^&]+)/.exec(location.hash);if(!m)return;history.replaceState(null,'',location.pathname);
document.addEventListener('DOMContentLoaded',function(){var i=document.getElementById('token');if(!i)return;i.value=decodeURIComponent(m[1]);i.form.submit();});})();`;

function serveLoginScript(res: ServerResponse): void {
  res.writeHead(200, {
    'content-type': 'text/javascript; charset=utf-8',
    'content-length': Buffer.byteLength(LOGIN_JS),
    'cache-control': 'no-store',
  });
  res.end(LOGIN_JS);
}
