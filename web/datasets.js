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

  // The data set of a state: shuffled, then split into train and test.
  function make(name, classes, noise, trainRatio, seed) {
    const gen = generators[name];
    if (!gen) throw new Error('unknown data set ' + name);
    const r = rng(seed);
    const all = gen(classes, noise, r);
    const n = all.y.length, idx = [];
    for (let i = 0; i < n; i++) idx.push(i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [idx[i], idx[j]] = [idx[j], idx[i]];
    }
    const nTrain = Math.max(1, Math.min(n - 1, Math.round(n * trainRatio)));
    const part = (from, to) => {
      const x = new Float32Array(2 * (to - from)), y = new Int32Array(to - from);
      for (let k = from; k < to; k++) {
        x[2 * (k - from)] = all.x[2 * idx[k]];
        x[2 * (k - from) + 1] = all.x[2 * idx[k] + 1];
        y[k - from] = all.y[idx[k]];
      }
      return {x, y, n: to - from};
    };
    return {train: part(0, nTrain), test: part(nTrain, n), d: 2, classes: all.classes};
  }

  const api = {make, rng, names: Object.keys(generators)};
  if (typeof module !== 'undefined' && module.exports) module.exports = api;
  else root.cgData = api;
})(typeof self !== 'undefined' ? self : this);
