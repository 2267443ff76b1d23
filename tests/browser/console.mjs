// console.mjs — the web console in headless Chromium (Debian's
// /usr/bin/chromium, driven by playwright-core, pinned in package-lock.json).
//
//   node console.mjs test    the browser tests (tests/integration/console.sh)
//   node console.mjs bench   time to the first drawn chart (bench/console_bench.sh)
//
// Environment: VND_URL, TOKEN_A, TOKEN_B, DIAG (tenant A's diagnosis, with
// tables ids_in, ids_in_rev, ids_out, and client_out sampled 1 in 4), OUT
// (screenshots), DL (downloads);
// bench: TABLE (the big table), RUNS.
// Prints one TAP-like line per check ("ok - ..." / "not ok - ..."), which
// console.sh counts; "# ..." lines are notes.
import { chromium } from 'playwright-core';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const env = process.env;
const URL = env.VND_URL;
const OUT = env.OUT || '/tmp';
const DL = env.DL || '/tmp';
let failed = 0;
const ok = (cond, desc, note) => {
  if (!cond) failed++;
  console.log(`${cond ? 'ok' : 'not ok'} - ${desc}`);
  if (!cond && note !== undefined) console.log(`#   ${String(note).split('\n').join('\n#   ')}`);
  return cond;
};
const note = s => console.log(`# ${s}`);

