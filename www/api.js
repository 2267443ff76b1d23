// api.js — the tenant API (docs/api/controld.yaml), the console's only way
// to data.  The token lives in sessionStorage (this tab, until it closes)
// and goes out as the Bearer header; no cookies.
const KEY = 'vnd-token';

export const token = {
  get: () => sessionStorage.getItem(KEY),
  set: t => sessionStorage.setItem(KEY, t),
  clear: () => sessionStorage.removeItem(KEY),
};

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// METHOD path [body] → the Response, or throws ApiError with the API's
// {"error": ...} message.
export async function call(method, path, body) {
  const headers = { Authorization: `Bearer ${token.get() || ''}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const resp = await fetch(path, {
    method, headers, credentials: 'omit', cache: 'no-store',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!resp.ok) {
    let msg = `${resp.status} ${resp.statusText}`;
    try {
      const j = await resp.json();
      if (j && typeof j.error === 'string') msg = j.error;
    } catch (_) { /* not JSON */ }
    throw new ApiError(resp.status, msg);
  }
  return resp;
}

export async function json(method, path, body) {
  return (await call(method, path, body)).json();
}

// Rows of a query or app in JSON: an array of row objects (docs/output.md).
// A stream cut part way (an error after the first rows) has no closing
// bracket: that is an error too.
export async function rows(method, path, body) {
  const text = await (await call(method, path, body)).text();
  try {
    return JSON.parse(text);
  } catch (_) {
    throw new ApiError(500, 'the answer ended early (the query failed part way)');
  }
}

export const api = {
  diagnoses: () => json('GET', '/v1/diagnoses'),
  diagnosis: id => json('GET', `/v1/diagnoses/${encodeURIComponent(id)}`),
  create: req => json('POST', '/v1/diagnoses', req),
  remove: id => json('DELETE', `/v1/diagnoses/${encodeURIComponent(id)}`),
  topology: () => json('GET', '/v1/topology'),
  query: (id, sql) => rows('POST', `/v1/diagnoses/${encodeURIComponent(id)}/query`, { sql, format: 'json' }),
  queryText: async (id, sql, format) =>
    (await call('POST', `/v1/diagnoses/${encodeURIComponent(id)}/query`, { sql, format })).text(),
  diag: (id, req) => rows('POST', `/v1/diagnoses/${encodeURIComponent(id)}/diag`, { ...req, format: 'json' }),
  diagSql: (id, req) => json('POST', `/v1/diagnoses/${encodeURIComponent(id)}/diag`, { app: req.app, options: req.options, show_sql: true }),
  pcap: async (id, name) =>
    (await call('GET', `/v1/diagnoses/${encodeURIComponent(id)}/traces/${encodeURIComponent(name)}/pcap`)).blob(),
};
