// errors.js — where in the tenant's text an error is: configuration errors
// come as NAME:LINE:COL: message (docs/api/controld.yaml, Error); SQLite's
// name the token (`near "x": syntax error`, `no such column: x`), found
// here in the statement.
import { h } from './dom.js';

export function errorPlace(msg, names) {
  const m = /^([A-Za-z0-9._-]+):(\d+):(\d+): ([\s\S]*)$/.exec(msg);
  if (!m) return null;
  const file = m[1] === names.parse ? 'parse' : m[1] === names.collect ? 'collect' : null;
  if (!file) return null;
  return { file, name: m[1], line: +m[2], col: +m[3], msg: m[4] };
}

function lineCol(text, offset) {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, col: before[before.length - 1].length + 1 };
}

export function sqlErrorPlace(sql, msg) {
  let m = /near "([^"]*)": syntax error/.exec(msg);
  let word = m ? m[1] : null;
  if (!word && (m = /no such (?:column|table|function): ([^\s]+)/.exec(msg))) word = m[1];
  if (!word && /incomplete input/.test(msg))
    return { ...lineCol(sql, sql.trimEnd().length), msg, name: 'SQL' };
  if (!word) return null;
  // the token as a word of its own, outside earlier matches of a prefix
  const re = new RegExp(`(^|[^A-Za-z0-9_])(${word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')})(?![A-Za-z0-9_])`, 'i');
  const f = re.exec(sql);
  if (!f) return null;
  return { ...lineCol(sql, f.index + f[1].length), msg, name: 'SQL' };
}

// The line of `text` at `at` with a caret under its column.
export function showAt(text, at, id) {
  const line = text.split('\n')[at.line - 1] || '';
  const gutter = `${at.line} | `;
  return h('div', { class: 'error-at', id },
    h('p', {}, `${at.name} line ${at.line}, column ${at.col}:`),
    h('pre', {}, `${gutter}${line}\n${' '.repeat(gutter.length + Math.max(0, at.col - 1))}^ ${at.msg}`));
}
