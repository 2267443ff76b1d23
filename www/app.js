// app.js — the VND web console: sign in with the tenant's token, then its
// diagnoses, one diagnosis (topology, capture points, apps, SQL, pcaps),
// and a new diagnosis.  Everything comes from the tenant API (api.js) and
// reaches the page as text (dom.js).
import { api, token, ApiError } from './api.js';
import { h, clear, rowsTable, fmtCount, fmtNum, download } from './dom.js';
import { drawTopology } from './topology.js';
import { APPS, toSeries, mergeSince, followSince } from './apps.js';
import { chart } from './chart.js';
import { errorPlace, sqlErrorPlace, showAt } from './errors.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const REFRESH_MS = 2000;

// The current view's timers; a new view stops them.
let timers = [];
function every(ms, fn) {
  const t = setInterval(fn, ms);
  timers.push(t);
  return t;
}
function stopTimers() {
  timers.forEach(clearInterval);
  timers = [];
}

function errorBox(e) {
  return h('p', { class: 'error', role: 'alert' }, e instanceof Error ? e.message : String(e));
}

function duration(d) {
  const t0 = Date.parse(d.created);
  const t1 = d.stopped ? Date.parse(d.stopped) : Date.now();
  const s = Math.max(0, Math.round((t1 - t0) / 1000));
  return s < 120 ? `${s} s` : s < 7200 ? `${Math.floor(s / 60)} min ${s % 60} s`
    : `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

// ---- sign in ----
function signIn(msg) {
  stopTimers();
  clear(nav);
  const input = h('input', { type: 'password', id: 'token', name: 'token', autocomplete: 'off',
                             required: true, size: 40, 'aria-label': 'API token' });
  const out = h('div', {});
  if (msg) out.append(errorBox(msg));
  clear(main).append(h('section', { class: 'signin' },
    h('h1', {}, 'Sign in'),
    h('p', {}, 'Your tenant API token (as for `vnd` with VND_TOKEN). It is kept in this tab only (sessionStorage) and sent as the Bearer header.'),
    h('form', { id: 'signin', onsubmit: async ev => {
      ev.preventDefault();
      token.set(input.value.trim());
      try {
        await api.diagnoses();
        location.hash = '#/';
        route();
      } catch (e) {
        token.clear();
        clear(out).append(errorBox(e.status === 401 ? 'unknown token' : e));
      }
    } }, input, ' ', h('button', { type: 'submit' }, 'Sign in')),
    out));
  input.focus();
}

function navBar() {
  clear(nav).append(
    h('a', { href: '#/' }, 'Diagnoses'), ' ',
    h('a', { href: '#/new' }, 'New diagnosis'), ' ',
    h('button', { id: 'signout', class: 'link', onclick: () => { token.clear(); location.hash = '#/'; signIn(); } }, 'Sign out'));
}

// ---- completeness of one trace ----
function counters(tr) {
  if (typeof tr.counters === 'string')
    return [h('td', { colspan: 5, class: 'note' }, tr.counters)];
  const dropped = (tr.dropped_kernel || 0) + (tr.dropped_queue || 0);
  const seen = tr.seen || 0;
  const bar = h('span', { class: 'bar', title: `stored ${tr.stored}, sampled out ${tr.sampled_out}, dropped ${dropped} of ${seen + dropped}` });
  const total = seen + dropped || 1;
  const part = (cls, n) => { const e = h('span', { class: cls }); e.style.width = `${(100 * n) / total}%`; return e; };
  bar.append(part('stored', Math.min(tr.matched || 0, seen)), part('sampled', tr.sampled_out || 0), part('dropped', dropped));
  return [h('td', { class: 'num' }, fmtCount(tr.seen)), h('td', { class: 'num' }, fmtCount(tr.stored)),
    h('td', { class: 'num' }, fmtCount(tr.sampled_out)), h('td', { class: 'num' }, fmtCount(dropped)), h('td', {}, bar)];
}

// ---- the list ----
async function listView() {
  const box = h('div', {});
  clear(main).append(h('h1', {}, 'Your diagnoses'), box,
    h('p', { class: 'note' }, `Refreshed every ${REFRESH_MS / 1000} s.`));
  const draw = async () => {
    let list;
    try {
      list = (await api.diagnoses()).diagnoses;
    } catch (e) {
      if (e.status === 401) return signIn('your token was refused');
      return clear(box).append(errorBox(e));
    }
    const details = await Promise.all(list.map(d => api.diagnosis(d.id).catch(e => ({ ...d, error: e.message }))));
    clear(box);
    if (!list.length) {
      box.append(h('p', { id: 'empty' }, 'No diagnosis yet. ', h('a', { href: '#/new' }, 'Start one.')));
      return;
    }
    box.append(h('table', { class: 'rows diagnoses' },
      h('thead', {}, h('tr', {}, ['diagnosis', 'state', 'duration', 'capture point', 'seen', 'stored', 'sampled out', 'dropped', 'completeness'].map(c => h('th', {}, c)))),
      details.map(d => {
        const trs = Array.isArray(d.traces) ? d.traces : [];
        const n = Math.max(1, trs.length);
        const head = [h('td', { rowspan: n }, h('a', { href: `#/d/${encodeURIComponent(d.id)}`, class: 'diag-link' }, d.id)),
          h('td', { rowspan: n, class: `state ${d.state}` }, d.state, d.reason ? ` (${d.reason})` : ''),
          h('td', { rowspan: n }, duration(d))];
        if (!trs.length) return h('tbody', {}, h('tr', {}, head, h('td', { colspan: 6, class: 'note' }, d.error || 'no traces')));
        return h('tbody', {}, trs.map((tr, i) => h('tr', { 'data-trace': tr.name }, i ? [] : head, h('td', {}, tr.name), counters(tr))));
      })));
  };
  await draw();
  every(REFRESH_MS, draw);
}

