// SPDX-License-Identifier: MIT
// app.js: the playground page. Its whole state is one object that lives in
// the URL (a link reproduces the run, seed included); the worker trains
// (worker.js), this file only draws what it reports.
'use strict';

const ACTIVATIONS = {linear: 0, relu: 1, tanh: 2, sigmoid: 3}; // cgrad.h's CG_*
const COLORS = [[31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189],
                [140, 86, 75]];
// Classes past the palette (a CSV may have up to 20): hues around the wheel.
for (let c = COLORS.length; c < 20; c++) {
  const h = (c * 137.5) % 360 / 60, x = 1 - Math.abs(h % 2 - 1);
  const rgb = [[1, x, 0], [x, 1, 0], [0, 1, x], [0, x, 1], [x, 0, 1], [1, 0, x]][Math.floor(h)];
  COLORS.push(rgb.map(v => Math.round(60 + 150 * v)));
}
const GRID = 64; // decision regions: GRID x GRID predictions

// Defaults, from principle: a 2-16-16-C tanh network (smooth boundaries for
// curved classes; two layers bend the plane enough for a 3-arm spiral) with
// Adam at 0.01 (its usual safe rate for a small net) on batches of 32.
// The optimizers' own hyperparameters default to cgrad's (include/cgrad.h):
// momentum's beta, RMSprop's decay rho, Adam's betas, eps, and AdamW's
// decoupled weight decay wd (torch.optim.AdamW's 0.01). The schedule is a
// spec as cg_lr_schedule_parse reads it, counted in steps here.
const DEFAULTS = {dataset: 'spiral', classes: 3, noise: 0.03, ratio: 0.5, seed: 1,
                  layers: '16,16', act: 'tanh', bn: 0, dropout: 0, l2: 0, opt: 'adam',
                  momentum: 0.9, rho: 0.9, beta1: 0.9, beta2: 0.999, eps: 1e-8, wd: 0.01,
                  lr: 0.01, schedule: 'none', warmup: 0, batch: 32, autorun: 0};
const NUMERIC = ['classes', 'noise', 'ratio', 'seed', 'bn', 'dropout', 'l2', 'lr', 'batch',
                 'autorun', 'momentum', 'rho', 'beta1', 'beta2', 'eps', 'wd', 'warmup'];
// Which optimizer uses which of them (the rest are neither shown nor in the URL).
const HYPERS = {sgd: ['l2'], momentum: ['momentum', 'l2'], rmsprop: ['rho', 'eps', 'l2'],
                adam: ['beta1', 'beta2', 'eps', 'l2'], adamw: ['beta1', 'beta2', 'eps', 'wd']};
const OPT_ONLY = ['momentum', 'rho', 'beta1', 'beta2', 'eps', 'wd', 'l2'];
// The schedule's kinds, each with its parameters' defaults (in steps).
const SCHEDULES = {none: [], step: [1000, 0.5], exp: [0.999], cosine: [3000, 0]};

function readState() {
  const q = new URLSearchParams(location.search), s = Object.assign({}, DEFAULTS);
  for (const k of Object.keys(DEFAULTS)) {
    if (!q.has(k)) continue;
    const v = q.get(k);
    if (NUMERIC.includes(k)) { const x = Number(v); if (Number.isFinite(x)) s[k] = x; }
    else s[k] = v;
  }
  if (!cgData.names.includes(s.dataset)) s.dataset = DEFAULTS.dataset;
  if (!(s.act in ACTIVATIONS)) s.act = DEFAULTS.act;
  if (!['sgd', 'momentum', 'rmsprop', 'adam', 'adamw'].includes(s.opt)) s.opt = DEFAULTS.opt;
  s.classes = Math.max(2, Math.min(6, Math.round(s.classes)));
  s.batch = Math.max(1, Math.min(256, Math.round(s.batch)));
  s.seed = Math.max(0, Math.round(s.seed));
  s.ratio = Math.max(0.1, Math.min(0.9, s.ratio));
  s.noise = Math.max(0, Math.min(0.3, s.noise));
  s.dropout = Math.max(0, Math.min(0.5, s.dropout));
  s.lr = Math.max(1e-4, Math.min(1, s.lr));
  for (const k of ['momentum', 'rho', 'beta1', 'beta2']) s[k] = Math.max(0, Math.min(0.9999, s[k]));
  s.eps = Math.max(1e-12, Math.min(1, s.eps));
  s.wd = Math.max(0, Math.min(1, s.wd));
  s.warmup = Math.max(0, Math.min(1e6, Math.round(s.warmup)));
  // A malformed schedule is kept as it is: cgrad's parser rejects it with a
  // message naming it (on the page, in #error).
  if (s.schedule === 'constant') s.schedule = 'none';
  return s;
}

