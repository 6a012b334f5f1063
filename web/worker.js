// SPDX-License-Identifier: MIT
// worker.js: trains in a Web Worker, so the page stays responsive. It owns
// the WebAssembly module (playground.c over libcgrad) and answers the
// page's messages:
//   {cmd: 'setup', data, model, batch, grid}  new data set and model
//   {cmd: 'play'} / {cmd: 'pause'} / {cmd: 'step'}
//   {cmd: 'run', steps}     train until `steps` in all, then report 'done'
//   {cmd: 'set', batch, lr} change the batch size or learning rate live
//   {cmd: 'save'}           the model as a cgrad checkpoint (bytes)
//   {cmd: 'export-c', mean, invStd}  the model as standalone C ({type: 'c-code', text})
//   {cmd: 'trial', id, model, steps, batch}  a tuning trial ({type: 'trial', acc...})
//   {cmd: 'race-init', kind, x0, y0, names, lr} / {cmd: 'race-step', steps, n}
//                           the optimizer race (answers {type: 'race', xy, loss})
// and posts {type: 'update' | 'done' | 'checkpoint' | 'error', ...}.
'use strict';
importScripts('playground.js');

const CHUNK = 25; // steps between two updates of the views
let M = null, ready = null;
let state = null; // {steps, batch, running, target, trainSeconds, started, grid, layers}

function check(rc, what) {
  if (rc !== 0) throw new Error(what + ': ' + M.UTF8ToString(M._pg_error()));
}

// A typed array copied into the module's heap; free with M._free.
function toHeap(arr) {
  const p = M._malloc(Math.max(arr.byteLength, 4));
  new Uint8Array(M.HEAPU8.buffer, p, arr.byteLength).set(new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength));
  return p;
}

function withString(s, fn) {
  const n = M.lengthBytesUTF8(s) + 1, p = M._malloc(n);
  M.stringToUTF8(s, p, n);
  try { return fn(p); } finally { M._free(p); }
}

// A new model and its optimizer: pg_init, then the optimizer again from its
// constructor with the page's hyperparameters (m.hyper: beta1, beta2, eps
// and wd, the weight decay: L2, decoupled for AdamW; NaN or absent: cgrad's
// default), then the learning-rate schedule (m.schedule, a spec as
// cg_lr_schedule_parse reads it, counted in steps) and warm-up.
function initModel(m, what) {
  const widths = toHeap(new Int32Array(m.layers.length ? m.layers : [0]));
  try {
    withString(m.optimizer, opt => check(M._pg_init(m.seed, m.layers.length, widths, m.activation,
                                                     m.batchNorm ? 1 : 0, m.dropout, opt, m.lr, m.l2),
                                         what));
  } finally { M._free(widths); }
  const h = m.hyper || {}, num = v => (typeof v === 'number' ? v : NaN);
  withString(m.optimizer, opt => check(M._pg_set_optimizer(opt, m.lr, num(h.wd), num(h.beta1),
                                                           num(h.beta2), num(h.eps)), what));
  withString(m.schedule || 'none', spec => check(M._pg_set_schedule(spec, m.warmup || 0),
                                                 what + ': schedule'));
}

function setup(msg) {
  const d = msg.data, m = msg.model;
  state = null; // until the new model is made
  const ptrs = [toHeap(d.train.x), toHeap(d.train.y), toHeap(d.test.x), toHeap(d.test.y)];
  try {
    check(M._pg_set_data(ptrs[0], ptrs[1], d.train.n, ptrs[2], ptrs[3], d.test.n, d.d, d.classes),
          'data');
  } finally { ptrs.forEach(p => M._free(p)); }
  initModel(m, 'model');
  state = {steps: 0, batch: msg.batch, running: false, target: 0, trainSeconds: 0,
           grid: msg.grid, layers: m.layers, classes: d.classes, d: d.d};
  report('update');
}

