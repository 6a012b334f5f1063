// SPDX-License-Identifier: MIT
// latency.js MODEL.onnx IDX_IMAGES.gz RUNS: single-image latency of an
// ONNX model in ONNX Runtime (one thread, like an embedded caller): the
// median and the 10th percentile over RUNS runs, each a different test
// image, after 50 warm-up runs; prints "median_us p10_us".
'use strict';
const fs = require('fs');
const zlib = require('zlib');
const ort = require('onnxruntime-node');

(async () => {
    const [model, images, runsArg] = process.argv.slice(2);
    const runs = Number(runsArg) || 2000;
    const session = await ort.InferenceSession.create(model,
        {intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all'});
    const raw = zlib.gunzipSync(fs.readFileSync(images));
    const n = raw.readUInt32BE(4), d = raw.readUInt32BE(8) * raw.readUInt32BE(12);
    const x = Float32Array.from(raw.subarray(16, 16 + n * d));
    const name = session.inputNames[0];
    const times = [];
    for (let i = 0; i < runs + 50; i++) {
        const k = i % n;
        const t = new ort.Tensor('float32', x.subarray(k * d, (k + 1) * d), [1, d]);
        const t0 = process.hrtime.bigint();
        await session.run({[name]: t});
        const us = Number(process.hrtime.bigint() - t0) / 1000;
        if (i >= 50) times.push(us);
    }
    times.sort((a, b) => a - b);
    console.log(times[Math.floor(runs / 2)].toFixed(1) + ' ' + times[Math.floor(runs / 10)].toFixed(1));
})().catch(e => { console.error('latency.js: ' + e.message); process.exit(1); });