// The state in the URL: only what differs from the defaults (short links).
function writeState() {
  const q = new URLSearchParams();
  for (const k of Object.keys(DEFAULTS))
    if (k !== 'autorun' && String(state[k]) !== String(DEFAULTS[k]) &&
        !(k === 'dataset' && state[k] === 'csv') &&
        !(OPT_ONLY.includes(k) && !HYPERS[state.opt].includes(k))) q.set(k, state[k]);
  if (state.autorun) q.set('autorun', state.autorun);
  const url = location.pathname + (q.toString() ? '?' + q : '');
  history.replaceState(null, '', url);
}

function widths(s) {
  return s.layers.split(/[ ,]+/).filter(w => w !== '').map(Number)
    .filter(w => Number.isInteger(w) && w > 0).map(w => Math.min(w, 256)).slice(0, 8);
}

const $ = id => document.getElementById(id);
let state = readState(), data = null, history_ = [], running = false, lastReport = null;
let csvText = null; // the user's CSV: on this page only, not in the URL
const worker = new Worker('worker.js');

function fmtLr(x) { return x >= 0.01 ? x.toPrecision(2) : x.toExponential(1); }

// Controls <-> state.
function showState() {
  $('dataset').value = state.dataset;
  $('classes').value = state.classes;
  $('classes').disabled = ['circle', 'xor', 'csv'].includes(state.dataset);
  $('classes-out').textContent = state.dataset === 'csv' && data ? data.classes :
    $('classes').disabled ? 2 : state.classes;
  $('noise').value = state.noise; $('noise-out').textContent = state.noise.toFixed(2);
  $('ratio').value = state.ratio; $('ratio-out').textContent = Math.round(state.ratio * 100) + '%';
  $('seed').value = state.seed;
  $('layers').value = state.layers;
  $('act').value = state.act;
  $('bn').checked = !!state.bn;
  $('dropout').value = state.dropout; $('dropout-out').textContent = state.dropout.toFixed(2);
  const l2exp = state.l2 > 0 ? Math.round(Math.log10(state.l2)) : -6;
  $('l2').value = l2exp; $('l2-out').textContent = state.l2 > 0 ? state.l2.toExponential(0) : 'none';
  $('opt').value = state.opt;
  for (const k of OPT_ONLY) $(k + '-row').hidden = !HYPERS[state.opt].includes(k);
  for (const k of ['momentum', 'rho', 'beta1', 'beta2']) $(k).value = state[k];
  $('eps').value = Math.round(Math.log10(state.eps)); $('eps-out').textContent = state.eps.toExponential(0);
  $('wd').value = state.wd > 0 ? Math.round(Math.log10(state.wd)) : -6;
  $('wd-out').textContent = state.wd > 0 ? state.wd.toExponential(0) : 'none';
  const [kind, ...params] = state.schedule.split(':');
  $('sched').value = kind in SCHEDULES ? kind : 'none';
  ['sched-a', 'sched-b'].forEach((id, i) => {
    const known = kind in SCHEDULES && i < SCHEDULES[kind].length;
    $(id + '-row').hidden = !known;
    if (known) $(id).value = params[i] !== undefined ? params[i] : SCHEDULES[kind][i];
  });
  const names = {step: ['every (steps)', 'factor'], exp: ['factor per step'],
                 cosine: ['over (steps)', 'down to']}[kind] || [];
  $('sched-a-name').textContent = names[0] || '';
  $('sched-b-name').textContent = names[1] || '';
  $('warmup').value = state.warmup;
  $('lr').value = Math.log10(state.lr); $('lr-out').textContent = fmtLr(state.lr);
  $('batch').value = Math.round(Math.log2(state.batch)); $('batch-out').textContent = state.batch;
}

