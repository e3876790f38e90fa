// The runner's live dashboard: draws describe()'s graph once, then polls the snapshot that
// lib/metrics/snapshot.ts builds. The server computes rates and percentiles (the same numbers
// `streamrun top` prints), so this file only keeps the history and draws it.
/* global uPlot */

const pollMs = 1000;
/** Five minutes at one poll a second. */
const keptPoints = 300;
const palette = ['#2563eb', '#16a34a', '#d97706', '#dc2626', '#9333ea', '#0891b2', '#db2777', '#65a30d', '#7c3aed', '#ea580c'];
const stateful = new Set(['aggregate', 'windowedAggregate', 'sessionAggregate', 'slidingAggregate', 'materialize', 'join', 'streamJoin', 'tableJoin']);

/** What the page holds, on `window` so a test (or a curious user) can read it. */
const dashboard = {
  topology: null,
  snapshot: null,
  series: { time: [], consumedPerSecond: [], producedPerSecond: [], p50: [], p95: [], p99: [], lagTotal: [], dlqRecords: [], lagByPartition: {} },
};
window.streamrunDashboard = dashboard;

const number = new Intl.NumberFormat('en', { maximumFractionDigits: 1 });
const show = (value, unit = '') => (value === null || value === undefined ? '–' : `${number.format(value)}${unit}`);

// ---------------------------------------------------------------------------------------------
// Topology: one column per sub-topology, its nodes top to bottom in build order.

const svgNs = 'http://www.w3.org/2000/svg';
const layout = { top: 34, rowHeight: 62, nodeHeight: 42, gap: 70, margin: 12 };

