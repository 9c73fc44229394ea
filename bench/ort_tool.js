// ort_tool.js - ONNX Runtime (npm onnxruntime-node 1.30.0, CPU) for
// bench/zoo.sh: one thread (intra- and inter-op), sequential execution,
// graphOptimizationLevel 'all', batch 1, as bench/ort_bench.js.
//
//   node ort_tool.js bench MODEL.onnx X.npy RUNS
//       median and minimum latency of RUNS calls on the one input X
//       (after 20 warm-up calls): "median_us M min_us N runs R"
//   node ort_tool.js ranges MODEL.onnx DIR
//       runs the model on every DIR/*.npy (sorted) and prints, as JSON,
//       {output name: [min, max]} over all runs of every float output:
//       bench/make_qdq.py exposes a model's intermediate tensors as outputs
//       and measures their ranges this way.
//
// Single-input models; .npy inputs are '<f4' C-order (NumPy's float32).
// NODE_PATH must reach onnxruntime-node (scripts/fetch-ort prints it).
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

function die(msg) {
  console.error(`ort_tool: error: ${msg}`);
  process.exit(1);
}

function readF32Npy(file) {
  const buf = fs.readFileSync(file);
  if (buf.toString('latin1', 0, 6) !== '\x93NUMPY') die(`${file}: not a .npy file`);
  const v1 = buf[6] === 1;
  const hlen = v1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = v1 ? 10 : 12;
  const header = buf.toString('latin1', start, start + hlen);
  if (!/'descr':\s*'<f4'/.test(header) || /'fortran_order':\s*True/.test(header))
    die(`${file}: need a C-order float32 array, not ${header.trim()}`);
  const dims = /'shape':\s*\(([^)]*)\)/.exec(header)[1].split(',').map((s) => s.trim()).filter((s) => s).map(Number);
  const off = start + hlen;
  const data = new Float32Array(buf.buffer.slice(buf.byteOffset + off, buf.byteOffset + buf.length));
  return new ort.Tensor('float32', data, dims);
}

async function session(model) {
  return ort.InferenceSession.create(model, {
    graphOptimizationLevel: 'all',
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
  });
}

async function bench(model, x, runsArg) {
  const s = await session(model);
  const runs = parseInt(runsArg, 10);
  const feeds = { [s.inputNames[0]]: readF32Npy(x) };
  for (let i = 0; i < 20; i++) await s.run(feeds);
  const t = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    await s.run(feeds);
    t.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  t.sort((a, b) => a - b);
  const med = runs % 2 ? t[runs >> 1] : (t[runs / 2 - 1] + t[runs / 2]) / 2;
  console.log(`median_us ${med.toFixed(1)} min_us ${t[0].toFixed(1)} runs ${runs}`);
}

async function ranges(model, dir) {
  const s = await session(model);
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.npy')).sort();
  if (!files.length) die(`${dir}: no .npy files`);
  const r = {};
  for (const f of files) {
    const out = await s.run({ [s.inputNames[0]]: readF32Npy(path.join(dir, f)) });
    for (const [name, t] of Object.entries(out)) {
      if (t.type !== 'float32') continue;
      let lo = Infinity, hi = -Infinity;
      for (const v of t.data) {
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      const p = r[name] || (r[name] = [Infinity, -Infinity]);
      p[0] = Math.min(p[0], lo);
      p[1] = Math.max(p[1], hi);
    }
  }
  console.log(JSON.stringify(r));
}

const [mode, ...args] = process.argv.slice(2);
const run = mode === 'bench' ? bench : mode === 'ranges' ? ranges : null;
if (!run) die('usage: ort_tool.js bench MODEL X.npy RUNS | ranges MODEL DIR');
run(...args).catch((e) => die(e.message || String(e)));