async function api(tok, method, path, body) {
  const r = await fetch(URL + path, {
    method, headers: { Authorization: `Bearer ${tok}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  let j = null;
  try { j = JSON.parse(text); } catch (_) { /* not JSON */ }
  return { status: r.status, headers: r.headers, text, json: j };
}

async function browser() {
  return chromium.launch({
    executablePath: env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
}

// A page that records what must never happen: script errors, CSP
// violations, requests to anything but the console's origin.
async function newPage(b) {
  const ctx = await b.newContext({ acceptDownloads: true, viewport: { width: 1360, height: 900 } });
  const page = await ctx.newPage();
  page.problems = [];
  page.on('pageerror', e => page.problems.push(`page error: ${e.message}`));
  // (a 4xx answer the page shows is logged as "Failed to load resource": expected)
  page.on('console', m => { if (m.type() === 'error' && !/^Failed to load resource/.test(m.text())) page.problems.push(`console: ${m.text()}`); });
  page.on('request', r => { if (!r.url().startsWith(URL) && !r.url().startsWith('blob:') && !r.url().startsWith('data:')) page.problems.push(`request to ${r.url()}`); });
  page.on('dialog', d => d.accept());
  return { ctx, page };
}

async function signIn(page, tok) {
  await page.goto(`${URL}/`);
  await page.fill('#token', tok);
  await page.click('#signin button[type=submit]');
  await page.waitForSelector('h1:text("Your diagnoses")');
}

// The chart's data once it has been drawn with `n` series.
async function chartData(page, nseries) {
  await page.waitForFunction(n => {
    const el = document.getElementById('chart');
    return el && el.vndData && el.vndData.length === n + 1 && +el.dataset.drawn > 0;
  }, nseries, { timeout: 30000 });
  return page.$eval('#chart', el => ({ data: el.vndData, labels: el.vndLabels }));
}

// The chart's points against the API's rows; the last slot may still be
// filling (traffic runs meanwhile), so it is compared by its presence only.
// The API is asked after the chart was drawn, so it may also have one slot
// more at the end (rows that arrived in between).
// An app's JSON is its rows, or {rows, verdict, sampling} when it says more
// about them than rows can (diag.h, diag_sampling.h).
function diagRows(j) {
  return Array.isArray(j) ? j : (j && Array.isArray(j.rows) ? j.rows : []);
}

function sameSeries(apiRows, xs, ys, col) {
  const want = new Map(apiRows.map(r => [r.t, r[col]]));
  const got = new Map();
  xs.forEach((x, i) => { if (ys[i] !== null && ys[i] !== undefined) got.set(x, ys[i]); });
  // the capture is live: rows committed after the chart ran give the API
  // newer slots than the chart's newest (seen: 2 on a loaded machine)
  const chartNewest = Math.max(...got.keys());
  for (const t of [...want.keys()]) if (t > chartNewest) want.delete(t);
  if (want.size !== got.size) return `API ${want.size} points, chart ${got.size}`;
  const last = Math.max(...want.keys());
  for (const [t, v] of want) if (got.get(t) !== v && !(t === last && got.has(t))) return `t=${t}: API ${v}, chart ${got.get(t)}`;
  return null;
}

async function shot(page, name) {
  await page.screenshot({ path: join(OUT, name), fullPage: true });
  note(`screenshot ${name}`);
}

async function runApp(page, app, fill) {
  await page.selectOption('#app', app);
  if (fill) await fill();
  await page.click('#run-app');
  await page.waitForFunction(() => /done in|following/.test(document.getElementById('app-status').textContent)
    || document.querySelector('#app-table .error'), null, { timeout: 60000 });
}

async function test() {
  const A = env.TOKEN_A, B = env.TOKEN_B, D = env.DIAG;
  mkdirSync(OUT, { recursive: true });
  mkdirSync(DL, { recursive: true });

  // ---- the API the console adds: GET /v1/topology ----
  const ta = await api(A, 'GET', '/v1/topology');
  ok(ta.status === 200 && ta.json.nodes.map(n => n.name).sort().join() === 'client,ids,server'
     && ta.json.links.length === 2, 'GET /v1/topology: the tenant\'s nodes and links', ta.text);
  const phys = /hv[12]|ofport|"mac"|02:00:00|bridge|mgmt|iface|table_server|host/;
  ok(!phys.test(ta.text), 'the topology names nothing physical (no host, bridge, ofport, MAC)', ta.text);
  ok(ta.json.nodes.find(n => n.name === 'ids').input === 'in', 'an appliance has its input and output ports');
  const tb = await api(B, 'GET', '/v1/topology');
  ok(tb.status === 200 && !/02:00:00:a1/.test(tb.text), 'tenant B gets its own topology');
  ok((await api('nonsense-token-0000', 'GET', '/v1/topology')).status === 401, 'an unknown token gets 401 on /v1/topology');
  ok((await api(A, 'POST', '/v1/topology', {})).status === 405, 'POST /v1/topology is 405');
  const ss = await api(A, 'POST', `/v1/diagnoses/${D}/diag`, { app: 'throughput', options: { table: 'ids_out' }, show_sql: true });
  ok(ss.status === 200 && /select/i.test(ss.json.sql) && ss.json.app === 'throughput', '"show_sql": true answers the app\'s SQL', ss.text);
  ok((await api(A, 'POST', `/v1/diagnoses/${D}/diag`, { app: 'throughput', show_sql: 1 })).status === 400, '"show_sql" must be a boolean');

  const b = await browser();
  try {
    // ---- tenant A ----
    const { ctx, page } = await newPage(b);
    const resp = await page.goto(`${URL}/`);
    ok(resp.headers()['content-security-policy'] === "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
       'the console page carries the strict Content-Security-Policy');
    ok(resp.headers()['x-content-type-options'] === 'nosniff', 'and X-Content-Type-Options: nosniff');
    ok(await page.$$eval('script', s => s.every(x => x.src && !x.textContent.trim())), 'no inline script in the page');
    await shot(page, 'console-signin.png');
    await page.fill('#token', 'wrong-token-000000');
    await page.click('#signin button[type=submit]');
    await page.waitForSelector('.signin .error');
    ok(/unknown token/.test(await page.textContent('.signin .error')), 'a wrong token is refused on the sign-in page');
    await signIn(page, A);
    ok(await page.evaluate(t => sessionStorage.getItem('vnd-token') === t, A), 'the token is kept in sessionStorage');
    ok((await ctx.cookies()).length === 0, 'no cookies');
    await page.waitForSelector(`a.diag-link:text("${D}")`);
    ok(true, `tenant A sees its diagnosis ${D} in the list`);
    await page.waitForFunction(() => [...document.querySelectorAll('table.diagnoses tr[data-trace]')].some(tr => +tr.children[tr.children.length - 5].textContent.replace(/,/g, '') > 0));
    const listText = await page.textContent('table.diagnoses');
    ok(/ids_out/.test(listText) && /running/.test(listText), 'with its state and each capture point\'s counters (seen > 0)');
    const before = await page.textContent('table.diagnoses');
    await page.waitForTimeout(2500);
    const drawnAgain = await page.textContent('table.diagnoses');
    ok(/duration/.test(await page.textContent('table.diagnoses thead')) && before !== drawnAgain, 'the list refreshes by itself (duration and counters move)');
    await shot(page, 'console-diagnoses.png');

    // the diagnosis page
    await page.click(`a.diag-link:text("${D}")`);
    await page.waitForSelector('svg.topology');
    const nodes = await page.$$eval('svg.topology .node-name', e => e.map(x => x.textContent).sort());
    ok(nodes.join() === 'client,ids,server', 'the diagnosis page draws the tenant\'s topology as SVG', nodes);
    const dd = (await api(A, 'GET', `/v1/diagnoses/${D}`)).json;
    const marks = await page.$$eval('svg.topology g.capture', e => e.map(x => x.dataset.trace).sort());
    ok(marks.join() === dd.traces.map(t => t.name).sort().join(), 'with each capture point marked on it', marks);
    const pageText = await page.textContent('body');
    ok(!/hv1|hv2|ofport|02:00:00|mgmt|127\.0\.0\.1:75/.test(pageText), 'nothing physical on the page');
    await shot(page, 'console-diagnosis.png');

    // throughput on two capture points, one chart
    await runApp(page, 'throughput', async () => {
      await page.check('#opt-table input[value="ids_in"]');
      await page.check('#opt-table input[value="ids_out"]');
    });
    const thr = await chartData(page, 2);
    const api_in_json = (await api(A, 'POST', `/v1/diagnoses/${D}/diag`, { app: 'throughput', options: { table: 'ids_in', slot: 1 } })).json;
    const api_in = diagRows(api_in_json);
    ok(Array.isArray(api_in_json) || (Array.isArray(api_in_json.sampling) && api_in_json.sampling.every(s => s.treatment === 'exact')),
       'throughput says how its rows were sampled (here: every packet, exact)', api_in_json.sampling);
    const api_out = diagRows((await api(A, 'POST', `/v1/diagnoses/${D}/diag`, { app: 'throughput', options: { table: 'ids_out', slot: 1 } })).json);
    const d1 = sameSeries(api_in, thr.data[0], thr.data[1], 'bps'), d2 = sameSeries(api_out, thr.data[0], thr.data[2], 'bps');
    ok(!d1 && !d2 && api_in.length > 1, `throughput: the chart has the points the API returned (ids_in ${api_in.length}, ids_out ${api_out.length}, one chart)`, d1 || d2);
    ok(thr.labels.join() === 'ids_in,ids_out', 'one series per capture point', thr.labels);
    // ids_out's copies are cut to 128 bytes in the switch (its Snaplen): said
    // under the chart, though its rows are exact
    const said = await page.textContent('#verdict');
    ok(/Sampling: ids_out \(mirror: every packet, the first 128 bytes of each packet\)/.test(said)
       && !/Sampling: ids_in\b/.test(said), 'the copies cut in the switch are said under the chart, for ids_out only', said);
    ok(/\d+ rows?/.test(await page.textContent('#app-count')), 'and the rows as a table');
    await page.waitForFunction(() => /select/i.test(document.getElementById('app-sql').textContent));
    ok(/ids_in/.test(await page.textContent('#app-sql')), 'the app\'s SQL is shown beside it');
    // hover: the legend shows the value under the cursor
    await page.$eval('#chart', e => e.scrollIntoView({ block: 'center' }));
    const box = await page.$eval('#chart .u-over', e => { const r = e.getBoundingClientRect(); return { x: r.x, y: r.y, w: r.width, h: r.height }; });
    await page.mouse.move(box.x + box.w * 0.3, box.y + box.h / 2);
    const legend = await page.$$eval('#chart .u-legend .u-value', e => e.map(x => x.textContent));
    ok(legend.length === 3 && legend.slice(1).some(v => /\d/.test(v)), 'hovering shows the values at the cursor', legend);
    // zoom: drag across the plot
    const span = () => page.$eval('#chart', e => e.vndPlot.scales.x.max - e.vndPlot.scales.x.min);
    const span0 = await span();
    await page.mouse.move(box.x + box.w * 0.2, box.y + box.h / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.w * 0.5, box.y + box.h / 2, { steps: 5 });
    await page.mouse.up();
    const span1 = await span();
    await page.mouse.dblclick(box.x + box.w * 0.5, box.y + box.h / 2);
    const span2 = await span();
    ok(span1 < span0 * 0.6 && Math.abs(span2 - span0) < 1e-9, `dragging zooms the time axis, a double-click zooms back (${span0} s → ${span1.toFixed(2)} s → ${span2} s)`);
    await shot(page, 'console-throughput.png');

    // a sampled table (client_out, 1 in 4 at the table server): the chart
    // draws the estimate with its 95% interval, the space between filled
    await runApp(page, 'throughput', async () => {
      await page.$$eval('#opt-table input', els => els.forEach(e => { if (e.checked) e.click(); }));
      await page.check('#opt-table input[value="client_out"]');
    });
    const smp = await chartData(page, 3);
    ok(smp.labels.join() === 'bps,bps 95% low,bps 95% high', 'a sampled table\'s throughput: bps and the two ends of its 95% interval', smp.labels);
    const [sx, sy, slo, shi] = smp.data;
    const held = sx.filter((x, i) => sy[i] !== null && slo[i] <= sy[i] && sy[i] <= shi[i]).length;
    ok(sx.length > 1 && held === sy.filter(v => v !== null).length, `each point between its interval's ends (${held} of ${sx.length})`);
    ok(await page.$eval('#chart', e => (e.vndPlot.bands || []).length) === 1, 'the interval drawn as a band');
    const smpSaid = await page.textContent('#verdict');
    ok(/Sampling: client_out \(mirror: 1-in-4 packets/.test(smpSaid), 'its sampling said under the chart', smpSaid);
    await shot(page, 'console-sampled.png');
    await page.uncheck('#opt-table input[value="client_out"]');

    // RTT at the ids input: ids_both holds both directions (a Table ID over
    // ids_in and ids_in_rev), so segments meet their ACKs there.
    await runApp(page, 'rtt', async () => {
      await page.$$eval('#opt-table input', els => els.forEach(e => { if (e.checked) e.click(); }));
      await page.check('#opt-table input[value="ids_both"]');
    });
    const api_rtt = diagRows((await api(A, 'POST', `/v1/diagnoses/${D}/diag`, { app: 'rtt', options: { table: 'ids_both', slot: 1 } })).json);
    const rtt = await chartData(page, 1);
    const d3 = sameSeries(api_rtt, rtt.data[0], rtt.data[1] || [], 'mean_ms') || (api_rtt.length ? null : 'no RTT samples');
    ok(!d3, `rtt: the chart has the points the API returned (${api_rtt.length})`, d3);
    ok(/rows?/.test(await page.textContent('#app-count')) && /select/i.test(await page.textContent('#app-sql').catch(() => 'select')), 'rtt: its rows and its SQL');
    // delay at the ids (input joined to output by packet id): a hop's two capture points
    await runApp(page, 'delay', async () => { await page.selectOption('#opt-in', 'ids_in'); await page.selectOption('#opt-out', 'ids_out'); });
    const dly = await chartData(page, 1);
    const api_dly = diagRows((await api(A, 'POST', `/v1/diagnoses/${D}/diag`, { app: 'delay', options: { in: 'ids_in', out: 'ids_out', by: 'id', slot: 1, window: 1 } })).json);
    const d4 = sameSeries(api_dly, dly.data[0], dly.data[1], 'mean_ms');
    ok(!d4 && api_dly.length > 0, `delay: the chart has the points the API returned (${api_dly.length})`, d4);
    const meanD = api_dly.reduce((a, r) => a + r.mean_ms * r.packets, 0) / api_dly.reduce((a, r) => a + r.packets, 0);
    note(`delay at the ids: mean ${meanD.toFixed(2)} ms (the bed's delay line: ${env.DELAY_MS} ms)`);
    ok(meanD > 0, 'the ids\' delay is measured');
    await shot(page, 'console-delay.png');
    // loss at the ids while the slow streams run: what entered ids_in in the
    // last window before ids_out's last commit is not judged yet, and the
    // page says so under the chart, as the API's JSON does
    const api_loss = (await api(A, 'POST', `/v1/diagnoses/${D}/diag`, { app: 'loss', options: { in: 'ids_in', out: 'ids_out' } })).json;
    ok(Array.isArray(api_loss.waiting) && api_loss.waiting.some(w => w.table === 'ids_in' && w.other === 'ids_out' && w.rows > 0),
       'loss: the API says which rows wait for ids_out', api_loss.waiting);
    await runApp(page, 'loss', async () => { await page.selectOption('#opt-in', 'ids_in'); await page.selectOption('#opt-out', 'ids_out'); });
    const lossSaid = await page.textContent('#verdict');
    ok(/Not judged yet: \d+ rows of ids_in, less than the window before ids_out's last store/.test(lossSaid),
       'loss: the page says what is not judged yet', lossSaid);

    // follow: rows arrive while the page watches
    await page.selectOption('#app', 'throughput');
    await page.check('#opt-table input[value="ids_out"]');
    await page.uncheck('#opt-table input[value="ids_in"]');
    await page.check('#follow');
    await page.click('#run-app');
    const f0 = await chartData(page, 1);
    const last0 = Math.max(...f0.data[0]);
    await page.waitForFunction(l => { const el = document.getElementById('chart'); return el.vndData && Math.max(...el.vndData[0]) > l; }, last0, { timeout: 20000 }).catch(() => {});
    const last1 = await page.$eval('#chart', e => Math.max(...e.vndData[0]));
    // (the status line says "following" between two rounds; on a slow build a
    // round may be under way at the first look)
    const following = await page.waitForFunction(() => /following/.test(document.getElementById('app-status').textContent), null, { timeout: 10000 }).then(() => true, () => false);
    ok(last1 > last0 && following, `follow mode draws new slots as rows arrive (last t ${last0} → ${last1})`);
    await page.uncheck('#follow');
    await page.click('#run-app');

    // follow on flow records (server_in: Mode ipfix, ActiveTimeout 5): a
    // record comes every 5 s of its flow and spreads back over its
    // span into slots already drawn, so each round asks for every slot
    // (followSince); the slots the API calls complete are drawn with their
    // final values, not the part of them that had come when first drawn
    await page.$$eval('#opt-table input', els => els.forEach(e => { if (e.checked) e.click(); }));
    await page.check('#opt-table input[value="server_in"]');
    await page.check('#follow');
    await page.click('#run-app');
    const r0 = await chartData(page, 1);
    const rl0 = Math.max(...r0.data[0]);
    await page.waitForFunction(l => { const el = document.getElementById('chart'); return el.vndData && Math.max(...el.vndData[0]) >= l + 8; }, rl0, { timeout: 40000 }).catch(() => {});
    const rdone = diagRows((await api(A, 'POST', `/v1/diagnoses/${D}/diag`, { app: 'throughput', options: { table: 'server_in', slot: 1 }, complete: true })).json);
    // two more rounds: the second asked after the answer above
    const drawn0 = await page.$eval('#chart', e => +e.dataset.drawn);
    await page.waitForFunction(n => +document.getElementById('chart').dataset.drawn >= n + 2, drawn0, { timeout: 30000 }).catch(() => {});
    const rf = await page.$eval('#chart', e => ({ xs: e.vndData[0], ys: e.vndData[1], drawn: +e.dataset.drawn }));
    await page.uncheck('#follow');
    await page.click('#run-app');
    const byT = new Map(rf.xs.map((x, i) => [x, rf.ys[i]]));
    const off = rdone.filter(r => byT.get(r.t) !== r.bps).map(r => `t=${r.t}: API ${r.bps}, chart ${byT.get(r.t)}`);
    ok(rdone.length >= 3 && rf.drawn >= drawn0 + 2 && !off.length,
       `follow on flow records: the ${rdone.length} complete slots drawn with the API's final values (last t ${rl0} → ${Math.max(...rf.xs)})`,
       off.slice(0, 3).join('; ') || `complete slots ${rdone.length}, rounds ${rf.drawn - drawn0}`);
    ok(rdone.every(r => r.records > 0), 'each from the records of its second', rdone.slice(0, 2));

    // SQL
    await page.fill('#sql', 'select count(*) as n from ids_out');
    await page.click('#run-sql');
    await page.waitForSelector('#sql-count');
    const n = (await api(A, 'POST', `/v1/diagnoses/${D}/query`, { sql: 'select count(*) as n from ids_out' })).json[0].n;
    const cell = await page.textContent('#sql-out td');
    ok(+cell === n || Math.abs(+cell - n) < n * 0.05, `SQL: the console's rows are the API's (n = ${cell}, API ${n})`);
    ok(/1 row/.test(await page.textContent('#sql-count')), 'with the row count');
    const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#dl-csv')]);
    await dl.saveAs(join(DL, 'query.csv'));
    const csvText = (await import('node:fs')).readFileSync(join(DL, 'query.csv'), 'utf8');
    ok(/^n\r?\n\d+/.test(csvText), 'CSV download', csvText);
    const [dj] = await Promise.all([page.waitForEvent('download'), page.click('#dl-json')]);
    await dj.saveAs(join(DL, 'query.json'));
    ok(JSON.parse((await import('node:fs')).readFileSync(join(DL, 'query.json'), 'utf8'))[0].n >= 0, 'JSON download');
    await page.fill('#sql', 'select src_ip,\n  count(* as n\nfrom ids_out');
    await page.click('#run-sql');
    await page.waitForSelector('#sql-out .error');
    const at = await page.textContent('#sql-error-at').catch(() => '');
    ok(/syntax error/.test(await page.textContent('#sql-out .error')) && /line 2, column 11/.test(at), 'an SQL error is shown with its position (line 2, column 11)', at);
    await page.fill('#sql', 'select src_ip, count(*) as packets from ids_out group by 1 order by 2 desc');
    await page.click('#run-sql');
    await page.waitForSelector('#sql-count');
    await shot(page, 'console-sql.png');

    // an injected <script> in tenant-controlled strings is text
    const evil = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">';
    await page.fill('#sql', `select '${evil}' as evil`);
    await page.click('#run-sql');
    await page.waitForSelector('#sql-count');
    const shown = await page.textContent('#sql-out td');
    ok(shown === evil && await page.evaluate(() => window.__xss === undefined) && await page.$$eval('#sql-out img, #sql-out script', e => e.length) === 0,
       'an injected <script> in a query result is shown as text');

    // pcap download of a trace
    const [dp] = await Promise.all([page.waitForEvent('download'), page.click('button.pcap[data-trace="ids_out"]')]);
    await dp.saveAs(join(DL, 'ids_out.pcap'));
    ok(true, 'pcap download of ids_out');

    // config errors at their line; a script in a config is text
    await page.goto(`${URL}/#/new`);
    await page.waitForSelector('#collect');
    await page.fill('#collect', 'Appliance Node : ids\nCap input\nproto=TCP\nCpa output\n');
    await page.click('#create-btn');
    await page.waitForSelector('#config-error-at');
    const cerr = await page.textContent('#create-out');
    ok(/collect\.conf line 4, column 1/.test(cerr) && /Cpa output/.test(await page.textContent('#config-error-at pre')),
       'a configuration error is shown at its line (4)', cerr);
    await shot(page, 'console-new-error.png');
    await page.fill('#collect', `Appliance Node : ${evil}\nCap input\n`);
    await page.click('#create-btn');
    await page.waitForSelector('#create-out .error');
    const e2 = await page.textContent('#create-out .error');
    ok(await page.evaluate(() => window.__xss === undefined) && await page.$$eval('#create-out img, #create-out script', e => e.length) === 0,
       'an injected <script> in a configuration error is shown as text', e2);
    // parse configuration errors are placed in their own editor
    await page.fill('#collect', 'Appliance Node : ids\nCap output\nproto=ICMP\n');
    await page.fill('#parse', 'Trace ID all\nFilter: ip.proto = tcp\nFields: timestamp as ts, nosuch.field as x\n');
    await page.click('#create-btn');
    await page.waitForSelector('#config-error-at');
    ok(/parse\.conf line 3/.test(await page.textContent('#create-out')), 'a parse configuration error at its line (3)', await page.textContent('#create-out'));
    // create from an uploaded file, then stop it
    const up = join(DL, 'icmp.conf');
    writeFileSync(up, 'Appliance Node : ids\nCap output\nproto=ICMP\n');
    await page.fill('#parse', '');
    await page.setInputFiles('#collect-file', up);
    await page.waitForFunction(() => /ICMP/.test(document.getElementById('collect').value));
    await page.click('#create-btn');
    await page.waitForURL(/#\/d\/d\d+$/, { timeout: 20000 });
    const nid = decodeURIComponent(page.url().split('/').pop());
    ok((await api(A, 'GET', `/v1/diagnoses/${nid}`)).status === 200, `a diagnosis created from an uploaded file (${nid})`);
    await page.waitForSelector('#stop');
    await page.click('#stop');
    await page.waitForSelector('h1:text("Your diagnoses")');
    ok((await api(A, 'GET', `/v1/diagnoses/${nid}`)).status === 404, 'and stopped from its page');
    ok(page.problems.length === 0, 'no script error, CSP violation or foreign request in tenant A\'s session', page.problems.join('\n'));
    await page.click('#signout');
    ok(await page.evaluate(() => sessionStorage.getItem('vnd-token') === null), 'signing out forgets the token');
    await ctx.close();

    // ---- tenant B sees none of A's ----
    const pb = await newPage(b);
    await signIn(pb.page, B);
    await pb.page.waitForTimeout(500);
    const bl = await pb.page.textContent('main');
    ok(!bl.includes(D) || !(await pb.page.$(`a.diag-link:text-is("${D}")`)), `tenant B's list does not have A's ${D}`);
    await pb.page.goto(`${URL}/#/d/${D}`);
    await pb.page.waitForSelector('main .error');
    const be = await pb.page.textContent('main .error');
    ok(be === `no diagnosis ${D}`, 'A\'s diagnosis page answers B as a missing one', be);
    ok(!/02:00:00:a1|alice/.test(await pb.page.textContent('body')), 'nothing of tenant A on B\'s pages');
    await pb.ctx.close();
  } finally {
    await b.close();
  }
}

async function bench() {
  const A = env.TOKEN_A, D = env.DIAG, T = env.TABLE, runs = +(env.RUNS || 3);
  const b = await browser();
  const times = [];
  try {
    for (let i = 0; i < runs; i++) {
      const { ctx, page } = await newPage(b);
      const reqs = [];
      page.on('request', r => reqs.push(r.postData() || ''));
      await page.goto(`${URL}/`);
      await page.evaluate(t => sessionStorage.setItem('vnd-token', t), A);
      await page.goto(`${URL}/#/d/${D}`);
      await page.waitForSelector('#run-app');
      await page.selectOption('#app', 'throughput');
      await page.check(`#opt-table input[value="${T}"]`);
      for (const c of await page.$$('#opt-table input:checked')) if (await c.getAttribute('value') !== T) await c.uncheck();
      const t = await page.evaluate(() => {
        performance.clearMarks();
        return new Promise(resolve => {
          const t0 = performance.now();
          new PerformanceObserver(l => { for (const e of l.getEntries()) if (e.name === 'vnd-first-chart') resolve(e.startTime - t0); })
            .observe({ entryTypes: ['mark'] });
          document.getElementById('run-app').click();
        });
      });
      const pts = await page.$eval('#chart', e => e.vndData[0].length);
      const queried = reqs.filter(r => /"sql"/.test(r));
      times.push(t);
      note(`run ${i + 1}: first chart ${t.toFixed(0)} ms, ${pts} points (aggregated slots), SQL requests ${queried.length}`);
      await ctx.close();
    }
  } finally {
    await b.close();
  }
  times.sort((a, c) => a - c);
  console.log(`first-chart-ms ${times[Math.floor(times.length / 2)].toFixed(0)} (median of ${times.length}; min ${times[0].toFixed(0)}, max ${times[times.length - 1].toFixed(0)})`);
}

const mode = process.argv[2];
try {
  if (mode === 'bench') await bench();
  else await test();
} catch (e) {
  failed++;
  console.log(`not ok - the driver stopped: ${e.message.split('\n')[0]}`);
  console.log(`#   ${e.stack.split('\n').slice(0, 6).join('\n#   ')}`);
}
process.exit(failed ? 1 : 0);