function element(name, attributes, text) {
  const node = document.createElementNS(svgNs, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

function detailOf(node) {
  if (node.kind === 'source') return `source ← ${node.topic}`;
  if (node.kind === 'sink') return `sink → ${node.topic}`;
  if (node.store !== undefined) return `${node.kind} · store ${node.store}`;
  if (node.external !== undefined) return `${node.kind} · ${node.external}`;
  return node.kind;
}

function drawTopology(description) {
  const longest = Math.max(...description.subtopologies.flatMap((sub) => sub.nodes.flatMap((n) => [n.name.length, detailOf(n).length + 2])));
  const width = Math.max(190, Math.round(longest * 7.2) + 20);
  const rows = Math.max(...description.subtopologies.map((sub) => sub.nodes.length));
  const svg = element('svg', {
    width: layout.margin * 2 + description.subtopologies.length * (width + layout.gap) - layout.gap,
    height: layout.top + rows * layout.rowHeight + layout.margin,
    role: 'img',
    'aria-label': `topology ${description.appId}`,
  });
  const defs = element('defs', {});
  defs.append(marker());
  svg.append(defs);
  const at = new Map();
  description.subtopologies.forEach((sub, column) => {
    const x = layout.margin + column * (width + layout.gap);
    svg.append(element('text', { x, y: 18, class: 'column-title' }, `Sub-topology ${sub.id}`));
    sub.nodes.forEach((node, row) => at.set(node.name, { x, y: layout.top + row * layout.rowHeight, node }));
  });
  const edges = element('g', {});
  svg.append(edges);
  for (const { x, y, node } of at.values()) {
    for (const child of node.children) {
      const to = at.get(child);
      if (to !== undefined) edges.append(edge(x, y, to, width, false));
    }
    // A topic one sub-topology writes and another reads (a repartition): the records cross columns there.
    if (node.kind !== 'sink') continue;
    for (const reader of at.values()) {
      if (reader.node.kind === 'source' && reader.node.topic === node.topic) edges.append(edge(x, y, reader, width, true));
    }
  }
  for (const { x, y, node } of at.values()) {
    const group = element('g', { class: `node ${node.kind}${stateful.has(node.kind) ? ' stateful' : ''}`, 'data-name': node.name });
    group.append(element('title', {}, `${node.name} (${node.kind})`));
    group.append(element('rect', { x, y, width, height: layout.nodeHeight, rx: 6 }));
    group.append(element('text', { x: x + 10, y: y + 17, class: 'node-name' }, node.name));
    group.append(element('text', { x: x + 10, y: y + 33, class: 'node-detail' }, detailOf(node)));
    svg.append(group);
  }
  document.getElementById('topology').replaceChildren(svg);
}

function marker() {
  const arrow = element('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' });
  arrow.append(element('path', { d: 'M 0 0 L 10 5 L 0 10 z', fill: '#9ca3af' }));
  return arrow;
}

/** From the bottom of one node to the top of another; a detour on the right when it skips nodes or columns. */
function edge(x, y, to, width, topic) {
  const from = { x: x + width / 2, y: y + layout.nodeHeight };
  const end = { x: to.x + width / 2, y: to.y };
  let d;
  if (topic || to.x !== x) {
    const start = { x: x + width, y: y + layout.nodeHeight / 2 };
    const into = { x: to.x, y: to.y + layout.nodeHeight / 2 };
    const bend = Math.max(40, Math.abs(into.x - start.x) / 2);
    d = `M ${start.x} ${start.y} C ${start.x + bend} ${start.y}, ${into.x - bend} ${into.y}, ${into.x} ${into.y}`;
  } else if (to.y - y === layout.rowHeight) {
    d = `M ${from.x} ${from.y} L ${end.x} ${end.y}`;
  } else {
    const side = x + width;
    const reach = 14 + ((to.y - y) / layout.rowHeight) * 6;
    d = `M ${side} ${y + layout.nodeHeight / 2} C ${side + reach} ${y + layout.nodeHeight / 2}, ${side + reach} ${to.y + layout.nodeHeight / 2}, ${side} ${to.y + layout.nodeHeight / 2}`;
  }
  return element('path', { d, class: topic ? 'edge topic' : 'edge', 'marker-end': 'url(#arrow)' });
}

// ---------------------------------------------------------------------------------------------
// Charts

const charts = {};

function chartWidth(id) {
  return Math.max(300, document.getElementById(id).clientWidth);
}

function makeChart(id, title, unit, lines, data) {
  charts[id]?.destroy();
  const options = {
    title,
    width: chartWidth(id),
    height: 230,
    scales: { x: { time: true }, y: { range: (_u, min, max) => [0, Math.max(1, max * 1.1)] } },
    axes: [{}, { values: (_u, ticks) => ticks.map((t) => show(t, unit)), size: 70 }],
    // Values under the cursor would fill the legend with dashes until one hovers.
    legend: { live: false },
    series: [{}, ...lines.map(({ label, color }) => ({ label, stroke: color, width: 2, spanGaps: false }))],
  };
  charts[id] = new uPlot(options, data, document.getElementById(id));
}

const { series } = dashboard;
const fixedCharts = [
  ['chart-throughput', 'Throughput (records/s)', '/s', [['consumed', 'consumedPerSecond', palette[0]], ['produced', 'producedPerSecond', palette[1]]]],
  ['chart-latency', 'End-to-end latency (ms)', ' ms', [['p50', 'p50', palette[5]], ['p95', 'p95', palette[2]], ['p99', 'p99', palette[3]]]],
  ['chart-dlq', 'Dead-letter topics (records held)', '', [['DLQ records', 'dlqRecords', palette[4]]]],
];

/** One series per partition, which come and go with rebalances: the chart is made anew when they change. */
let lagKeys = '';
function lagChart() {
  const partitions = Object.keys(series.lagByPartition).sort();
  // An internal topic's name starts with the app id, shown in the header already.
  const prefix = `${dashboard.topology.appId}-`;
  const labelOf = (key) => (key.startsWith(prefix) ? key.slice(prefix.length) : key);
  const lines = [{ label: 'total', color: '#111827' }, ...partitions.map((key, i) => ({ label: labelOf(key), color: palette[i % palette.length] }))];
  const data = [series.time, series.lagTotal, ...partitions.map((key) => series.lagByPartition[key])];
  if (partitions.join('\n') !== lagKeys) {
    lagKeys = partitions.join('\n');
    makeChart('chart-lag', 'Consumer lag (records)', '', lines, data);
  } else {
    charts['chart-lag'].setData(data);
  }
}

function drawCharts() {
  for (const [id, title, unit, lines] of fixedCharts) {
    const data = [series.time, ...lines.map(([, key]) => series[key])];
    if (charts[id] === undefined) makeChart(id, title, unit, lines.map(([label, , color]) => ({ label, color })), data);
    else charts[id].setData(data);
  }
  lagChart();
}

window.addEventListener('resize', () => {
  for (const [id, chart] of Object.entries(charts)) chart.setSize({ width: chartWidth(id), height: 230 });
});

// ---------------------------------------------------------------------------------------------
// Snapshots

function keep(snapshot) {
  const { recent } = snapshot;
  const push = (list, value) => {
    list.push(value);
    if (list.length > keptPoints) list.shift();
  };
  const fresh = series.time.length;
  push(series.time, snapshot.time / 1000);
  push(series.consumedPerSecond, recent?.consumedPerSecond ?? null);
  push(series.producedPerSecond, recent?.producedPerSecond ?? null);
  for (const p of ['p50', 'p95', 'p99']) push(series[p], recent?.latency[p] ?? null);
  push(series.lagTotal, snapshot.lagTotal);
  push(series.dlqRecords, snapshot.dlqRecords);
  const seen = new Set();
  for (const { topic, partition, lag } of snapshot.lagByPartition) {
    const key = `${topic}-${partition}`;
    seen.add(key);
    // A partition newly assigned has no history: nulls up to now, so its line starts here.
    series.lagByPartition[key] ??= new Array(fresh).fill(null);
    push(series.lagByPartition[key], lag);
  }
  for (const [key, values] of Object.entries(series.lagByPartition)) {
    if (!seen.has(key)) push(values, null);
    if (values.every((v) => v === null)) delete series.lagByPartition[key];
  }
}

function drawTiles(snapshot) {
  const { recent } = snapshot;
  const breakers = snapshot.breakers.length === 0 ? 'none' : snapshot.breakers.map((b) => `<span class="breaker-${b.state}">${escape(b.name)}: ${b.state}</span>`).join('<br>');
  const tiles = [
    ['consumed', show(snapshot.consumed)],
    ['produced', show(snapshot.produced)],
    ['consumed / s', show(recent?.consumedPerSecond)],
    ['produced / s', show(recent?.producedPerSecond)],
    ['latency p50', show(recent?.latency.p50, ' ms')],
    ['latency p99', show(recent?.latency.p99, ' ms')],
    ['lag', show(snapshot.lagTotal)],
    ['DLQ records', show(snapshot.dlqRecords)],
    ['dead letters', show(snapshot.deadLetters)],
    ['errors', show(snapshot.errors)],
    ['partitions', `${show(snapshot.assignedPartitions)} <small>(${show(snapshot.pausedPartitions)} paused)</small>`],
    ['breakers', `<small>${breakers}</small>`],
  ];
  document.getElementById('tiles').innerHTML = tiles
    .map(([label, value]) => `<div class="tile" data-tile="${label}"><div class="label">${label}</div><div class="value">${value}</div></div>`)
    .join('');
  document.getElementById('window').textContent = recent === null ? '' : `rates and latency over the last ${number.format(recent.seconds)} s`;
}

function escape(text) {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
}

function setStatus(text, down) {
  const status = document.getElementById('status');
  status.textContent = text;
  status.classList.toggle('down', down);
}

async function getJson(path) {
  const response = await fetch(path, { cache: 'no-store' });
  if (!response.ok) throw new Error(`${path} answered ${response.status}`);
  return response.json();
}

async function poll() {
  try {
    dashboard.topology ??= await getJson('dashboard/topology');
    if (document.getElementById('topology').childElementCount === 0) {
      document.getElementById('app-id').textContent = dashboard.topology.appId;
      document.title = `streamrun: ${dashboard.topology.appId}`;
      drawTopology(dashboard.topology);
    }
    const snapshot = await getJson('dashboard/snapshot');
    dashboard.snapshot = snapshot;
    keep(snapshot);
    drawTiles(snapshot);
    drawCharts();
    setStatus(`updated ${new Date(snapshot.time).toLocaleTimeString()}`, false);
  } catch (error) {
    // The runner may be restarting: keep the history and keep asking.
    setStatus(`cannot reach the runner: ${error.message}`, true);
  }
  setTimeout(poll, pollMs);
}

poll();