function bind() {
  const rebuildOn = {dataset: e => e.value, classes: e => Number(e.value),
                     noise: e => Number(e.value), ratio: e => Number(e.value),
                     seed: e => Math.max(0, Math.round(Number(e.value) || 0)),
                     layers: e => e.value, act: e => e.value, bn: e => e.checked ? 1 : 0,
                     dropout: e => Number(e.value),
                     l2: e => Number(e.value) <= -6 ? 0 : Math.pow(10, Number(e.value)),
                     opt: e => e.value,
                     momentum: e => Number(e.value), rho: e => Number(e.value),
                     beta1: e => Number(e.value), beta2: e => Number(e.value),
                     eps: e => Math.pow(10, Number(e.value)),
                     wd: e => Number(e.value) <= -6 ? 0 : Math.pow(10, Number(e.value)),
                     warmup: e => Math.max(0, Math.round(Number(e.value) || 0))};
  for (const [id, get] of Object.entries(rebuildOn))
    $(id).addEventListener('change', e => { state[id] = get(e.target); changed(true); });
  // The schedule: its kind (with that kind's default parameters), then the
  // parameters, as one spec.
  $('sched').addEventListener('change', e => {
    state.schedule = [e.target.value, ...SCHEDULES[e.target.value]].join(':');
    changed(true);
  });
  for (const id of ['sched-a', 'sched-b'])
    $(id).addEventListener('change', () => {
      const kind = $('sched').value, n = SCHEDULES[kind].length;
      state.schedule = [kind, $('sched-a').value, $('sched-b').value].slice(0, n + 1).join(':');
      changed(true);
    });
  // Live: the learning rate and batch size change without a restart.
  $('lr').addEventListener('input', e => {
    state.lr = Number(Math.pow(10, Number(e.target.value)).toPrecision(2));
    changed(false); worker.postMessage({cmd: 'set', lr: state.lr});
  });
  $('batch').addEventListener('input', e => {
    state.batch = Math.pow(2, Number(e.target.value));
    changed(false); worker.postMessage({cmd: 'set', batch: state.batch});
  });
  for (const id of ['classes', 'noise', 'ratio', 'dropout', 'l2', 'wd', 'eps'])
    $(id).addEventListener('input', e => {
      const out = $(id + '-out'), v = Number(e.target.value);
      out.textContent = id === 'ratio' ? Math.round(v * 100) + '%' :
        ['l2', 'wd'].includes(id) && v <= -6 ? 'none' : ['l2', 'wd', 'eps'].includes(id) ? '1e' + v :
        id === 'classes' ? v : v.toFixed(2);
    });
  $('play').addEventListener('click', () => worker.postMessage({cmd: running ? 'pause' : 'play'}));
  $('step').addEventListener('click', () => worker.postMessage({cmd: 'step'}));
  $('reset').addEventListener('click', () => setup());
  $('save').addEventListener('click', () => worker.postMessage({cmd: 'save'}));
  // A CSV's scaling goes with the C code, which then takes its raw features.
  $('save-c').addEventListener('click', () => worker.postMessage(Object.assign({cmd: 'export-c'},
    data.norm ? {mean: data.norm.mean, invStd: data.norm.invStd} : {})));
  $('save-data').addEventListener('click', () => download(testCsv(), 'playground-test.csv', 'text/csv'));
  $('csv').addEventListener('change', e => {
    const f = e.target.files[0];
    if (!f) return;
    f.text().then(text => {
      try {
        cgData.fromCsv(text, state.ratio, state.seed); // throws on malformed input
      } catch (err) {
        $('csv-info').textContent = err.message;
        return;
      }
      csvText = text;
      $('dataset').querySelector('option[value=csv]').disabled = false;
      state.dataset = 'csv';
      changed(true);
    });
  });
}

function changed(rebuild) {
  state.autorun = 0;
  writeState();
  showState();
  if (rebuild) setup();
}

function setup() {
  if (state.dataset === 'csv' && csvText) {
    data = cgData.fromCsv(csvText, state.ratio, state.seed);
    $('csv-info').textContent = `${data.train.n + data.test.n} rows, ${data.d} features, ` +
      `${data.classes} classes` + (data.d === 2 ? '' : ' (no plane to draw: curves and confusion only)');
    showState();
  } else {
    if (state.dataset === 'csv') state.dataset = DEFAULTS.dataset;
    data = cgData.make(state.dataset, state.classes, state.noise, state.ratio, state.seed);
  }
  history_ = [];
  running = false;
  $('play').textContent = 'Play';
  worker.postMessage({cmd: 'setup', data, batch: state.batch, grid: {size: GRID}, model: modelOf(state)});
}

