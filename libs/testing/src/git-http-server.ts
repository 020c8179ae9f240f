/**
 * A Git smart-HTTP server: node:http in front of `git http-backend` run as a CGI per request.
 * Run as its own process (`node --import tsx git-http-server.ts`): a Git server in the same process
 * as a synchronous git call deadlocks. Configured by environment:
 *   FERRY_GIT_ROOT   directory holding the repositories (GIT_PROJECT_ROOT), required
 *   FERRY_GIT_AUTH   `user:password`; when set every request needs that HTTP basic auth (else 401)
 *   FERRY_GIT_PORT   port to listen on (default 0: any free port)
 * Prints one JSON line `{"port":N}` on stdout when listening; exits when stdin closes (its parent died).
 */
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';

const root = process.env['FERRY_GIT_ROOT'];
if (!root) {
  process.stderr.write('FERRY_GIT_ROOT is required\n');
  process.exit(2);
}
const auth = process.env['FERRY_GIT_AUTH'];
const expectedAuth = auth ? Buffer.from(`Basic ${Buffer.from(auth).toString('base64')}`) : undefined;
const authUser = auth ? auth.slice(0, auth.indexOf(':')) : 'anonymous';

function authorized(req: IncomingMessage): boolean {
  if (!expectedAuth) return true;
  const given = Buffer.from(req.headers.authorization ?? '');
  return given.length === expectedAuth.length && timingSafeEqual(given, expectedAuth);
}

/** Environment for one CGI call, as RFC 3875 and git-http-backend(1) describe it. */
function cgiEnv(req: IncomingMessage, url: URL): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: process.env['HOME'] ?? '/tmp',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    // pushes are allowed (REMOTE_USER alone would enable them too); fetch by any reachable commit, as GitHub does
    GIT_CONFIG_COUNT: '2',
    GIT_CONFIG_KEY_0: 'http.receivepack',
    GIT_CONFIG_VALUE_0: 'true',
    GIT_CONFIG_KEY_1: 'uploadpack.allowReachableSHA1InWant',
    GIT_CONFIG_VALUE_1: 'true',
    GIT_PROJECT_ROOT: root,
    GIT_HTTP_EXPORT_ALL: '1',
    GATEWAY_INTERFACE: 'CGI/1.1',
    SERVER_PROTOCOL: `HTTP/${req.httpVersion}`,
    SERVER_SOFTWARE: 'ferry-test-git',
    REQUEST_METHOD: req.method ?? 'GET',
    PATH_INFO: decodeURIComponent(url.pathname),
    QUERY_STRING: url.search.slice(1),
    CONTENT_TYPE: req.headers['content-type'] ?? '',
    REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
    REMOTE_USER: authUser,
  };
  if (req.headers['content-length'] !== undefined) env['CONTENT_LENGTH'] = req.headers['content-length'];
  const protocol = req.headers['git-protocol'];
  if (typeof protocol === 'string') env['GIT_PROTOCOL'] = protocol;
  const encoding = req.headers['content-encoding'];
  if (typeof encoding === 'string') env['HTTP_CONTENT_ENCODING'] = encoding;
  return env;
}

function headerEnd(buffer: Buffer): { at: number; length: number } | undefined {
  const crlf = buffer.indexOf('\r\n\r\n');
  const lf = buffer.indexOf('\n\n');
  if (crlf === -1 && lf === -1) return undefined;
  if (lf === -1 || (crlf !== -1 && crlf < lf)) return { at: crlf, length: 4 };
  return { at: lf, length: 2 };
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  if (!authorized(req)) {
    req.resume();
    res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="ferry-test-git"', 'Content-Type': 'text/plain' });
    res.end('authentication required\n');
    return;
  }
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname.split('/').includes('..')) {
    req.resume();
    res.writeHead(400).end('bad path\n');
    return;
  }
  const cgi = spawn('git', ['http-backend'], { env: cgiEnv(req, url), stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  cgi.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  cgi.stdin.on('error', () => undefined); // backend may exit before reading the whole body
  req.pipe(cgi.stdin);
  res.on('close', () => {
    if (!res.writableFinished && cgi.exitCode === null) cgi.kill('SIGKILL');
  });
  cgi.on('error', (error) => {
    if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
    res.end(`git http-backend failed to start: ${error.message}\n`);
  });
  cgi.on('exit', (code) => {
    if (code !== 0 && stderr) process.stderr.write(`git http-backend ${req.method} ${req.url} exit ${code}: ${stderr}`);
  });

  let head = Buffer.alloc(0);
  const onData = (chunk: Buffer): void => {
    head = Buffer.concat([head, chunk]);
    const end = headerEnd(head);
    if (!end) return;
    cgi.stdout.off('data', onData);
    cgi.stdout.off('end', onEndBeforeHeaders);
    let status = 200;
    let reason: string | undefined;
    for (const line of head.subarray(0, end.at).toString('latin1').split(/\r?\n/)) {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim();
      const value = line.slice(colon + 1).trim();
      if (name.toLowerCase() === 'status') {
        const match = /^(\d{3})\s*(.*)$/.exec(value);
        if (match) {
          status = Number(match[1]);
          reason = match[2] || undefined;
        }
      } else {
        const previous = res.getHeader(name);
        if (previous === undefined) res.setHeader(name, value);
        else res.setHeader(name, [...(Array.isArray(previous) ? previous : [String(previous)]), value]);
      }
    }
    if (reason) res.writeHead(status, reason);
    else res.writeHead(status);
    const rest = head.subarray(end.at + end.length);
    if (rest.length > 0) res.write(rest);
    cgi.stdout.pipe(res);
  };
  const onEndBeforeHeaders = (): void => {
    if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'text/plain' });
    res.end(`git http-backend gave no CGI headers: ${stderr}\n`);
  };
  cgi.stdout.on('data', onData);
  cgi.stdout.on('end', onEndBeforeHeaders);
}

const server = createServer(handle);
server.keepAliveTimeout = 1000;
server.listen(Number(process.env['FERRY_GIT_PORT'] ?? 0), '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.stdout.write(`${JSON.stringify({ port })}\n`);
});
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  process.exit(0);
});
