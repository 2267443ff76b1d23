// dom.js — elements built from data, never from HTML text: every string the
// API returns reaches the page through textContent or an attribute value.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'value' && tag === 'textarea') el.value = v;
    else if (k === 'checked') el.checked = !!v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

const SVG = 'http://www.w3.org/2000/svg';
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {}))
    if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  for (const c of children.flat(Infinity))
    if (c !== undefined && c !== null) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

// A table of row objects (docs/output.md): columns from the first row.
export function rowsTable(rows, { limit = 1000 } = {}) {
  const cols = rows.length ? Object.keys(rows[0]) : [];
  const shown = rows.slice(0, limit);
  return h('div', { class: 'table-wrap' },
    h('table', { class: 'rows' },
      h('thead', {}, h('tr', {}, cols.map(c => h('th', {}, c)))),
      h('tbody', {}, shown.map(r => h('tr', {}, cols.map(c => {
        const v = r[c];
        return h('td', { class: typeof v === 'number' ? 'num' : v === null ? 'null' : '' },
          v === null ? 'NULL' : typeof v === 'number' ? fmtNum(v) : String(v));
      }))))),
    rows.length > limit ? h('p', { class: 'note' }, `first ${limit} of ${rows.length} rows shown`) : null);
}

export function fmtNum(v) {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e9) ? v.toExponential(4) : String(+v.toPrecision(6));
}

export function fmtCount(n) {
  return n === undefined || n === null ? '–' : Number(n).toLocaleString('en-US');
}

export function download(name, type, data) {
  const url = URL.createObjectURL(data instanceof Blob ? data : new Blob([data], { type }));
  const a = h('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
