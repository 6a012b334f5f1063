// SPDX-License-Identifier: MIT
// datasets.js: the playground's 2-D data sets, drawn from a seeded PRNG so
// that a link (seed included) gives the same points on every machine.
// Points lie in [-1, 1]^2; labels are 0..classes-1. Used by the page (and
// by node, for a quick check: module.exports).
(function (root) {
  'use strict';

  // mulberry32: a small 32-bit PRNG, plenty for drawing points.
  function rng(seed) {
    let a = seed >>> 0;
    const next = function () {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    next.normal = function () {
      const u = 1 - next(), v = next(); // u in (0, 1]: log(u) finite
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    };
    return next;
  }

  const POINTS_PER_CLASS = 200;

  // Each generator: (classes, noise, r) -> {x: [x0, y0, x1, y1, ...], y: [labels]}.
  const generators = {
    // Two classes: a disk inside a ring.
    circle(classes, noise, r) {
      const x = [], y = [];
      for (let c = 0; c < 2; c++)
        for (let i = 0; i < POINTS_PER_CLASS; i++) {
          const rad = c === 0 ? 0.5 * Math.sqrt(r()) : 0.7 + 0.3 * r();
          const a = 2 * Math.PI * r();
          x.push(rad * Math.cos(a) + noise * r.normal(), rad * Math.sin(a) + noise * r.normal());
          y.push(c);
        }
      return {x, y, classes: 2};
    },
    // Two classes by the signs of the coordinates, kept off the axes.
    xor(classes, noise, r) {
      const x = [], y = [];
      for (let i = 0; i < 2 * POINTS_PER_CLASS; i++) {
        let a = 2 * r() - 1, b = 2 * r() - 1;
        a += a > 0 ? 0.05 : -0.05;
        b += b > 0 ? 0.05 : -0.05;
        y.push(a * b > 0 ? 0 : 1);
        x.push(a + noise * r.normal(), b + noise * r.normal());
      }
      return {x, y, classes: 2};
    },
    // Gaussian blobs, centres evenly on a circle of radius 0.6.
    blobs(classes, noise, r) {
      const x = [], y = [];
      for (let c = 0; c < classes; c++) {
        const a = 2 * Math.PI * c / classes, cx = 0.6 * Math.cos(a), cy = 0.6 * Math.sin(a);
        const sd = 0.12 + noise;
        for (let i = 0; i < POINTS_PER_CLASS; i++) {
          x.push(cx + sd * r.normal(), cy + sd * r.normal());
          y.push(c);
        }
      }
      return {x, y, classes};
    },
    // `classes` arms, each turning once around the centre as it widens.
    spiral(classes, noise, r) {
      const x = [], y = [];
      for (let c = 0; c < classes; c++)
        for (let i = 0; i < POINTS_PER_CLASS; i++) {
          const t = i / POINTS_PER_CLASS, rad = 0.05 + 0.9 * t;
          const a = 2 * Math.PI * (c / classes + t);
          x.push(rad * Math.cos(a) + noise * r.normal(), rad * Math.sin(a) + noise * r.normal());
          y.push(c);
        }
      return {x, y, classes};
    },
  };

  // Shuffle rows (features x: d per row, labels y) with r, split off the
  // first share for training.
  function split(x, y, d, classes, trainRatio, r) {
    const n = y.length, idx = [];
    for (let i = 0; i < n; i++) idx.push(i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [idx[i], idx[j]] = [idx[j], idx[i]];
    }
    const nTrain = Math.max(1, Math.min(n - 1, Math.round(n * trainRatio)));
    const part = (from, to) => {
      const px = new Float32Array(d * (to - from)), py = new Int32Array(to - from);
      for (let k = from; k < to; k++) {
        for (let f = 0; f < d; f++) px[d * (k - from) + f] = x[d * idx[k] + f];
        py[k - from] = y[idx[k]];
      }
      return {x: px, y: py, n: to - from};
    };
    return {train: part(0, nTrain), test: part(nTrain, n), d, classes};
  }

  // The data set of a state: shuffled, then split into train and test.
  function make(name, classes, noise, trainRatio, seed) {
    const gen = generators[name];
    if (!gen) throw new Error('unknown data set ' + name);
    const r = rng(seed);
    const all = gen(classes, noise, r);
    return split(all.x, all.y, 2, all.classes, trainRatio, r);
  }

  // The user's CSV: numeric features, the label in the last column (any
  // text; classes numbered in sorted order), an optional header. Two
  // features are scaled into [-1, 1] (so the plane shows them); more are
  // standardised with the training rows' mean and deviation, as cgrad
  // train does. Throws an Error naming the line for malformed input.
  function fromCsv(text, trainRatio, seed) {
    const lines = text.split(/\r?\n/).filter(l => l.trim() !== '');
    if (lines.length < 3) throw new Error('CSV: fewer than 3 rows');
    const rows = lines.map(l => l.split(',').map(f => f.trim()));
    const numeric = f => f !== '' && Number.isFinite(Number(f));
    let header = null;
    if (!rows[0].slice(0, -1).every(numeric)) header = rows.shift();
    const cols = rows[0].length, d = cols - 1;
    if (d < 1) throw new Error('CSV: need at least one feature and a label column');
    const x = [], labels = [];
    rows.forEach((row, i) => {
      const line = i + 1 + (header ? 1 : 0);
      if (row.length !== cols) throw new Error(`CSV line ${line}: ${row.length} fields, expected ${cols}`);
      for (let f = 0; f < d; f++) {
        if (!numeric(row[f])) throw new Error(`CSV line ${line}: '${row[f]}' is not a number`);
        x.push(Number(row[f]));
      }
      labels.push(row[d]);
    });
    const names = [...new Set(labels)];
    if (names.every(numeric)) names.sort((a, b) => Number(a) - Number(b)); else names.sort();
    if (names.length < 2 || names.length > 20)
      throw new Error(`CSV: ${names.length} classes in the last column (2 to 20 allowed)`);
    const y = labels.map(l => names.indexOf(l));
    const data = split(x, y, d, names.length, trainRatio, rng(seed));
    const all = [data.train, data.test];
    data.norm = {mean: [], invStd: []}; // the scaling, for the C export
    for (let f = 0; f < d; f++) {
      let a, b; // x' = (x - a) * b
      if (d === 2) {
        let lo = Infinity, hi = -Infinity;
        for (const p of all) for (let i = 0; i < p.n; i++) {
          lo = Math.min(lo, p.x[d * i + f]); hi = Math.max(hi, p.x[d * i + f]);
        }
        a = (lo + hi) / 2; b = hi > lo ? 1.9 / (hi - lo) : 1;
      } else {
        const t = data.train;
        let m = 0, v = 0;
        for (let i = 0; i < t.n; i++) m += t.x[d * i + f];
        m /= t.n;
        for (let i = 0; i < t.n; i++) v += (t.x[d * i + f] - m) ** 2;
        a = m; b = v > 0 ? 1 / Math.sqrt(v / t.n) : 1;
      }
      for (const p of all) for (let i = 0; i < p.n; i++) p.x[d * i + f] = (p.x[d * i + f] - a) * b;
      data.norm.mean.push(a);
      data.norm.invStd.push(b);
    }
    data.classNames = names;
    data.featureNames = header ? header.slice(0, d) : null;
    return data;
  }

  const api = {make, fromCsv, rng, names: Object.keys(generators)};
  if (typeof module !== 'undefined' && module.exports) module.exports = api;
  else root.cgData = api;
})(typeof self !== 'undefined' ? self : this);
