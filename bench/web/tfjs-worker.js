// SPDX-License-Identifier: MIT
// tfjs-worker.js: the benchmark's TensorFlow.js side, WASM backend (SIMD,
// single-threaded: the page is not cross-origin isolated, like cgrad's
// single-threaded module). The usual tf.layers program: trainOnBatch per step.
'use strict';
importScripts('tf.min.js', 'tf-backend-wasm.min.js');
onmessage = async e => {
  try {
    const job = e.data, d = job.data, C = d.classes;
    tf.wasm.setWasmPaths('./');
    await tf.setBackend('wasm');
    await tf.ready();
    const layers = job.layers.map((u, i) => tf.layers.dense(
      Object.assign({units: u, activation: 'tanh'}, i === 0 ? {inputShape: [d.d]} : {})));
    const model = tf.sequential({layers: layers.concat([tf.layers.dense({units: C})])});
    model.compile({optimizer: tf.train.adam(job.lr),
                   loss: (y, logits) => tf.losses.softmaxCrossEntropy(y, logits)});
    // Batches in a shuffled order, epoch by epoch, as cgrad draws them.
    const n = d.train.n, order = Array.from({length: n}, (_, i) => i);
    let cursor = n;
    const bx = new Float32Array(job.batch * d.d), by = new Int32Array(job.batch);
    const step = async () => {
      if (cursor + job.batch > n) {
        for (let i = n - 1; i > 0; i--) { const j = Math.floor(Math.random() * (i + 1)); [order[i], order[j]] = [order[j], order[i]]; }
        cursor = 0;
      }
      for (let k = 0; k < job.batch; k++) {
        const r = order[cursor + k];
        for (let f = 0; f < d.d; f++) bx[k * d.d + f] = d.train.x[r * d.d + f];
        by[k] = d.train.y[r];
      }
      cursor += job.batch;
      const xs = tf.tensor2d(bx, [job.batch, d.d]);
      const ys = tf.tidy(() => tf.oneHot(tf.tensor1d(by, 'int32'), C));
      await model.trainOnBatch(xs, ys);
      xs.dispose(); ys.dispose();
    };
    for (let i = 0; i < job.warmup; i++) await step();
    const t0 = performance.now();
    for (let i = 0; i < job.steps; i++) await step();
    const secs = (performance.now() - t0) / 1000;
    const pred = tf.tidy(() => model.predict(tf.tensor2d(d.test.x, [d.test.n, d.d])).argMax(1).dataSync());
    let right = 0;
    for (let i = 0; i < d.test.n; i++) right += pred[i] === d.test.y[i];
    postMessage({steps_per_second: job.steps / secs, test_accuracy: right / d.test.n,
                 steps: job.warmup + job.steps, backend: tf.getBackend()});
  } catch (err) {
    postMessage({error: String(err.message || err)});
  }
};
