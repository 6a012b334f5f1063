// SPDX-License-Identifier: MIT
// playground.test.js: the playground in headless Chromium (puppeteer-core,
// Debian's chromium; nothing is downloaded).
// Usage: node playground.test.js WEB_DIR CGRAD_BINARY OUT_DIR
// Checks: the page loads with no console error; a scripted run (autorun)
// reaches its accuracy floor and the same link gives the same numbers; the
// URL state round-trips through the controls; the downloaded checkpoint
// loads in the native `cgrad eval` with the page's test accuracy. Saves a
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
    await u.close();
    check(errors.length === 0, 'no console error with a CSV' + (errors.length ? ': ' + errors.join(' | ') : ''));
  } finally {
    await browser.close();
    server.close();
  }
  console.log(failures ? `${failures} check(s) failed` : 'all checks passed');
  process.exit(failures ? 1 : 0);
})().catch(e => { console.error(e); process.exit(1); });