// ---- one diagnosis ----
async function diagnosisView(id) {
  let d;
  try {
    d = await api.diagnosis(id);
  } catch (e) {
    if (e.status === 401) return signIn('your token was refused');
    clear(main).append(h('h1', {}, `Diagnosis ${id}`), errorBox(e));
    return;
  }
  const tables = [...new Set(d.traces.flatMap(t => t.tables || []))];
  const stateEl = h('span', { class: `state ${d.state}` }, d.state);
  const traceBox = h('div', {});
  const topoBox = h('div', { class: 'topo-box' });
  const stop = h('button', { id: 'stop', class: 'danger', onclick: async () => {
    if (!confirm(`Stop and delete diagnosis ${id}? Its rules, traces and tables go.`)) return;
    try { await api.remove(id); location.hash = '#/'; } catch (e) { traceBox.prepend(errorBox(e)); }
  } }, 'Stop and delete');
  const appsBox = h('section', { class: 'apps' });
  const sqlBox = h('section', { class: 'sql' });
  clear(main).append(
    h('h1', {}, `Diagnosis ${d.id} `, stateEl, ' ', stop),
    h('p', { class: 'note' }, `created ${d.created}`, d.ends ? `, ends ${d.ends}` : '', d.reason ? `, stopped: ${d.reason}` : ''),
    h('section', {}, h('h2', {}, 'Your network and its capture points'), topoBox),
    h('section', {}, h('h2', {}, 'Capture points'), traceBox),
    appsBox, sqlBox);
  api.topology().then(t => topoBox.append(drawTopology(t, d.traces)), e => topoBox.append(errorBox(e)));
  const drawTraces = dd => {
    clear(traceBox).append(h('table', { class: 'rows traces' },
      h('thead', {}, h('tr', {}, ['capture point', 'at', 'pattern', 'tables', 'seen', 'stored', 'sampled out', 'dropped', 'completeness', 'raw packets'].map(c => h('th', {}, c)))),
      h('tbody', {}, dd.traces.map(tr => h('tr', { 'data-trace': tr.name },
        h('td', {}, tr.name), h('td', {}, `${tr.point} of ${tr.node} (${tr.direction})`), h('td', { class: 'pattern' }, tr.pattern || '*'),
        h('td', {}, (tr.tables || []).join(', ')), counters(tr),
        h('td', {}, h('button', { class: 'pcap', 'data-trace': tr.name, onclick: async ev => {
          const b = ev.currentTarget;
          b.disabled = true;
          try { download(`${dd.id}-${tr.name}.pcap`, 'application/vnd.tcpdump.pcap', await api.pcap(dd.id, tr.name)); }
          catch (e) { b.after(errorBox(e)); }
          b.disabled = false;
        } }, 'pcap')))))));
  };
  drawTraces(d);
  every(REFRESH_MS, async () => {
    try {
      const dd = await api.diagnosis(id);
      stateEl.textContent = dd.state;
      stateEl.className = `state ${dd.state}`;
      drawTraces(dd);
    } catch (_) { /* keep the last */ }
  });
  appsPanel(appsBox, id, tables);
  sqlPanel(sqlBox, id, tables);
}