// What the worker needs to build the model and optimizer of a state
// (worker.js's initModel). The second parameter the tuner searches is L2,
// or AdamW's decoupled decay: `decay` overrides it.
function modelOf(s, lr, decay) {
  const adamw = s.opt === 'adamw', wd = decay !== undefined ? decay : adamw ? s.wd : s.l2;
  return {seed: s.seed, layers: widths(s), activation: ACTIVATIONS[s.act], batchNorm: !!s.bn,
          dropout: s.dropout, optimizer: s.opt, lr: lr !== undefined ? lr : s.lr,
          l2: adamw ? 0 : wd, schedule: s.schedule, warmup: s.warmup,
          hyper: {beta1: s.opt === 'momentum' ? s.momentum : s.opt === 'rmsprop' ? s.rho : s.beta1,
                  beta2: s.beta2, eps: s.eps, wd}};
}

function download(blobPart, name, type) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([blobPart], {type}));
  a.download = name;
  document.body.appendChild(a);
  a.click();
  setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
}

// The test rows as the model sees them (features as scaled here), label
// as the class index: what `cgrad eval --data` reads.
function testCsv() {
  const t = data.test, d = data.d;
  const lines = [Array.from({length: d}, (_, f) => 'x' + (f + 1)).join(',') + ',label'];
  for (let i = 0; i < t.n; i++) lines.push(Array.from(t.x.subarray(d * i, d * i + d)).join(',') + ',' + t.y[i]);
  return lines.join('\n') + '\n';
}

// --- drawing ---

function drawRegions(probs) {
  const cv = $('regions'), ctx = cv.getContext('2d'), C = data.classes;
  if (!probs) {
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, cv.width, cv.height);
    ctx.fillStyle = '#666';
    ctx.font = '14px sans-serif';
    ctx.fillText(`${data.d} features: no plane to draw`, 20, cv.height / 2);
    return;
  }
  const img = new ImageData(GRID, GRID);
  for (let k = 0; k < GRID * GRID; k++) {
    let r = 0, g = 0, b = 0;
    for (let c = 0; c < C; c++) {
      const p = probs[k * C + c];
      r += p * COLORS[c][0]; g += p * COLORS[c][1]; b += p * COLORS[c][2];
    }
    // Lightened towards white, so the points stand out.
    img.data[4 * k] = 255 - 0.55 * (255 - r);
    img.data[4 * k + 1] = 255 - 0.55 * (255 - g);
    img.data[4 * k + 2] = 255 - 0.55 * (255 - b);
    img.data[4 * k + 3] = 255;
  }
  const off = document.createElement('canvas');
  off.width = off.height = GRID;
  off.getContext('2d').putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(off, 0, 0, cv.width, cv.height);
  const X = v => (v + 1) / 2 * cv.width, Y = v => (1 - v) / 2 * cv.height;
  for (const [part, test] of [[data.train, false], [data.test, true]])
    for (let i = 0; i < part.n; i++) {
      const col = COLORS[part.y[i]];
      ctx.beginPath();
      ctx.arc(X(part.x[2 * i]), Y(part.x[2 * i + 1]), 3, 0, 2 * Math.PI);
      ctx.fillStyle = `rgb(${col[0]},${col[1]},${col[2]})`;
      ctx.strokeStyle = test ? '#000' : '#fff';
      ctx.lineWidth = test ? 1.2 : 0.8;
      ctx.fill();
      ctx.stroke();
    }
}

function drawCurve(id, keys, fixedMax) {
  const cv = $(id), ctx = cv.getContext('2d'), W = cv.width, H = cv.height, pad = 28;
  ctx.clearRect(0, 0, W, H);
  const pts = history_;
  let max = fixedMax || 0;
  if (!fixedMax) for (const p of pts) for (const k of keys) max = Math.max(max, p[k] || 0);
  if (!(max > 0)) max = 1;
  const last = pts.length ? pts[pts.length - 1].step : 1;
  ctx.strokeStyle = '#bbb'; ctx.lineWidth = 1;
  ctx.strokeRect(pad, 4, W - pad - 4, H - 20);
  ctx.fillStyle = '#555'; ctx.font = '10px sans-serif';
  ctx.fillText(max.toPrecision(2), 2, 12);
  ctx.fillText('0', 2, H - 16);
  ctx.fillText('step ' + last, W - 70, H - 4);
  const X = s => pad + (W - pad - 4) * s / Math.max(last, 1), Y = v => 4 + (H - 20) * (1 - v / max);
  keys.forEach((k, i) => {
    ctx.beginPath();
    ctx.strokeStyle = i === 0 ? '#1f77b4' : '#d62728';
    ctx.lineWidth = 1.5;
    pts.forEach((p, j) => { if (j === 0) ctx.moveTo(X(p.step), Y(p[k])); else ctx.lineTo(X(p.step), Y(p[k])); });
    ctx.stroke();
  });
}

