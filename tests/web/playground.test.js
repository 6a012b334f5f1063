// SPDX-License-Identifier: MIT
// playground.test.js: the playground in headless Chromium (puppeteer-core,
// Debian's chromium; nothing is downloaded).
// Usage: node playground.test.js WEB_DIR CGRAD_BINARY OUT_DIR
// Checks: the page loads with no console error; a scripted run (autorun)
// reaches its accuracy floor and the same link gives the same numbers; the
// URL state round-trips through the controls; the downloaded checkpoint
// loads in the native `cgrad eval` with the page's test accuracy; the
// downloaded C code compiles (cc -std=c99) and classifies the test points
// (and a CSV's raw rows) as the page does; the optimizers' hyperparameters,
// the learning-rate schedule and warm-up round-trip through the URL, reach
// the optimizer (the reported rate) and change training. Saves a
// screenshot of the trained playground (OUT_DIR/playground.png).
'use strict';
const http = require('http');
const fs = require('fs');
const path = require('path');
const {execFileSync} = require('child_process');
const puppeteer = require('puppeteer-core');

const [webArg, cgrad, outDir] = process.argv.slice(2);
const webDir = path.resolve(webArg);
const TYPES = {'.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css',
               '.wasm': 'application/wasm'};
let failures = 0;
function check(cond, what) {
  console.log((cond ? 'ok   ' : 'FAIL ') + what);
  if (!cond) failures++;
}

// A static server over WEB_DIR, on a free port.
function serve() {
  const server = http.createServer((req, res) => {
    const name = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const file = path.join(webDir, name === '/' ? 'index.html' : name);
    if (!file.startsWith(webDir + path.sep) || !fs.existsSync(file)) {
      res.writeHead(404);
      res.end();
      return;
    }
    res.writeHead(200, {'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream'});
    fs.createReadStream(file).pipe(res);
  });
  return new Promise(ok => server.listen(0, '127.0.0.1', () => ok(server)));
}

// A page that records console errors and uncaught exceptions.
async function open(browser, url, errors) {
  const page = await browser.newPage();
  await page.setViewport({width: 1280, height: 900});
  page.on('console', m => { if (m.type() === 'error') errors.push('console: ' + m.text()); });
  page.on('pageerror', e => errors.push('page: ' + e.message));
  page.on('requestfailed', r => errors.push('request failed: ' + r.url()));
  await page.goto(url, {waitUntil: 'load'});
  return page;
}

// The page's state once it is one of `states`, or whatever it is after ms.
async function waitState(page, states, ms) {
  try {
    await page.waitForFunction(s => s.includes(document.body.dataset.state),
                               {timeout: ms, polling: 200}, states);
  } catch (e) {
    console.log('     timed out waiting for ' + states.join('/'));
  }
  return page.evaluate(() => document.body.dataset.state);
}

// A download by clicking `button`, into dir; its path, or null after 10 s.
async function downloadBy(page, button, dir, name) {
  fs.mkdirSync(dir, {recursive: true});
  const file = path.join(dir, name);
  fs.rmSync(file, {force: true});
  const cdp = await page.target().createCDPSession();
  await cdp.send('Browser.setDownloadBehavior', {behavior: 'allow', downloadPath: dir});
  await page.click(button);
  for (let i = 0; i < 100 && !fs.existsSync(file); i++) await new Promise(ok => setTimeout(ok, 100));
  return fs.existsSync(file) ? file : null;
}

