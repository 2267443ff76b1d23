// topology.js — the tenant's own virtual network (GET /v1/topology) as
// SVG: VMs, appliances, their ports and links, and the diagnosis's
// capture points marked where they are.  Only virtual names: the API
// gives nothing physical.
import { s } from './dom.js';

const W = 150, H = 56, DX = 340, DY = 130, M = 40;

// Where a trace captures: {node, port} or {link, node} (the link's end at
// that node).
function placeOf(topo, tr) {
  const node = topo.nodes.find(n => n.name === tr.node);
  if (node) {
    const port = tr.point === 'input' ? node.input : tr.point === 'output' ? node.output : null;
    return { node: node.name, port: port || (node.ports[0] && node.ports[0].name) };
  }
  const link = topo.links.find(l => l.name === tr.node);
  if (link) {
    const end = link.ends.find(e => e.node === tr.point) || link.ends[0];
    return { node: end.node, port: end.port, link: link.name };
  }
  return null;
}

export function drawTopology(topo, traces) {
  // levels: breadth first from the nodes with fewest links
  const adj = new Map(topo.nodes.map(n => [n.name, []]));
  for (const l of topo.links) {
    const [a, b] = l.ends;
    if (adj.has(a.node) && adj.has(b.node)) {
      adj.get(a.node).push(b.node);
      adj.get(b.node).push(a.node);
    }
  }
  const level = new Map();
  const order = topo.nodes.map((n, i) => [n, i]).sort(([a, i], [b, j]) =>
    adj.get(a.name).length - adj.get(b.name).length || i - j).map(([n]) => n);
  for (const start of order) {
    if (level.has(start.name)) continue;
    level.set(start.name, 0);
    const q = [start.name];
    while (q.length) {
      const n = q.shift();
      for (const m of adj.get(n))
        if (!level.has(m)) { level.set(m, level.get(n) + 1); q.push(m); }
    }
  }
  const rows = new Map();
  const pos = new Map();
  for (const n of topo.nodes) {
    const lv = level.get(n.name);
    const row = rows.get(lv) || 0;
    rows.set(lv, row + 1);
    pos.set(n.name, { x: M + lv * DX, y: M + 30 + row * DY });
  }
  // ports: left when linked to a lower level, right to a higher, else below
  const portPos = new Map();
  for (const n of topo.nodes) {
    const p = pos.get(n.name);
    const sides = { left: [], right: [], bottom: [] };
    for (const port of n.ports) {
      const l = topo.links.find(l => l.ends.some(e => e.node === n.name && e.port === port.name));
      const other = l && l.ends.find(e => !(e.node === n.name && e.port === port.name));
      const side = !other ? 'bottom' : level.get(other.node) < level.get(n.name) ? 'left'
        : level.get(other.node) > level.get(n.name) ? 'right' : 'bottom';
      sides[side].push(port);
    }
    for (const [side, ports] of Object.entries(sides))
      ports.forEach((port, i) => {
        const f = (i + 1) / (ports.length + 1);
        portPos.set(`${n.name}.${port.name}`, side === 'left' ? { x: p.x, y: p.y + f * H, side }
          : side === 'right' ? { x: p.x + W, y: p.y + f * H, side }
            : { x: p.x + f * W, y: p.y + H, side });
      });
  }
  const maxX = Math.max(...[...pos.values()].map(p => p.x)) + W + M + 60;
  const maxY = Math.max(...[...pos.values()].map(p => p.y)) + H + M + 40;
  const svg = s('svg', { class: 'topology', viewBox: `0 0 ${maxX} ${maxY}`, width: maxX, height: maxY,
                         role: 'img', 'aria-label': 'your virtual network' });
  for (const l of topo.links) {
    const a = portPos.get(`${l.ends[0].node}.${l.ends[0].port}`);
    const b = portPos.get(`${l.ends[1].node}.${l.ends[1].port}`);
    if (!a || !b) continue;
    svg.append(s('g', { class: 'link' },
      s('title', {}, `link ${l.name}: ${l.ends[0].node}.${l.ends[0].port} – ${l.ends[1].node}.${l.ends[1].port}`),
      s('line', { x1: a.x, y1: a.y, x2: b.x, y2: b.y }),
      s('text', { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 - 6, 'text-anchor': 'middle', class: 'link-name' }, l.name)));
  }
  for (const n of topo.nodes) {
    const p = pos.get(n.name);
    const g = s('g', { class: `node ${n.kind}` },
      s('title', {}, `${n.kind === 'vm' ? 'VM' : 'appliance'} ${n.name}`),
      s('rect', { x: p.x, y: p.y, width: W, height: H, rx: n.kind === 'vm' ? 4 : 16 }),
      s('text', { x: p.x + W / 2, y: p.y + 24, 'text-anchor': 'middle', class: 'node-name' }, n.name),
      s('text', { x: p.x + W / 2, y: p.y + 42, 'text-anchor': 'middle', class: 'node-kind' },
        n.kind === 'vm' ? 'VM' : 'appliance'));
    for (const port of n.ports) {
      const pp = portPos.get(`${n.name}.${port.name}`);
      const dx = pp.side === 'left' ? -6 : pp.side === 'right' ? 6 : 0;
      const anchor = pp.side === 'left' ? 'end' : pp.side === 'right' ? 'start' : 'middle';
      g.append(s('circle', { cx: pp.x, cy: pp.y, r: 4, class: 'port' }),
        s('text', { x: pp.x + dx, y: pp.y + 16, 'text-anchor': anchor, class: 'port-name' },
          port.ip ? `${port.name} ${port.ip}` : port.name));
    }
    svg.append(g);
  }
  // capture points: a marker per trace at its port, stacked
  const stack = new Map();
  for (const tr of traces || []) {
    const at = placeOf(topo, tr);
    if (!at) continue;
    const pp = portPos.get(`${at.node}.${at.port}`);
    if (!pp) continue;
    const k = `${at.node}.${at.port}`;
    const i = stack.get(k) || 0;
    stack.set(k, i + 1);
    const y = pp.y - 26 - i * 18 - (pp.side === 'bottom' ? -40 : 0);
    const x = pp.side === 'left' ? pp.x - 14 : pp.side === 'right' ? pp.x + 14 : pp.x;
    svg.append(s('g', { class: 'capture', 'data-trace': tr.name },
      s('title', {}, `capture point ${tr.name}: ${tr.point} of ${tr.node}, ${tr.direction}, ${tr.pattern || 'every packet'}`),
      s('line', { x1: pp.x, y1: pp.y, x2: x, y2: y + 4 }),
      s('circle', { cx: x, cy: y, r: 6 }),
      s('text', { x: x + 10, y: y + 4 }, tr.name)));
  }
  return svg;
}