function drawConfusion(conf) {
  const C = data.classes, t = $('confusion');
  let max = 1;
  for (const v of conf) max = Math.max(max, v);
  let html = '<tr><th></th>' + Array.from({length: C}, (_, c) => `<th>${c}</th>`).join('') + '</tr>';
  for (let i = 0; i < C; i++) {
    html += `<tr><th>${i}</th>`;
    for (let j = 0; j < C; j++) {
      const v = conf[i * C + j], a = (v / max * 0.8).toFixed(2), col = COLORS[j];
      html += `<td style="background: rgba(${col[0]},${col[1]},${col[2]},${a})">${v}</td>`;
    }
    html += '</tr>';
  }
  t.innerHTML = html;
}

function drawNeurons(hidden) {
  const box = $('neurons');
  const want = hidden.map(l => l.length).join(',');
  if (box.dataset.shape !== want) {
    box.innerHTML = '';
    hidden.forEach((units, l) => {
      const row = document.createElement('div');
      row.className = 'layer';
      row.innerHTML = `<span>layer ${l + 1}</span>`;
      units.forEach(() => { const c = document.createElement('canvas'); c.width = c.height = GRID; row.appendChild(c); });
      box.appendChild(row);
    });
    box.dataset.shape = want;
  }
  hidden.forEach((units, l) => {
    const canvases = box.children[l].querySelectorAll('canvas');
    units.forEach((v, u) => {
      let m = 1e-6;
      for (const x of v) m = Math.max(m, Math.abs(x));
      const img = new ImageData(GRID, GRID);
      for (let k = 0; k < v.length; k++) {
        const t = v[k] / m; // -1..1: blue .. white .. orange
        const c = t > 0 ? [255, 127, 14] : [31, 119, 180], a = Math.abs(t);
        img.data[4 * k] = 255 - a * (255 - c[0]);
        img.data[4 * k + 1] = 255 - a * (255 - c[1]);
        img.data[4 * k + 2] = 255 - a * (255 - c[2]);
        img.data[4 * k + 3] = 255;
      }
      canvases[u].getContext('2d').putImageData(img, 0, 0);
    });
  });
}

function legend() {
  $('legend').innerHTML = Array.from({length: data.classes}, (_, c) =>
    `<span><i style="background: rgb(${COLORS[c].join(',')})"></i>` +
    `${data.classNames ? data.classNames[c] : 'class ' + c}</span>`).join(' ');
}

function metricsOf(r) {
  return {steps: r.point.step, train_loss: r.point.trainLoss, train_accuracy: r.point.trainAcc,
          test_loss: r.point.testLoss, test_accuracy: r.point.testAcc,
          lr: r.lr, steps_per_second: r.stepsPerSecond, train_seconds: r.trainSeconds,
          dataset: state.dataset, classes: data.classes, seed: state.seed};
}

// --- the optimizer race ---

// Each surface: f (the same formula as playground.c's), the view and the start.
const SURFACES = [
  {f: (x, y) => x * x + y ** 4 / 4 - y * y / 2, x: [-1.5, 1.5], y: [-1.5, 1.5], start: [1, 1e-3],
   flat: 'the saddle at the centre'},
  {f: (x, y) => 1 - Math.exp(-x * x - y * y), x: [-3, 3], y: [-3, 3], start: [2.2, 1.4],
   flat: 'the plateau around the edges'},
  {f: (x, y) => x * x / 20 + 2 * y * y, x: [-10, 10], y: [-2, 2], start: [-9, 1.5],
   flat: 'the floor of the ravine'},
];
const RACERS = ['sgd', 'momentum', 'rmsprop', 'adam'];
const RACE_COLORS = ['#222', '#d62728', '#2ca02c', '#1f77b4'];
const RACE_STEPS = 1500;
let race = {paths: [], steps: 0, running: false, loss: []};

function raceLr() { return Number(Math.pow(10, Number($('race-lr').value)).toPrecision(2)); }

