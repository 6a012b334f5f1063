// SPDX-License-Identifier: MIT
// ort_run.js MODEL.onnx INPUTS BATCH: run an ONNX model in ONNX Runtime
// (onnxruntime-node, from NODE_PATH) and print, per example, the argmax
// and every probability ("%.9g"-like), one line each, as test_onnx.sh
// compares them; a regression model's "predictions": the values alone. INPUTS is raw float32 [n, d] (little-endian, row-major)
// or an IDX images file (.gz or plain), whose bytes become floats 0..255.
// Rows go through the model BATCH at a time (the batch is symbolic).
'use strict';
const fs = require('fs');
const zlib = require('zlib');
const ort = require('onnxruntime-node');

async function main() {
    const [model, inputs, batchArg] = process.argv.slice(2);
    const session = await ort.InferenceSession.create(model);
    const inName = session.inputNames[0];
    const outName = session.outputNames.join();
    if (outName !== 'probabilities' && outName !== 'predictions')
        throw new Error('outputs: ' + outName);
    let raw = fs.readFileSync(inputs);
    if (raw[0] === 0x1f && raw[1] === 0x8b) raw = zlib.gunzipSync(raw);
    let x, d;
    if (raw.readUInt32BE(0) === 0x00000803) { // IDX, ubyte, 3 dims
        const n = raw.readUInt32BE(4);
        d = raw.readUInt32BE(8) * raw.readUInt32BE(12);
        x = Float32Array.from(raw.subarray(16, 16 + n * d));
    } else {
        d = Number(process.env.ORT_FEATURES);
        x = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
    }
    const n = x.length / d;
    const batch = Number(batchArg) || n;
    const out = [];
    for (let i = 0; i < n; i += batch) {
        const m = Math.min(batch, n - i);
        const t = new ort.Tensor('float32', x.subarray(i * d, (i + m) * d), [m, d]);
        const r = await session.run({[inName]: t});
        const p = r[outName].data, c = r[outName].dims[1];
        if (r[outName].dims[0] !== m) throw new Error('batch dimension ' + r[outName].dims);
        for (let k = 0; k < m; k++) {
            const row = Array.from(p.subarray(k * c, (k + 1) * c));
            let best = 0;
            for (let j = 1; j < c; j++) if (row[j] > row[best]) best = j;
            const values = row.map(v => v.toPrecision(9)).join(' ');
            out.push(outName === 'predictions' ? values : best + ' ' + values);
        }
    }
    fs.writeSync(1, out.join('\n') + '\n');
}
main().catch(e => { console.error('ort_run.js: ' + e.message); process.exit(1); });