// ---- the apps ----
function optionField(name, kind, def, choices, tables) {
  const id = `opt-${name}`;
  let input;
  if (kind === 'table')
    input = h('select', { id, name }, tables.map((t, i) => h('option', { value: t, selected: name === 'out' ? i === 1 : i === 0 }, t)));
  else if (kind === 'tables')
    input = h('span', { id, class: 'checks' }, tables.map((t, i) => h('label', {}, h('input', { type: 'checkbox', name, value: t, checked: i === 0 }), t)));
  else if (kind === 'path')
    input = h('input', { id, name, value: tables.join(','), size: 40, title: 'tables in the order packets pass them, comma-separated' });
  else if (kind === 'flag')
    input = h('input', { id, name, type: 'checkbox' });
  else if (kind === 'choice')
    input = h('select', { id, name }, choices.map(c => h('option', { value: c, selected: c === def }, c)));
  else if (kind === 'seconds')
    input = h('input', { id, name, type: 'number', step: 'any', min: 0, value: def, size: 6 });
  else
    input = h('input', { id, name, value: def || '', size: 30 });
  return h('label', { class: 'opt' }, h('span', {}, name), input);
}

function readOptions(form, app) {
  const opts = {};
  let multi = null;
  for (const [name, kind] of APPS[app].opts) {
    const el = form.elements[name];
    if (kind === 'tables') {
      multi = [...form.querySelectorAll(`input[name="${name}"]:checked`)].map(c => c.value);
    } else if (kind === 'flag') {
      if (el.checked) opts[name] = true;
    } else if (kind === 'seconds') {
      if (el.value !== '') opts[name] = Number(el.value);
    } else if (kind === 'path' || kind === 'columns') {
      opts[name] = el.value.split(',').map(x => x.trim()).filter(Boolean);
    } else if (el.value !== '') {
      opts[name] = el.value;
    }
  }
  return { opts, multi };
}