function raceReset() {
  const s = SURFACES[Number($('race-surface').value)];
  race = {paths: RACERS.map(() => [s.start.slice()]), steps: 0, running: false, loss: []};
  $('race-go').textContent = 'Race';
  $('race-lr-out').textContent = fmtLr(raceLr());
  worker.postMessage({cmd: 'race-init', kind: Number($('race-surface').value), x0: s.start[0],
                      y0: s.start[1], names: RACERS, lr: raceLr()});
  drawRace();
}

function raceTick() {
  if (!race.running) return;
  worker.postMessage({cmd: 'race-step', steps: 5, n: RACERS.length});
}

function onRace(r) {
  race.steps += 5;
  RACERS.forEach((_, i) => race.paths[i].push([r.xy[2 * i], r.xy[2 * i + 1]]));
  race.loss = r.loss;
  drawRace();
  if (race.steps >= RACE_STEPS) { race.running = false; $('race-go').textContent = 'Race'; }
  if (race.running) setTimeout(raceTick, 16);
}

function drawRace() {
  const s = SURFACES[Number($('race-surface').value)];
  const cv = $('race'), ctx = cv.getContext('2d'), W = cv.width, H = cv.height, N = 90;
  const X = v => (v - s.x[0]) / (s.x[1] - s.x[0]) * W, Y = v => (s.y[1] - v) / (s.y[1] - s.y[0]) * H;
  // f on a grid, shaded by rank of height; the flattest tenth hatched.
  const vals = [], grads = [];
  for (let i = 0; i < N; i++)
    for (let j = 0; j < N; j++) {
      const x = s.x[0] + (j + 0.5) / N * (s.x[1] - s.x[0]), y = s.y[1] - (i + 0.5) / N * (s.y[1] - s.y[0]);
      const h = 1e-4 * (s.x[1] - s.x[0]);
      vals.push(s.f(x, y));
      grads.push(Math.hypot((s.f(x + h, y) - s.f(x - h, y)) / (2 * h), (s.f(x, y + h) - s.f(x, y - h)) / (2 * h)));
    }
  let lo = Infinity, hi = -Infinity;
  for (const v of vals) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  const flat = grads.slice().sort((a, b) => a - b)[Math.floor(grads.length / 10)];
  const img = new ImageData(N, N);
  vals.forEach((v, k) => {
    const t = Math.sqrt((v - lo) / (hi - lo || 1)), g = grads[k] <= flat ? 0.85 : 1;
    img.data[4 * k] = (235 - 120 * t) * g;
    img.data[4 * k + 1] = (240 - 60 * t) * g;
    img.data[4 * k + 2] = 250 * g;
    img.data[4 * k + 3] = 255;
  });
  const off = document.createElement('canvas');
  off.width = off.height = N;
  off.getContext('2d').putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(off, 0, 0, W, H);
  ctx.fillStyle = '#555';
  ctx.font = '11px sans-serif';
  ctx.fillText('darker: flattest tenth (' + s.flat + ')', 6, H - 6);
  // Paths drawn from the last racer to the first, dashed and wider first, so
  // one that follows another's path stays visible under it.
  for (let i = RACERS.length - 1; i >= 0; i--) {
    const p = race.paths[i] || [];
    ctx.beginPath();
    ctx.strokeStyle = RACE_COLORS[i];
    ctx.lineWidth = 1.5 + (RACERS.length - 1 - i) * 0.8;
    ctx.setLineDash(i === 0 ? [] : [6, 3 + i]);
    p.forEach(([x, y], k) => k ? ctx.lineTo(X(x), Y(y)) : ctx.moveTo(X(x), Y(y)));
    ctx.stroke();
    if (p.length) {
      const [x, y] = p[p.length - 1];
      ctx.setLineDash([]);
      ctx.beginPath();
      ctx.arc(X(x), Y(y), 4, 0, 2 * Math.PI);
      ctx.fillStyle = RACE_COLORS[i];
      ctx.fill();
    }
  }
  ctx.setLineDash([]);
  $('race-steps').textContent = race.steps;
  $('race-table').innerHTML = RACERS.map((n, i) =>
    `<tr><td><i style="background:${RACE_COLORS[i]}"></i>${n}</td>` +
    `<td>${race.loss[i] !== undefined ? race.loss[i].toFixed(4) : ''}</td></tr>`).join('');
}

