// ort_run.js - runs an ONNX model in ONNX Runtime (npm onnxruntime-node,
// CPU, fp32 as the model says) on .npy inputs and writes .npy outputs: the
// real-model suite's independent oracle (test/models/, docs/models.md).
//
//   node ort_run.js MODEL.onnx [--shape NAME=D0,D1,...]... --input X.npy... --output Y.npy...
//   node ort_run.js MODEL.onnx [--shape NAME=D0,D1,...]... --each IN_DIR OUT_DIR
//
// The first form is one run: one --input per graph input and at most one
// --output per graph output, in the model's order.  The second runs a
// single-input model once per IN_DIR/STEM.npy (sorted by name) and writes
// output k of each run to OUT_DIR/STEM.k.npy (by index: some models name
// their outputs with characters no file name should hold).
//
// --shape fixes an input's shape (the .npy must hold as many elements); it
// is how a symbolic dimension gets its value when the file's own shape is
// not the one meant.  Without it the .npy's shape is used.
//
// The .npy reader and writer are here, not a package: NumPy format 1.0-3.0,
// little-endian, C order, dtypes f4, f8 (read as f32), i8, i4, u1, i1, b1.
// One thread, sequential execution, all graph optimizations, as
// bench/ort_bench.js.  NODE_PATH must reach onnxruntime-node
// (scripts/fetch-ort prints the folder).
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

function die(msg) {
  console.error(`ort_run: error: ${msg}`);
  process.exit(1);
}

// dtype in the .npy header -> [ORT type, typed array, bytes per element]
const NPY = {
  '<f4': ['float32', Float32Array, 4],
  '<f8': ['float64', Float64Array, 8],
  '<i8': ['int64', BigInt64Array, 8],
  '<i4': ['int32', Int32Array, 4],
  '<i2': ['int16', Int16Array, 2],
  '|u1': ['uint8', Uint8Array, 1],
  '|i1': ['int8', Int8Array, 1],
  '|b1': ['bool', Uint8Array, 1],
};
const NPY_OF = Object.fromEntries(Object.entries(NPY).map(([k, v]) => [v[0], k]));

function readNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.length < 10 || buf.toString('latin1', 0, 6) !== '\x93NUMPY') die(`${file}: not a .npy file`);
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', start, start + hlen);
  const descr = /'descr':\s*'([^']*)'/.exec(header);
  const order = /'fortran_order':\s*(True|False)/.exec(header);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!descr || !order || !shape) die(`${file}: bad .npy header ${header.trim()}`);
  if (order[1] === 'True') die(`${file}: Fortran order is not supported`);
  const t = NPY[descr[1]];
  if (!t) die(`${file}: dtype ${descr[1]} is not supported`);
  const dims = shape[1].split(',').map((s) => s.trim()).filter((s) => s).map(Number);
  const n = dims.reduce((a, b) => a * b, 1);
  const off = start + hlen;
  if (buf.length - off < n * t[2]) die(`${file}: truncated: ${n} elements of ${descr[1]} promised`);
  // Copy into an aligned buffer: the data offset need not be a multiple of
  // the element size.
  const data = new t[1](n);
  new Uint8Array(data.buffer).set(buf.subarray(off, off + n * t[2]));
  if (t[0] === 'float64') return { type: 'float32', data: Float32Array.from(data), dims };
  if (t[0] === 'bool') return { type: 'bool', data: Uint8Array.from(data, (x) => x !== 0), dims };
  return { type: t[0], data, dims };
}

function writeNpy(file, tensor) {
  const descr = NPY_OF[tensor.type];
  if (!descr) die(`${file}: cannot write an output of type ${tensor.type}`);
  const dims = tensor.dims.map(Number);
  const shape = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  // Version 1.0: magic, 2 version bytes, a 2-byte length, the header padded
  // with spaces and a newline so the data starts at a multiple of 64.
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += ' '.repeat(pad % 64) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  const data = tensor.data;
  const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  fs.writeFileSync(file, Buffer.concat([head, Buffer.from(header, 'latin1'), body]));
}

function parseArgs(argv) {
  const a = { model: null, shapes: {}, inputs: [], outputs: [], each: null };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) die(`${arg} needs a value`);
      return argv[++i];
    };
    if (arg === '--shape') {
      const v = next();
      const eq = v.lastIndexOf('=');
      if (eq <= 0) die(`--shape ${v}: expected NAME=D0,D1,...`);
      const dims = v.slice(eq + 1).split(',').map(Number);
      if (dims.some((d) => !Number.isInteger(d) || d < 0)) die(`--shape ${v}: bad dimension`);
      a.shapes[v.slice(0, eq)] = dims;
    } else if (arg === '--input') a.inputs.push(next());
    else if (arg === '--output') a.outputs.push(next());
    else if (arg === '--each') a.each = [next(), next()];
    else if (arg.startsWith('-')) die(`unknown option ${arg}`);
    else if (a.model === null) a.model = arg;
    else die(`unexpected argument ${arg}`);
  }
  if (a.model === null) {
    console.error('usage: ort_run.js MODEL.onnx [--shape NAME=D0,D1,...]... (--input X.npy... --output Y.npy... | --each IN_DIR OUT_DIR)');
    process.exit(2);
  }
  return a;
}

function feedsOf(session, shapes, files) {
  if (files.length !== session.inputNames.length)
    die(`the model has ${session.inputNames.length} inputs, ${files.length} given`);
  const feeds = {};
  session.inputNames.forEach((name, k) => {
    const t = readNpy(files[k]);
    let dims = t.dims;
    if (shapes[name]) {
      const n = shapes[name].reduce((x, y) => x * y, 1);
      if (n !== t.data.length) die(`${files[k]}: ${t.data.length} elements, --shape ${name} wants ${n}`);
      dims = shapes[name];
    }
    feeds[name] = new ort.Tensor(t.type, t.data, dims);
  });
  return feeds;
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(a.model)) die(`${a.model}: no such file`);
  let session;
  try {
    session = await ort.InferenceSession.create(a.model, {
      graphOptimizationLevel: 'all',
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
    });
  } catch (e) {
    die(`${a.model}: ${String(e.message || e).split('\n')[0]}`);
  }
  for (const name of Object.keys(a.shapes))
    if (!session.inputNames.includes(name)) die(`--shape ${name}: the model has no input of that name`);
  const run = async (files, outs) => {
    let r;
    try {
      r = await session.run(feedsOf(session, a.shapes, files));
    } catch (e) {
      die(`${a.model} on ${files.join(' ')}: ${String(e.message || e).split('\n')[0]}`);
    }
    outs.forEach((file, k) => writeNpy(file, r[session.outputNames[k]]));
  };
  if (a.each) {
    if (a.inputs.length || a.outputs.length) die('--each takes no --input or --output');
    if (session.inputNames.length !== 1) die('--each needs a model with one input');
    const [inDir, outDir] = a.each;
    const files = fs.readdirSync(inDir).filter((f) => f.endsWith('.npy')).sort();
    if (!files.length) die(`${inDir}: no .npy files`);
    fs.mkdirSync(outDir, { recursive: true });
    for (const f of files) {
      const stem = f.slice(0, -4);
      await run([path.join(inDir, f)], session.outputNames.map((_, k) => path.join(outDir, `${stem}.${k}.npy`)));
    }
  } else {
    if (a.outputs.length > session.outputNames.length)
      die(`the model has ${session.outputNames.length} outputs, ${a.outputs.length} --output given`);
    await run(a.inputs, a.outputs);
  }
}
main().catch((e) => die(String(e.stack || e)));
