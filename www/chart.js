// chart.js — time-series charts with uPlot (www/vendor, installed by
// `make www` from the npm registry, pinned in www/package-lock.json):
// several series on one chart, drag to zoom (double-click: back), the
// values under the cursor in the legend.
import { h, clear, fmtNum } from './dom.js';

let uPlotMod;
async function lib() {
  if (uPlotMod === undefined)
    uPlotMod = await import('./vendor/uPlot.esm.js').then(m => m.default, () => null);
  return uPlotMod;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b',
                '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

let firstDrawn = false;

// Draws {xs, series: [{label, ys}]} into `box`; returns the chart (with
// .update(data)), or null when the chart library is missing (said in box).
export async function chart(box, data, { y = '', x = 't (s)' } = {}) {
  const uPlot = await lib();
  clear(box);
  if (!uPlot) {
    box.append(h('p', { class: 'error' }, 'The chart library (www/vendor/uPlot.esm.js) is missing: run `make www`.'));
    return null;
  }
  const width = Math.max(320, Math.min(box.clientWidth || 900, 1200));
  const opts = {
    width, height: 300,
    scales: { x: { time: false } },
    axes: [{ label: x }, { label: y, size: 70, values: (u, vals) => vals.map(v => fmtNum(v)) }],
    cursor: { drag: { x: true, y: false } },
    series: [{ label: 't', value: (u, v) => (v === null || v === undefined ? '–' : fmtNum(v)) },
      ...data.series.map((s, i) => ({
        label: s.label, stroke: COLORS[i % COLORS.length], width: 1.5, spanGaps: false,
        points: { show: data.xs.length < 200 },
        value: (u, v) => (v === null || v === undefined ? '–' : fmtNum(v)),
      }))],
    hooks: {
      draw: [() => {
        if (!firstDrawn) {
          firstDrawn = true;
          performance.mark('vnd-first-chart');
        }
        box.dataset.drawn = String((+box.dataset.drawn || 0) + 1);
      }],
    },
  };
  const u = new uPlot(opts, [data.xs, ...data.series.map(s => s.ys)], box);
  // what the chart holds, for the browser tests: [xs, ys1, ys2, ...]
  box.vndData = [data.xs, ...data.series.map(s => s.ys)];
  box.vndPlot = u;
  box.vndLabels = data.series.map(s => s.label);
  return {
    el: box,
    update(d) {
      if (d.series.length !== data.series.length ||
          d.series.some((s, i) => s.label !== data.series[i].label))
        return chart(box, d, { y, x });
      data = d;
      box.vndData = [d.xs, ...d.series.map(s => s.ys)];
      u.setData(box.vndData);
      return this;
    },
  };
}