$('race-surface').addEventListener('change', raceReset);
$('race-lr').addEventListener('change', raceReset);
$('race-lr').addEventListener('input', () => { $('race-lr-out').textContent = fmtLr(raceLr()); });
$('race-reset').addEventListener('click', raceReset);
$('race-go').addEventListener('click', () => {
  if (race.steps >= RACE_STEPS) raceReset();
  race.running = !race.running;
  $('race-go').textContent = race.running ? 'Pause' : 'Race';
  raceTick();
});

// --- tuning: random or grid search, coarse to fine, in a second worker
// (its own WebAssembly instance, so the playground's model is left alone) ---

const TUNE_RANGE = {lr: [-4, 0], l2: [-6, -1]}; // log10 bounds
let tune = {range: JSON.parse(JSON.stringify(TUNE_RANGE)), trials: [], pending: 0, round: 0};
let tuneWorker = null, tuneReady = null;

function tuneStart() {
  if (!tuneWorker) {
    tuneWorker = new Worker('worker.js');
    tuneReady = new Promise(ok => { tuneWorker.onmessage = e => { if (e.data.type === 'ready') ok(); }; });
  }
  tuneReady.then(() => {
    tuneWorker.onmessage = e => onTrial(e.data);
    const n = Math.max(4, Math.min(100, Number($('tune-trials').value) || 16));
    const steps = Math.max(50, Math.min(5000, Number($('tune-steps').value) || 500));
    const r = tune.range, pts = [];
    if ($('tune-mode').value === 'grid') {
      const k = Math.max(2, Math.round(Math.sqrt(n)));
      for (let i = 0; i < k; i++)
        for (let j = 0; j < k; j++)
          pts.push([r.lr[0] + (r.lr[1] - r.lr[0]) * (i + 0.5) / k, r.l2[0] + (r.l2[1] - r.l2[0]) * (j + 0.5) / k]);
    } else {
      const rnd = cgData.rng(state.seed * 7919 + tune.round);
      for (let i = 0; i < n; i++)
        pts.push([r.lr[0] + (r.lr[1] - r.lr[0]) * rnd(), r.l2[0] + (r.l2[1] - r.l2[0]) * rnd()]);
    }
    tune.round++;
    tuneWorker.postMessage({cmd: 'setup', data, batch: state.batch, grid: {size: 2},
                            model: modelOf(state)});
    tune.pending = pts.length;
    document.body.dataset.tune = 'running';
    pts.forEach(([lr, l2], id) => tuneWorker.postMessage({cmd: 'trial', id, steps, batch: state.batch,
      model: modelOf(state, Math.pow(10, lr), Math.pow(10, l2))}));
  });
}

function onTrial(r) {
  if (r.type === 'error') {
    $('tune-best').textContent = 'error: ' + r.message;
    document.body.dataset.tune = 'error';
    return;
  }
  if (r.type !== 'trial') return;
  tune.trials.push(r);
  tune.pending--;
  drawTune();
  if (tune.pending === 0) document.body.dataset.tune = 'done';
}

// Coarse to fine: the next round searches the box around the best quarter
// of the trials so far, widened by a third on each side (log scale).
function tuneZoom() {
  const best = tune.trials.slice().sort((a, b) => b.acc - a.acc || a.loss - b.loss)
    .slice(0, Math.max(2, Math.ceil(tune.trials.length / 4)));
  if (!best.length) return;
  for (const k of ['lr', 'l2']) {
    const v = best.map(t => Math.log10(t[k]));
    let lo = Math.min(...v), hi = Math.max(...v);
    const pad = Math.max((hi - lo) / 3, 0.1);
    tune.range[k] = [Math.max(TUNE_RANGE[k][0], lo - pad), Math.min(TUNE_RANGE[k][1], hi + pad)];
  }
  drawTune();
  tuneStart();
}