// The downloaded C code: compiled alone (cc -std=c99 -c, warnings as
// errors), then with a tiny main that prints the class it predicts for each
// CSV row on stdin (its first N_INPUTS fields). The predictions, or null.
function predictWithC(cfile, rows) {
  const dir = path.dirname(cfile), flags = ['-std=c99', '-Wall', '-Wextra', '-Werror'];
  try {
    execFileSync('cc', [...flags, '-pedantic', '-c', cfile, '-o', path.join(dir, 'playground_model.o')],
                 {encoding: 'utf8', stdio: 'pipe'});
    const main = path.join(dir, 'predict_main.c'), exe = path.join(dir, 'predict');
    fs.writeFileSync(main, `#include <stdio.h>
#include <stdlib.h>
#include "playground_model.c"
int main(void) {
    char line[4096];
    while (fgets(line, sizeof line, stdin)) {
        float x[PLAYGROUND_MODEL_N_INPUTS];
        char *p = line;
        for (int i = 0; i < PLAYGROUND_MODEL_N_INPUTS; i++) {
            char *end;
            x[i] = strtof(p, &end);
            if (end == p) return 1;
            p = end + (*end == ',');
        }
        printf("%d\\n", playground_model_predict(x, NULL));
    }
    return 0;
}
`);
    execFileSync('cc', [...flags, main, '-o', exe, '-lm'], {encoding: 'utf8', stdio: 'pipe'});
    const out = execFileSync(exe, [], {input: rows.join('\n') + '\n', encoding: 'utf8'});
    return out.trim().split('\n').map(Number);
  } catch (e) {
    console.log('     C code: ' + (e.stderr || e.message).slice(0, 2000));
    return null;
  }
}

async function autorun(browser, base, query, errors) {
  const page = await open(browser, base + '?' + query, errors);
  const state = await waitState(page, ['done', 'error'], 300000);
  const error = await page.$eval('#error', e => e.textContent);
  const metrics = state === 'done' ? JSON.parse(await page.$eval('#metrics', e => e.textContent)) : null;
  return {page, state, error, metrics};
}