function appsPanel(box, id, tables) {
  const appSel = h('select', { id: 'app', name: 'app' }, Object.keys(APPS).map(a => h('option', { value: a }, a)));
  const fields = h('div', { class: 'fields' });
  const summary = h('p', { class: 'note' });
  const follow = h('input', { type: 'checkbox', id: 'follow' });
  const ySel = h('select', { id: 'ycol' });
  const status = h('p', { id: 'app-status', class: 'status' });
  const chartBox = h('div', { id: 'chart', class: 'chart' });
  const tableBox = h('div', { id: 'app-table' });
  const sqlPre = h('pre', { id: 'app-sql', class: 'sql-text' });
  const verdict = h('p', { id: 'verdict', class: 'verdict' });
  let runs = [], ch = null, followTimer = null, app = 'throughput';
  const form = h('form', { id: 'app-form', onsubmit: ev => { ev.preventDefault(); run(); } },
    h('label', { class: 'opt' }, h('span', {}, 'application'), appSel), fields,
    h('label', { class: 'opt' }, follow, ' follow (update as rows arrive)'),
    h('button', { type: 'submit', id: 'run-app' }, 'Run'));
  const setApp = () => {
    app = appSel.value;
    summary.textContent = APPS[app].summary;
    clear(fields).append(...APPS[app].opts.map(([n, k, def, ch2]) => optionField(n, k, def, ch2, tables)));
    clear(ySel).append(...(APPS[app].y || []).map(c => h('option', { value: c }, c)));
    follow.disabled = !APPS[app].y;
  };
  appSel.addEventListener('change', setApp);
  ySel.addEventListener('change', () => drawChart());
  setApp();
  box.append(h('h2', {}, 'Diagnostic applications'), form, summary,
    h('div', { class: 'app-out' },
      h('div', { class: 'app-main' }, status, h('label', { class: 'opt' }, h('span', {}, 'plot'), ySel), chartBox, verdict, tableBox),
      h('aside', { class: 'app-sql' }, h('h3', {}, 'The SQL of this app'), sqlPre)));

  async function drawChart() {
    if (!APPS[app].y) { clear(chartBox); ch = null; return; }
    const data = toSeries(runs, ySel.value);
    if (ch) ch = await ch.update(data);
    else ch = await chart(chartBox, data, { y: ySel.value });
  }
  function drawTable() {
    const all = runs.flatMap(r => (runs.length > 1 ? r.rows.map(x => ({ table: r.label, ...x })) : r.rows));
    clear(tableBox).append(h('p', { class: 'count', id: 'app-count' }, `${all.length} row${all.length === 1 ? '' : 's'}`), rowsTable(all));
  }
  async function fetchRuns(since) {
    const { opts, multi } = readOptions(form, app);
    const targets = multi ? multi.map(t => ({ label: t, options: { ...opts, table: t } })) : [{ label: app, options: opts }];
    if (!targets.length) throw new Error('choose at least one table');
    return Promise.all(targets.map(async tg => {
      const req = { app, options: tg.options };
      if (since !== undefined) req.min_t = since;
      let rows = await api.diag(id, req);
      let v = null, sampling = [], waiting = [], drops = [];
      if (rows && !Array.isArray(rows)) {
        v = rows.verdict; sampling = rows.sampling || []; waiting = rows.waiting || [];
        drops = rows.capture_drops || []; rows = rows.rows;
      }
      return { label: tg.label, rows, verdict: v, sampling, waiting, drops, options: tg.options };
    }));
  }
  async function run() {
    if (followTimer) { clearInterval(followTimer); followTimer = null; }
    status.textContent = 'running…';
    clear(verdict);
    const t0 = performance.now();
    try {
      runs = await fetchRuns();
    } catch (e) {
      status.textContent = '';
      clear(tableBox).append(errorBox(e));
      clear(chartBox); ch = null;
      return;
    }
    status.textContent = `done in ${Math.round(performance.now() - t0)} ms`;
    showVerdict();
    ch = null;
    await drawChart();
    drawTable();
    api.diagSql(id, { app, options: runs[0].options })
      .then(r => { sqlPre.textContent = `${r.sql};`; }, e => { sqlPre.textContent = `(${e.message})`; });
    if (follow.checked && APPS[app].y) {
      followTimer = every(REFRESH_MS, async () => {
        const since = followSince(runs);
        try {
          const fresh = await fetchRuns(isFinite(since) ? since : undefined);
          runs = runs.map((r, i) => ({ ...r, rows: mergeSince(r.rows, fresh[i] ? fresh[i].rows : [], since),
                                       verdict: fresh[i] ? fresh[i].verdict : r.verdict,
                                       waiting: fresh[i] ? fresh[i].waiting : r.waiting,
                                       drops: fresh[i] ? fresh[i].drops : r.drops }));
          status.textContent = `following: ${new Date().toLocaleTimeString()}`;
          showVerdict();
          await drawChart();
          drawTable();
        } catch (e) { status.textContent = `following: ${e.message}`; }
      });
    }
  }
  function showVerdict() {
    const v = runs.find(r => r.verdict);
    clear(verdict);
    if (v) verdict.append(h('strong', {}, 'Verdict: '), v.verdict.text);
    // how each table was sampled (docs/capture.md), said when it matters:
    // rows that stand for more than themselves, or copies cut in the switch
    const said = s => s.treatment !== 'exact' || (s.intervals || []).some(i => i.snaplen > 0);
    const notes = [...new Set(runs.flatMap(r => (r.sampling || []).filter(said).map(s => s.text)))];
    for (const n of notes) verdict.append(h('br'), h('span', { class: 'sampling' }, `Sampling: ${n}`));
    // loss: rows it could not judge yet, their other side not stored far enough (docs/diagnosis.md)
    for (const w of runs.flatMap(r => r.waiting || []))
      verdict.append(h('br'), h('span', { class: 'sampling' },
        `Not judged yet: ${w.rows} rows of ${w.table}, less than the window before ${w.other}'s last store; a packet among them that entered there may still leave through ${w.other}`));
    // what a table's capture dropped, and what that does to this answer (the API's sentence)
    for (const d of runs.flatMap(r => r.drops || []))
      verdict.append(h('br'), h('span', { class: 'sampling' }, d.text.charAt(0).toUpperCase() + d.text.slice(1)));
  }
}

