// apps.js — the diagnostic applications as forms (the options of
// DiagOptions in docs/api/controld.yaml) and how their rows become charts.
//
// An option kind: table (one of the diagnosis's tables), tables (several:
// one request each, their series on one chart), path (tables in order),
// column, columns, text, seconds, flag, choice.
export const APPS = {
  throughput: {
    summary: 'packets, bytes and bit/s per time slot',
    opts: [['table', 'tables'], ['slot', 'seconds', 1], ['by_flow', 'flag'], ['where', 'text']],
    y: ['bps', 'packets', 'bytes'],
  },
  rtt: {
    summary: 'RTT at a capture point: data segment to the ACK that first covers it',
    opts: [['table', 'tables'], ['slot', 'seconds', 1], ['by_flow', 'flag'], ['where', 'text'],
           ['kind', 'choice', 'all', ['all', 'handshake', 'data', 'fin']]],
    y: ['mean_ms', 'p50_ms', 'p99_ms', 'min_ms', 'max_ms', 'packets'],
  },
  delay: {
    summary: 'one-hop delay per slot and direction (input joined to output)',
    opts: [['in', 'table'], ['out', 'table'], ['by', 'choice', 'id', ['id', 'payload']],
           ['slot', 'seconds', 1], ['by_flow', 'flag'], ['window', 'seconds', 1]],
    y: ['mean_ms', 'p50_ms', 'p99_ms', 'min_ms', 'max_ms', 'packets', 'late'],
  },
  loss: {
    summary: 'packets that entered a hop and never left (or left late), per slot and direction',
    opts: [['in', 'table'], ['out', 'table'], ['by', 'choice', 'id', ['id', 'payload']],
           ['slot', 'seconds', 1], ['list', 'flag'], ['window', 'seconds', 1]],
    y: ['loss_rate', 'lost', 'late', 'packets'],
  },
  bottleneck: {
    summary: 'per-hop processing time and loss along a path; names the bottleneck',
    opts: [['path', 'path'], ['slot', 'seconds', 1], ['window', 'seconds', 1]],
    y: ['proc_ms', 'loss_rate', 'rtt_from_ms', 'rtt_to_ms', 'lost'],
  },
  correlate: {
    summary: 'which input flow became which output flow of a middlebox',
    opts: [['in', 'table'], ['out', 'table'], ['by', 'choice', 'id', ['id', 'payload', 'order']],
           ['window', 'seconds', 1]],
  },
  distribution: {
    summary: 'values of a field: count and fraction of all packets',
    opts: [['table', 'table'], ['field', 'column', 'dst_port'], ['where', 'text']],
  },
  groups: {
    summary: 'distinct tuples of fields, with packets and bytes',
    opts: [['table', 'table'], ['fields', 'columns', 'src_ip,dst_ip'], ['where', 'text']],
  },
  filter: {
    summary: 'rows matching a filter of the parse-configuration language',
    opts: [['table', 'table'], ['where', 'text', 'ip.proto = tcp']],
  },
};

// The text column that splits a result into series, if any.
export const SERIES_KEYS = ['flow', 'dir', 'span'];

// rows of several runs ({label, rows}) → {xs, series: [{label, ys}]} on
// one time axis: one series per (run, flow/dir/span).  Where the rows
// carry a 95% interval of the column (a sampled table's throughput:
// bps_low, bps_high), its two ends follow their series as
// {label: 'L 95% low' / 'L 95% high', ys, band: 'low' / 'high', of: the
// series' index}, which the chart draws as a band.
export function toSeries(runs, yCol) {
  const xsSet = new Set();
  const per = new Map();
  const ends = [['low', `${yCol}_low`], ['high', `${yCol}_high`]];
  for (const run of runs) {
    for (const r of run.rows) {
      if (typeof r.t !== 'number') continue;
      const key = SERIES_KEYS.find(k => k in r);
      const label = [runs.length > 1 ? run.label : null, key ? r[key] : null]
        .filter(x => x !== null).join(' ') || yCol;
      if (!per.has(label)) per.set(label, { y: new Map(), low: new Map(), high: new Map() });
      const m = per.get(label);
      m.y.set(r.t, typeof r[yCol] === 'number' ? r[yCol] : null);
      for (const [end, col] of ends)
        if (typeof r[col] === 'number') m[end].set(r.t, r[col]);
      xsSet.add(r.t);
    }
  }
  const xs = [...xsSet].sort((a, b) => a - b);
  const along = m => xs.map(x => (m.has(x) ? m.get(x) : null));
  const series = [];
  for (const [label, m] of per) {
    const of = series.length;
    series.push({ label, ys: along(m.y) });
    for (const [end] of ends)
      if (m[end].size) series.push({ label: `${label} 95% ${end}`, ys: along(m[end]), band: end, of });
  }
  return { xs, series };
}

// Merges new rows (t >= since) into old: rows at t >= since are replaced.
export function mergeSince(old, fresh, since) {
  return old.filter(r => !(typeof r.t === 'number' && r.t >= since)).concat(fresh);
}

// Where following asks again from: the last slot, which new rows may
// still fill; of flow records (their tables' sampling says mode ipfix)
// everything, as a record that comes spreads back over its span into
// slots already drawn (cheap: their rollup answers, docs/rollups.md).
export function followSince(runs) {
  if (runs.some(r => (r.sampling || []).some(s => s.mode === 'ipfix'))) return -Infinity;
  return Math.max(0, ...runs.flatMap(r => r.rows.map(x => (typeof x.t === 'number' ? x.t : 0))));
}