function drawTune() {
  const cv = $('tune'), ctx = cv.getContext('2d'), W = cv.width, H = cv.height, pad = 34;
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, W, H);
  const R = TUNE_RANGE, X = v => pad + (v - R.lr[0]) / (R.lr[1] - R.lr[0]) * (W - pad - 8),
        Y = v => H - pad - (v - R.l2[0]) / (R.l2[1] - R.l2[0]) * (H - pad - 8);
  ctx.strokeStyle = '#ccc';
  ctx.strokeRect(X(tune.range.lr[0]), Y(tune.range.l2[1]), X(tune.range.lr[1]) - X(tune.range.lr[0]),
                 Y(tune.range.l2[0]) - Y(tune.range.l2[1]));
  ctx.fillStyle = '#555';
  ctx.font = '10px sans-serif';
  for (let e = R.lr[0]; e <= R.lr[1]; e++) ctx.fillText('1e' + e, X(e) - 8, H - pad + 14);
  for (let e = R.l2[0]; e <= R.l2[1]; e++) ctx.fillText('1e' + e, 2, Y(e) + 3);
  ctx.fillText('learning rate', W / 2 - 20, H - 4);
  ctx.save(); ctx.translate(10, H / 2); ctx.rotate(-Math.PI / 2);
  ctx.fillText(state.opt === 'adamw' ? 'weight decay (decoupled)' : 'L2', 0, 0); ctx.restore();
  let best = null;
  for (const t of tune.trials) {
    const a = Math.max(0, Math.min(1, t.acc));
    ctx.beginPath();
    ctx.arc(X(Math.log10(t.lr)), Y(Math.log10(t.l2)), 5, 0, 2 * Math.PI);
    ctx.fillStyle = `hsl(${Math.round(120 * a * a)}, 70%, 45%)`; // red (0) .. green (1)
    ctx.fill();
    if (!best || t.acc > best.acc) best = t;
  }
  if (best) {
    ctx.beginPath();
    ctx.arc(X(Math.log10(best.lr)), Y(Math.log10(best.l2)), 9, 0, 2 * Math.PI);
    ctx.strokeStyle = '#000';
    ctx.stroke();
    $('tune-best').textContent = `${tune.trials.length} trials; best: test accuracy ` +
      `${best.acc.toFixed(3)} at lr ${best.lr.toPrecision(2)}, ${state.opt === 'adamw' ? 'weight decay' : 'L2'} ${best.l2.toExponential(1)}`;
  }
}

$('tune-go').addEventListener('click', tuneStart);
$('tune-zoom').addEventListener('click', tuneZoom);
$('tune-reset').addEventListener('click', () => {
  tune = {range: JSON.parse(JSON.stringify(TUNE_RANGE)), trials: [], pending: 0, round: 0};
  $('tune-best').textContent = '';
  drawTune();
});

worker.onmessage = e => {
  const r = e.data;
  if (r.type === 'race') { onRace(r); return; }
  if (r.type === 'ready') {
    setup();
    raceReset();
    drawTune();
    if (state.autorun > 0) {
      document.body.dataset.state = 'running';
      worker.postMessage({cmd: 'run', steps: state.autorun});
    } else {
      document.body.dataset.state = 'ready';
    }
    return;
  }
  if (r.type === 'error') {
    $('error').textContent = r.message;
    document.body.dataset.state = 'error';
    running = false;
    $('play').textContent = 'Play';
    return;
  }
  if (r.type === 'c-code') { download(r.text, 'playground_model.c', 'text/x-csrc'); return; }
  if (r.type === 'checkpoint') { download(r.bytes, 'playground.safetensors', 'application/octet-stream'); return; }
  running = r.running;
  $('play').textContent = running ? 'Pause' : 'Play';
  if (history_.length && history_[history_.length - 1].step === r.point.step) history_.pop();
  history_.push(r.point);
  lastReport = r;
  $('steps').textContent = r.point.step;
  $('speed').textContent = Math.round(r.stepsPerSecond);
  $('lr-now').textContent = fmtLr(r.lr);
  legend();
  drawRegions(r.probs);
  drawCurve('loss', ['trainLoss', 'testLoss']);
  drawCurve('acc', ['trainAcc', 'testAcc'], 1);
  drawConfusion(r.confusion);
  drawNeurons(r.hidden);
  $('metrics').textContent = JSON.stringify(metricsOf(r));
  if (r.type === 'done') document.body.dataset.state = 'done';
};
worker.onerror = e => { $('error').textContent = 'worker: ' + e.message; document.body.dataset.state = 'error'; };

showState();
bind();
// A link's hyperparameter that its optimizer does not use is said so, not
// dropped unseen (the URL is rewritten without it on the next change).
{
  const q = new URLSearchParams(location.search);
  const unused = OPT_ONLY.filter(k => q.has(k) && !HYPERS[state.opt].includes(k));
  if (unused.length) $('notice').textContent = `Not used by ${state.opt}: ${unused.join(', ')}.`;
}