// ---- SQL ----
function sqlPanel(box, id, tables) {
  const ta = h('textarea', { id: 'sql', rows: 5, cols: 80, spellcheck: false },
    tables.length ? `select count(*) as packets, min(ts), max(ts) from "${tables[0]}"` : 'select 1');
  const out = h('div', { id: 'sql-out' });
  let last = null;
  const runSql = async () => {
    const sql = ta.value;
    clear(out).append(h('p', { class: 'status' }, 'running…'));
    const t0 = performance.now();
    try {
      const rows = await api.query(id, sql);
      last = { sql, rows };
      clear(out).append(
        h('p', { class: 'count', id: 'sql-count' }, `${rows.length} row${rows.length === 1 ? '' : 's'} in ${Math.round(performance.now() - t0)} ms`),
        h('p', {}, h('button', { id: 'dl-csv', onclick: async () => {
          try { download('query.csv', 'text/csv', await api.queryText(id, last.sql, 'csv')); } catch (e) { out.append(errorBox(e)); }
        } }, 'Download CSV'), ' ',
        h('button', { id: 'dl-json', onclick: () => download('query.json', 'application/json', JSON.stringify(last.rows, null, 1)) }, 'Download JSON')),
        rowsTable(rows));
    } catch (e) {
      clear(out).append(errorBox(e));
      const at = sqlErrorPlace(sql, e.message);
      if (at) out.append(showAt(sql, at, 'sql-error-at'));
    }
  };
  box.append(h('h2', {}, 'SQL'),
    h('p', { class: 'note' }, 'One read-only statement on this diagnosis\'s tables: ', tables.map((t, i) => [i ? ', ' : '', h('code', {}, t)])),
    ta, h('p', {}, h('button', { id: 'run-sql', onclick: runSql }, 'Run')), out);
}

// ---- a new diagnosis ----
function newView() {
  const name = (f, def) => (f && /^[A-Za-z0-9._-]{1,63}$/.test(f.name) ? f.name : def);
  const collect = h('textarea', { id: 'collect', rows: 10, cols: 70, spellcheck: false,
    placeholder: 'Appliance Node : ids\nCap input\nproto=TCP\nCap output\nproto=TCP' });
  const parse = h('textarea', { id: 'parse', rows: 6, cols: 70, spellcheck: false,
    placeholder: '(optional) Trace ID all\nFilter: ip.proto = tcp\nFields: timestamp as ts, ...' });
  const names = { collect: 'collect.conf', parse: 'parse.conf' };
  const upload = (ta, key) => h('input', { type: 'file', id: `${key}-file`, accept: '.conf,.txt,text/plain', onchange: async ev => {
    const f = ev.currentTarget.files[0];
    if (!f) return;
    ta.value = await f.text();
    names[key] = name(f, `${key}.conf`);
  } });
  const dur = h('input', { type: 'number', id: 'duration', min: 0, step: 'any', size: 8, placeholder: 'until stopped' });
  const out = h('div', { id: 'create-out' });
  const form = h('form', { id: 'create', onsubmit: async ev => {
    ev.preventDefault();
    const req = { collect: collect.value, collect_name: names.collect };
    if (parse.value.trim()) { req.parse = parse.value; req.parse_name = names.parse; }
    if (dur.value) req.duration = Number(dur.value);
    clear(out);
    try {
      const d = await api.create(req);
      location.hash = `#/d/${encodeURIComponent(d.id)}`;
    } catch (e) {
      out.append(errorBox(e));
      const at = errorPlace(e.message, names);
      if (at) {
        const ta = at.file === 'parse' ? parse : collect;
        out.append(showAt(ta.value, at, 'config-error-at'));
        const lines = ta.value.split('\n');
        const start = lines.slice(0, at.line - 1).reduce((n, l) => n + l.length + 1, 0);
        ta.focus();
        ta.setSelectionRange(start, start + (lines[at.line - 1] || '').length);
      }
    }
  } },
    h('h2', {}, 'Trace collection configuration'), h('p', {}, 'Paste it or ', upload(collect, 'collect')), collect,
    h('h2', {}, 'Parse configuration (optional)'), h('p', {}, 'Paste it or ', upload(parse, 'parse')), parse,
    h('p', {}, h('label', {}, 'Duration (s) ', dur)),
    h('button', { type: 'submit', id: 'create-btn' }, 'Start the diagnosis'));
  clear(main).append(h('h1', {}, 'New diagnosis'), form, out);
}

// ---- routing ----
function route() {
  stopTimers();
  if (!token.get()) return signIn();
  navBar();
  const hash = location.hash || '#/';
  let m;
  if ((m = hash.match(/^#\/d\/([^/]+)$/))) return diagnosisView(decodeURIComponent(m[1]));
  if (hash === '#/new') return newView();
  return listView();
}

window.addEventListener('hashchange', route);
window.addEventListener('unhandledrejection', ev => {
  if (ev.reason instanceof ApiError && ev.reason.status === 401) signIn('your token was refused');
});
route();
export { fmtNum };
