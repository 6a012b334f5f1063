// SPDX-License-Identifier: MIT
// run.js: serve the bench site, open bench.html in headless Chromium, print its result.
'use strict';
const http = require('http'), fs = require('fs'), path = require('path');
const puppeteer = require('puppeteer-core');
const site = path.resolve(process.argv[2]), steps = process.argv[3] || '2000';
const TYPES = {'.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm'};
const server = http.createServer((req, res) => {
  const file = path.join(site, new URL(req.url, 'http://x').pathname);
  if (!file.startsWith(site + path.sep) || !fs.existsSync(file)) { res.writeHead(404); res.end(); return; }
  res.writeHead(200, {'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream'});
  fs.createReadStream(file).pipe(res);
});
server.listen(0, '127.0.0.1', async () => {
  const browser = await puppeteer.launch({executablePath: process.env.CG_CHROMIUM || '/usr/bin/chromium',
    headless: true, args: ['--headless', '--no-sandbox', '--disable-gpu']});
  let rc = 0;
  try {
    const page = await browser.newPage();
    page.on('console', m => { if (m.type() === 'error') console.error('console: ' + m.text()); });
    await page.goto(`http://127.0.0.1:${server.address().port}/bench.html?steps=${steps}`);
    await page.waitForFunction(() => document.body.dataset.state !== 'running',
                               {timeout: 600000, polling: 500});
    const text = await page.$eval('#result', e => e.textContent);
    console.log(text);
    rc = (await page.evaluate(() => document.body.dataset.state)) === 'done' ? 0 : 1;
  } finally {
    await browser.close();
    server.close();
  }
  process.exit(rc);
});