(async () => {
  fs.mkdirSync(outDir, {recursive: true});
  const server = await serve();
  const base = `http://127.0.0.1:${server.address().port}/index.html`;
  const browser = await puppeteer.launch({
    executablePath: process.env.CG_CHROMIUM || '/usr/bin/chromium', headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage']});
  try {
    // 1. Loads clean, with the defaults in the controls and the URL left alone.
    let errors = [];
    let page = await open(browser, base, errors);
    const s1 = await waitState(page, ['ready', 'error'], 60000);
    check(s1 === 'ready', `page loads and the worker starts (state ${s1})`);
    check(await page.evaluate(() => location.search) === '', 'default URL stays clean');
    // The optimizer race on the saddle (lr 0.01, from (1, 0.001)): after 300
    // steps Adam has left the saddle for a minimum (f = -1/4) while plain
    // gradient descent still crawls on the plateau around it (f near 0).
    await page.click('#race-go');
    await page.waitForFunction(() => Number(document.getElementById('race-steps').textContent) >= 300,
                               {timeout: 60000, polling: 200});
    await page.click('#race-go');
    const race = await page.$$eval('#race-table tr', rows => Object.fromEntries(rows.map(r =>
      [r.cells[0].textContent, Number(r.cells[1].textContent)])));
    check(race.adam < -0.2 && race.sgd > -0.05,
          'race: Adam leaves the saddle, SGD does not yet: ' + JSON.stringify(race));
    // Tuning: a 3 x 3 grid of (lr, L2), then a finer random round around
    // the best; each trial a dot, the best named.
    await page.select('#tune-mode', 'grid');
    await page.$eval('#tune-trials', e => { e.value = '9'; });
    await page.$eval('#tune-steps', e => { e.value = '300'; });
    await page.click('#tune-go');
    await page.waitForFunction(() => /^9 trials/.test(document.getElementById('tune-best').textContent) &&
                               document.body.dataset.tune === 'done', {timeout: 120000, polling: 200});
    await page.select('#tune-mode', 'random');
    await page.click('#tune-zoom');
    await page.waitForFunction(() => /^18 trials/.test(document.getElementById('tune-best').textContent) &&
                               document.body.dataset.tune === 'done', {timeout: 120000, polling: 200});
    const best = await page.$eval('#tune-best', e => e.textContent);
    const bestAcc = Number((/test accuracy ([0-9.]+)/.exec(best) || [])[1]);
    check(bestAcc >= 0.8, 'tuning: 9 grid + 9 zoomed random trials, best test accuracy >= 0.8: ' + best);
    await page.close();
    check(errors.length === 0, 'no console error on load' + (errors.length ? ': ' + errors.join(' | ') : ''));

    // 2. The scripted run of the issue: a 3-arm spiral, 3000 steps, defaults.
    errors = [];
    const q = 'dataset=spiral&classes=3&seed=1&autorun=3000';
    const r = await autorun(browser, base, q, errors);
    check(r.state === 'done', `autorun 3000 finishes (state ${r.state} ${r.error})`);
    const m = r.metrics || {};
    console.log('     metrics ' + JSON.stringify(m));
    check(m.steps === 3000, `steps = 3000 (${m.steps})`);
    check(m.test_accuracy >= 0.95, `test accuracy >= 0.95 (${m.test_accuracy})`);
    check(m.train_accuracy >= 0.95, `train accuracy >= 0.95 (${m.train_accuracy})`);
    check(m.train_loss >= 0 && m.train_loss < 0.2, `train loss < 0.2 (${m.train_loss})`);
    check(m.steps_per_second > 0, `steps_per_second reported (${m.steps_per_second})`);
    await r.page.screenshot({path: path.join(outDir, 'playground.png'), fullPage: true});

    // 3. The checkpoint and the test set, downloaded, in the native CLI.
    const dl = path.join(outDir, 'downloads');
    fs.rmSync(dl, {recursive: true, force: true});
    fs.mkdirSync(dl);
    const cdp = await r.page.target().createCDPSession();
    await cdp.send('Browser.setDownloadBehavior', {behavior: 'allow', downloadPath: dl});
    await r.page.click('#save');
    await r.page.click('#save-data');
    const ckpt = path.join(dl, 'playground.safetensors'), csv = path.join(dl, 'playground-test.csv');
    for (let i = 0; i < 100 && !(fs.existsSync(ckpt) && fs.existsSync(csv)); i++)
      await new Promise(ok => setTimeout(ok, 100));
    check(fs.existsSync(ckpt) && fs.existsSync(csv), 'checkpoint and test CSV downloaded');
    if (fs.existsSync(ckpt) && fs.existsSync(csv)) {
      let out = '';
      try {
        out = execFileSync(cgrad, ['eval', '--model', ckpt, '--data', csv, '--json'],
                           {encoding: 'utf8'});
      } catch (e) {
        out = '';
        console.log('     cgrad eval: ' + (e.stderr || e.message));
      }
      const line = out.trim().split('\n').pop() || '{}';
      let ev = {};
      try { ev = JSON.parse(line); } catch (e) { console.log('     not JSON: ' + line); }
      console.log('     cgrad eval ' + line.slice(0, 200));
      const n = fs.readFileSync(csv, 'utf8').trim().split('\n').length - 1;
      check(Math.abs(ev.accuracy - m.test_accuracy) <= 1 / n + 1e-9,
            `cgrad eval accuracy ${ev.accuracy} = the page's ${m.test_accuracy} (within one of ${n})`);
    }
    // The model as standalone C: compiles, and classifies the test points as
    // the page did (its test accuracy; a point on a boundary may round the
    // other way in float, hence the one-point slack as for cgrad eval).
    const cfile = await downloadBy(r.page, '#save-c', dl, 'playground_model.c');
    check(cfile !== null, 'C code downloaded');
    if (cfile && fs.existsSync(csv)) {
      const lines = fs.readFileSync(csv, 'utf8').trim().split('\n').slice(1);
      const pred = predictWithC(cfile, lines);
      check(pred !== null && pred.length === lines.length, 'the C code compiles (cc -std=c99 -c, -Werror) and runs');
      if (pred && pred.length === lines.length) {
        const acc = pred.filter((p, i) => p === Number(lines[i].split(',').pop())).length / lines.length;
        check(Math.abs(acc - m.test_accuracy) <= 1 / lines.length + 1e-9,
              `the C code's test accuracy ${acc} = the page's ${m.test_accuracy}`);
      }
    }
    await r.page.close();
    check(errors.length === 0, 'no console error in the scripted run' + (errors.length ? ': ' + errors.join(' | ') : ''));

    // 4. A link reproduces its run exactly (seed, data, weights, batches).
    errors = [];
    const q2 = 'dataset=blobs&classes=4&noise=0.1&layers=8,8&act=relu&bn=1&dropout=0.1&l2=0.0001&opt=momentum&lr=0.05&batch=16&seed=7&autorun=200';
    const a = await autorun(browser, base, q2, errors);
    const b = await autorun(browser, base, q2, errors);
    check(a.state === 'done' && b.state === 'done', 'two runs of the same link finish');
    check(a.metrics && b.metrics && a.metrics.train_loss === b.metrics.train_loss &&
          a.metrics.test_accuracy === b.metrics.test_accuracy,
          `same link, same numbers (${a.metrics && a.metrics.train_loss} / ${b.metrics && b.metrics.train_loss})`);
    // 5. URL -> controls -> URL.
    const controls = await a.page.evaluate(() => ({
      dataset: document.getElementById('dataset').value, classes: document.getElementById('classes').value,
      noise: document.getElementById('noise').value, layers: document.getElementById('layers').value,
      act: document.getElementById('act').value, bn: document.getElementById('bn').checked,
      dropout: document.getElementById('dropout').value, opt: document.getElementById('opt').value,
      lrOut: document.getElementById('lr-out').textContent, batchOut: document.getElementById('batch-out').textContent,
      seed: document.getElementById('seed').value, l2Out: document.getElementById('l2-out').textContent}));
    check(JSON.stringify(controls) === JSON.stringify({dataset: 'blobs', classes: '4', noise: '0.1',
      layers: '8,8', act: 'relu', bn: true, dropout: '0.1', opt: 'momentum', lrOut: '0.050',
      batchOut: '16', seed: '7', l2Out: '1e-4'}), 'controls show the URL state: ' + JSON.stringify(controls));
    await a.page.select('#opt', 'adamw');
    const search = await a.page.evaluate(() => location.search);
    const params = new URLSearchParams(search);
    check(params.get('opt') === 'adamw' && params.get('dataset') === 'blobs' && params.get('classes') === '4' &&
          params.get('seed') === '7' && params.get('layers') === '8,8' && params.get('lr') === '0.05' &&
          !params.has('autorun'), 'a changed control is written to the URL, the rest kept: ' + search);
    const c = await open(browser, base + search, errors);
    await waitState(c, ['ready', 'error'], 60000);
    check(await c.$eval('#opt', e => e.value) === 'adamw', 'the written URL opens with the same state');
    await Promise.all([a.page.close(), b.page.close(), c.close()]);
    check(errors.length === 0, 'no console error in the URL tests' + (errors.length ? ': ' + errors.join(' | ') : ''));

    // 7. The optimizers' hyperparameters and the learning-rate schedule.
    errors = [];
    // URL -> controls: AdamW's betas, eps and decoupled decay shown (the
    // others hidden), the cosine schedule and warm-up in their controls, and
    // the rate the optimizer reports is the schedule's: after 100 steps of
    // cosine over 400 from 0.01 down to 0.001 (warm-up over by step 50),
    // 0.001 + 0.009 (1 + cos(pi / 4)) / 2.
    const hq = 'opt=adamw&beta1=0.8&beta2=0.99&eps=1e-6&wd=0.001&schedule=cosine:400:0.001&warmup=50&seed=3';
    const h = await autorun(browser, base, hq + '&autorun=100', errors);
    check(h.state === 'done', `hyperparameter run finishes (state ${h.state} ${h.error})`);
    const hc = await h.page.evaluate(() => {
      const g = id => document.getElementById(id);
      return {beta1: g('beta1').value, beta2: g('beta2').value, epsOut: g('eps-out').textContent,
              wdOut: g('wd-out').textContent, sched: g('sched').value, a: g('sched-a').value,
              b: g('sched-b').value, warmup: g('warmup').value,
              shown: ['momentum', 'rho', 'beta1', 'beta2', 'eps', 'l2', 'wd'].filter(k => !g(k + '-row').hidden)};
    });
    check(JSON.stringify(hc) === JSON.stringify({beta1: '0.8', beta2: '0.99', epsOut: '1e-6', wdOut: '1e-3',
      sched: 'cosine', a: '400', b: '0.001', warmup: '50', shown: ['beta1', 'beta2', 'eps', 'wd']}),
          'controls show the hyperparameters and schedule of the URL, only AdamW\'s: ' + JSON.stringify(hc));
    const want = 0.001 + 0.009 * (1 + Math.cos(Math.PI / 4)) / 2;
    check(h.metrics && Math.abs(h.metrics.lr - want) < 1e-6 * want,
          `cosine schedule applied per step: lr after 100 steps ${h.metrics && h.metrics.lr} (${want})`);
    // Controls -> URL: momentum keeps the schedule, drops AdamW's settings
    // and shows its own beta; a changed beta goes into the URL, which opens
    // with it.
    await h.page.select('#opt', 'momentum');
    await h.page.$eval('#momentum', e => { e.value = '0.5'; e.dispatchEvent(new Event('change')); });
    const hs = new URLSearchParams(await h.page.evaluate(() => location.search));
    check(hs.get('opt') === 'momentum' && hs.get('momentum') === '0.5' &&
          hs.get('schedule') === 'cosine:400:0.001' && hs.get('warmup') === '50' && hs.get('seed') === '3' &&
          !['beta1', 'beta2', 'eps', 'wd'].some(k => hs.has(k)),
          'URL: the optimizer\'s own hyperparameters only, the schedule kept: ' + hs);
    check(await h.page.evaluate(() => ['momentum', 'l2'].every(k => !document.getElementById(k + '-row').hidden) &&
          ['rho', 'beta1', 'beta2', 'eps', 'wd'].every(k => document.getElementById(k + '-row').hidden)),
          'momentum shows its beta and L2 only');
    await h.page.select('#sched', 'step');
    const hs2 = new URLSearchParams(await h.page.evaluate(() => location.search));
    check(hs2.get('schedule') === 'step:1000:0.5', 'a schedule kind brings its default parameters: ' + hs2);
    const hp = await open(browser, base + '?' + hs2, errors);
    await waitState(hp, ['ready', 'error'], 60000);
    check(JSON.stringify(await hp.evaluate(() => ['opt', 'momentum', 'sched', 'sched-a', 'sched-b', 'warmup']
      .map(id => document.getElementById(id).value))) === JSON.stringify(['momentum', '0.5', 'step', '1000', '0.5', '50']),
          'the written URL opens with the same optimizer, beta and schedule');
    check(await hp.$eval('#notice', e => e.textContent) === '', 'no notice for a link that uses all its settings');
    // A hyperparameter the link's optimizer does not use is named on the page.
    const hn = await open(browser, base + '?opt=sgd&beta1=0.5&rho=0.8', errors);
    await waitState(hn, ['ready', 'error'], 60000);
    const notice = await hn.$eval('#notice', e => e.textContent);
    check(notice === 'Not used by sgd: rho, beta1.', 'unused hyperparameters in a link are named: ' + notice);
    await Promise.all([h.page.close(), hp.close(), hn.close()]);
    // Linear warm-up over 100 steps: after 50, the next step's rate is 51/100 of 0.01.
    const w = await autorun(browser, base, 'warmup=100&autorun=50', errors);
    check(w.metrics && Math.abs(w.metrics.lr - 0.0051) < 1e-9, `warm-up: lr after 50 of 100 steps ${w.metrics && w.metrics.lr} (0.0051)`);
    await w.page.close();
    // Each setting changes training: the same seed and batches, another loss.
    const pairs = [['', 'beta1=0.5'], ['', 'beta2=0.9'], ['', 'schedule=step:50:0.1'], ['', 'warmup=150'],
                   ['opt=momentum', 'opt=momentum&momentum=0.5'], ['opt=rmsprop', 'opt=rmsprop&rho=0.5'],
                   ['opt=rmsprop', 'opt=rmsprop&eps=0.1'], ['opt=adamw', 'opt=adamw&wd=0.1'],
                   ['opt=sgd&lr=0.1', 'opt=sgd&lr=0.1&schedule=exp:0.99'],
                   ['opt=sgd&lr=0.1', 'opt=sgd&lr=0.1&schedule=cosine:200']];
    const losses = {};
    for (const q of new Set(pairs.flat())) {
      const x = await autorun(browser, base, (q ? q + '&' : '') + 'seed=1&autorun=200', errors);
      losses[q] = x.metrics ? x.metrics.train_loss : NaN;
      await x.page.close();
    }
    for (const [a0, b0] of pairs)
      check(Number.isFinite(losses[a0]) && Number.isFinite(losses[b0]) && losses[a0] !== losses[b0],
            `${b0} trains differently from ${a0 || 'the defaults'} (train loss ${losses[b0]} vs ${losses[a0]})`);
    // A schedule cgrad cannot parse is an error on the page, naming it.
    const bad = await autorun(browser, base, 'schedule=linear:5&autorun=10', []);
    check(bad.state === 'error' && bad.error.includes('linear:5'), 'a bad schedule is reported: ' + bad.error);
    await bad.page.close();
    check(errors.length === 0, 'no console error with hyperparameters' + (errors.length ? ': ' + errors.join(' | ') : ''));

    // 6. The user's CSV: 3 features (no plane: curves and confusion), 4
    // classes named by text, a header; trains from Play.
    errors = [];
    const csvPath = path.join(outDir, 'upload.csv');
    const rows = ['a,b,c,kind'];
    let seed = 5;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let i = 0; i < 400; i++) {
      const k = i % 4;
      rows.push([k & 1, k >> 1, 0.5].map(v => (v + 0.3 * (rnd() - 0.5)).toFixed(4)).join(',') +
                ',' + ['ant', 'bee', 'cat', 'dog'][k]);
    }
    fs.writeFileSync(csvPath, rows.join('\n') + '\n');
    const u = await open(browser, base, errors);
    await waitState(u, ['ready', 'error'], 60000);
    const input = await u.$('#csv');
    await input.uploadFile(csvPath);
    await u.waitForFunction(() => document.getElementById('csv-info').textContent.includes('rows'),
                            {timeout: 30000, polling: 200});
    check(/400 rows, 3 features, 4 classes/.test(await u.$eval('#csv-info', e => e.textContent)),
          'CSV upload: 400 rows, 3 features, 4 classes');
    check(await u.evaluate(() => document.getElementById('dataset').value) === 'csv', 'data set is the CSV');
    await u.click('#play');
    await u.waitForFunction(() => JSON.parse(document.getElementById('metrics').textContent || '{}').steps >= 500,
                            {timeout: 120000, polling: 200});
    await u.click('#play');
    const um = JSON.parse(await u.$eval('#metrics', e => e.textContent));
    check(um.test_accuracy >= 0.9, `CSV: test accuracy >= 0.9 after ${um.steps} steps (${um.test_accuracy})`);
    check(await u.$$eval('#confusion td', t => t.length) === 16, 'CSV: 4 x 4 confusion matrix');
    check(!new URLSearchParams(await u.evaluate(() => location.search)).has('dataset'),
          'CSV data stay out of the URL');
    // The C code of a CSV's model takes the file's raw features (the page's
    // scaling goes with it): its accuracy over all 400 rows lies between the
    // page's train and test accuracies (it is their weighted mean).
    const ucfile = await downloadBy(u, '#save-c', path.join(outDir, 'downloads-csv'), 'playground_model.c');
    const raw = rows.slice(1), upred = ucfile && predictWithC(ucfile, raw);
    check(upred !== null && upred.length === raw.length, 'CSV: the C code compiles and runs on the raw rows');
    if (upred && upred.length === raw.length) {
      const names = ['ant', 'bee', 'cat', 'dog'];
      const acc = upred.filter((p, i) => names[p] === raw[i].split(',').pop()).length / raw.length;
      // The metrics of the model as exported: the worker answered the
      // download after its last report, so these are its numbers.
      const ue = JSON.parse(await u.$eval('#metrics', e => e.textContent));
      const lo = Math.min(ue.train_accuracy, ue.test_accuracy), hi = Math.max(ue.train_accuracy, ue.test_accuracy);
      check(acc >= lo - 1 / raw.length - 1e-9 && acc <= hi + 1 / raw.length + 1e-9,
            `CSV: the C code's accuracy on the raw rows ${acc} is the page's (train ${ue.train_accuracy}, test ${ue.test_accuracy})`);
    }
    await u.close();
    check(errors.length === 0, 'no console error with a CSV' + (errors.length ? ': ' + errors.join(' | ') : ''));
  } finally {
    await browser.close();
    server.close();
  }
  console.log(failures ? `${failures} check(s) failed` : 'all checks passed');
  process.exit(failures ? 1 : 0);
})().catch(e => { console.error(e); process.exit(1); });
