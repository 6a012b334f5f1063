// SPDX-License-Identifier: MIT
// cgrad-worker.js: the benchmark's cgrad side, through the playground's
// module (web/playground.c): pg_train(1) per step, like a JS loop would.
'use strict';
importScripts('playground.js');
onmessage = e => createPlayground({locateFile: f => f}).then(M => {
  const job = e.data, d = job.data;
  const heap = a => { const p = M._malloc(a.byteLength); M.HEAPU8.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), p); return p; };
  let rc = M._pg_set_data(heap(d.train.x), heap(d.train.y), d.train.n, heap(d.test.x), heap(d.test.y),
                          d.test.n, d.d, d.classes);
  const opt = M._malloc(8);
  M.stringToUTF8('adam', opt, 8);
  rc = rc || M._pg_init(1, job.layers.length, heap(new Int32Array(job.layers)), 2, 0, 0, opt, job.lr, 0);
  if (rc) { postMessage({error: M.UTF8ToString(M._pg_error())}); return; }
  const p = M._malloc(16);
  for (let i = 0; i < job.warmup; i++) M._pg_train(1, job.batch, p);
  const t0 = performance.now();
  for (let i = 0; i < job.steps; i++) M._pg_train(1, job.batch, p);
  const secs = (performance.now() - t0) / 1000;
  M._pg_evaluate(1, p, p + 8, 0);
  postMessage({steps_per_second: job.steps / secs, test_accuracy: M.HEAPF64[(p >> 3) + 1],
               steps: job.warmup + job.steps});
});