// Train/test metrics (and the last chunk's mean batch loss), and for 2-D
// data the decision regions and hidden units on the grid.
function report(type, batchLoss) {
  const C = state.classes;
  const out = M._malloc(8 * 2 + 4 * C * C * 2);
  const conf = out + 16;
  check(M._pg_evaluate(0, out, out + 8, conf), 'evaluate');
  const train = {loss: M.HEAPF64[out >> 3], acc: M.HEAPF64[(out >> 3) + 1]};
  check(M._pg_evaluate(1, out, out + 8, conf), 'evaluate');
  const test = {loss: M.HEAPF64[out >> 3], acc: M.HEAPF64[(out >> 3) + 1]};
  const confusion = Array.from(M.HEAP32.subarray(conf >> 2, (conf >> 2) + C * C));
  M._free(out);
  const point = {step: state.steps, trainLoss: train.loss, testLoss: test.loss,
                 trainAcc: train.acc, testAcc: test.acc};
  if (batchLoss !== undefined) point.batchLoss = batchLoss;
  const msg = {type, point, confusion, probs: null, hidden: [], running: state.running,
               lr: M._pg_lr(),
               stepsPerSecond: state.trainSeconds > 0 ? state.steps / state.trainSeconds : 0,
               trainSeconds: state.trainSeconds};
  if (state.d === 2) regions(msg);
  postMessage(msg);
}

// The decision regions over [-1, 1]^2 and each hidden unit's output there.
function regions(msg) {
  const g = state.grid, n = g.size * g.size, C = state.classes;
  const xs = new Float32Array(2 * n);
  for (let i = 0; i < g.size; i++)
    for (let j = 0; j < g.size; j++) {
      xs[2 * (i * g.size + j)] = -1 + 2 * (j + 0.5) / g.size;     // x: columns
      xs[2 * (i * g.size + j) + 1] = 1 - 2 * (i + 0.5) / g.size;  // y: rows, top = +1
    }
  const px = toHeap(xs), pp = M._malloc(4 * n * C);
  check(M._pg_predict(px, n, pp), 'predict');
  const probs = new Float32Array(M.HEAPF32.buffer.slice(pp, pp + 4 * n * C));
  const hidden = [];
  const ph = M._malloc(4 * n);
  state.layers.forEach((w, l) => {
    const units = [];
    for (let u = 0; u < w; u++) {
      check(M._pg_hidden(l, u, n, ph), 'hidden');
      units.push(new Float32Array(M.HEAPF32.buffer.slice(ph, ph + 4 * n)));
    }
    hidden.push(units);
  });
  M._free(ph), M._free(px), M._free(pp);
  msg.probs = probs;
  msg.hidden = hidden;
}

function train(steps) {
  const p = M._malloc(8), t0 = performance.now();
  try {
    check(M._pg_train(steps, state.batch, p), 'train');
    state.trainSeconds += (performance.now() - t0) / 1000;
    state.steps += steps;
    return M.HEAPF64[p >> 3];
  } finally { M._free(p); }
}

function tick() {
  if (!state || !state.running) return;
  try {
    let n = CHUNK;
    if (state.target) n = Math.min(n, state.target - state.steps);
    const loss = n > 0 ? train(n) : undefined;
    if (state.target && state.steps >= state.target) {
      state.running = false;
      state.target = 0;
      report('done', loss);
      return;
    }
    report('update', loss);
  } catch (e) {
    state.running = false;
    postMessage({type: 'error', message: String(e.message || e)});
    return;
  }
  setTimeout(tick, 0); // let the page's messages (pause) in between chunks
}

// Commands on the model after a setup that failed: the error it posted
// says why, and stays on the page.
const NEEDS_MODEL = ['play', 'pause', 'step', 'run', 'set', 'save', 'export-c'];

