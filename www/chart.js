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
// A series with `band` ('low' or 'high', of series `of`: toSeries) is an
// end of that series' 95% interval: dashed in its colour, the space
// between the two ends filled.
export async function chart(box, data, { y = '', x = 't (s)' } = {}) {
  const uPlot = await lib();
  clear(box);
  if (!uPlot) {
    box.append(h('p', { class: 'error' }, 'The chart library (www/vendor/uPlot.esm.js) is missing: run `make www`.'));
    return null;
  }
  const width = Math.max(320, Math.min(box.clientWidth || 900, 1200));
  // a series' colour: its own, or its series' for an interval's end
  const main = data.series.map((s, i) => (s.band ? null : i)).filter(i => i !== null);
  const colour = (s, i) => COLORS[main.indexOf(s.band ? s.of : i) % COLORS.length];
  const bands = [];
  data.series.forEach((s, i) => {
    const hi = s.band === 'low' && data.series.findIndex(t => t.band === 'high' && t.of === s.of);
    if (hi > 0)   /* uPlot's indexes count the x series first */
      bands.push({ series: [hi + 1, i + 1], fill: `${colour(s, i)}22` });
  });
  const opts = {
    width, height: 300,
    scales: { x: { time: false } },
    axes: [{ label: x }, { label: y, size: 70, values: (u, vals) => vals.map(v => fmtNum(v)) }],
    cursor: { drag: { x: true, y: false } },
    series: [{ label: 't', value: (u, v) => (v === null || v === undefined ? '–' : fmtNum(v)) },
      ...data.series.map((s, i) => ({
        label: s.label, stroke: colour(s, i), width: s.band ? 1 : 1.5, spanGaps: false,
        dash: s.band ? [4, 4] : undefined,
        points: { show: !s.band && data.xs.length < 200 },
        value: (u, v) => (v === null || v === undefined ? '–' : fmtNum(v)),
      }))],
    bands,
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