function handle(msg) {
  if (!state && NEEDS_MODEL.includes(msg.cmd)) return;
  switch (msg.cmd) {
  case 'setup': setup(msg); break;
  case 'play': if (!state.running) { state.running = true; setTimeout(tick, 0); } break;
  case 'pause': state.running = false; report('update'); break;
  case 'step': if (!state.running) report('update', train(1)); break;
  case 'run':
    state.target = msg.steps;
    if (!state.running) { state.running = true; setTimeout(tick, 0); }
    break;
  case 'set':
    if (msg.batch) state.batch = msg.batch;
    if (msg.lr) check(M._pg_set_lr(msg.lr), 'learning rate');
    break;
  case 'trial': {
    // One tuning trial on the data of the last 'setup': a fresh model with
    // these hyperparameters, `steps` updates, then the test metrics.
    const m = msg.model;
    initModel(m, 'trial');
    const p = M._malloc(16);
    try {
      let ok = M._pg_train(msg.steps, msg.batch, p) === 0;
      if (ok) ok = M._pg_evaluate(1, p, p + 8, 0) === 0;
      postMessage({type: 'trial', id: msg.id, lr: m.lr, l2: m.hyper.wd,
                   loss: ok ? M.HEAPF64[p >> 3] : NaN, acc: ok ? M.HEAPF64[(p >> 3) + 1] : 0});
    } finally { M._free(p); }
    break;
  }
  case 'race-init': {
    const names = msg.names.join('\0') + '\0', n = M.lengthBytesUTF8(names) + 1, p = M._malloc(n);
    M.stringToUTF8(names, p, n); // stops at no NUL: the string is copied whole
    try { check(M._pg_race_init(msg.kind, msg.x0, msg.y0, msg.names.length, p, msg.lr), 'race'); }
    finally { M._free(p); }
    break;
  }
  case 'race-step': {
    const k = msg.n, p = M._malloc(12 * k);
    try {
      check(M._pg_race_step(msg.steps, p, p + 8 * k), 'race');
      postMessage({type: 'race', xy: Array.from(M.HEAPF32.subarray(p >> 2, (p >> 2) + 2 * k)),
                   loss: Array.from(M.HEAPF32.subarray((p >> 2) + 2 * k, (p >> 2) + 3 * k))});
    } finally { M._free(p); }
    break;
  }
  case 'export-c': {
    // cg_export_c writes PREFIX.h and PREFIX.c into the in-memory file
    // system; the page gets one file: the header in place of its #include.
    const dir = '/export-c', prefix = 'playground_model';
    const d = state.d, norm = msg.mean ? [toHeap(new Float32Array(msg.mean)),
                                          toHeap(new Float32Array(msg.invStd))] : [0, 0];
    try {
      withString(dir, pd => withString(prefix, pp => check(M._pg_export_c(pd, pp, norm[0], norm[1]),
                                                           'export C')));
    } finally { if (norm[0]) norm.forEach(p => M._free(p)); }
    const h = M.FS.readFile(`${dir}/${prefix}.h`, {encoding: 'utf8'});
    const c = M.FS.readFile(`${dir}/${prefix}.c`, {encoding: 'utf8'});
    M.FS.unlink(`${dir}/${prefix}.h`);
    M.FS.unlink(`${dir}/${prefix}.c`);
    const include = `#include "${prefix}.h"\n`;
    if (!c.includes(include)) throw new Error('export C: no ' + include.trim() + ' in the code');
    const text = `/* ${prefix}.c: cgrad's C export of the playground's model (cg_export_c):\n` +
      ` * ${prefix}.h, then ${prefix}.c with the header in place of its #include.\n` +
      ` * ${d} inputs: ${msg.mean ? "the CSV's features as they are in the file" :
                           'the x and y of a point on the plane, in [-1, 1]'}. */\n` +
      h + '\n' + c.replace(include, '');
    postMessage({type: 'c-code', text});
    break;
  }
  case 'save': {
    const path = '/model.safetensors';
    withString(path, p => check(M._pg_save(p), 'save'));
    const bytes = M.FS.readFile(path);
    M.FS.unlink(path);
    postMessage({type: 'checkpoint', bytes}, [bytes.buffer]);
    break;
  }
  }
}

ready = createPlayground({locateFile: f => f}).then(mod => { M = mod; postMessage({type: 'ready'}); });
onmessage = e => ready.then(() => {
  try { handle(e.data); } catch (err) { postMessage({type: 'error', message: String(err.message || err)}); }
});
