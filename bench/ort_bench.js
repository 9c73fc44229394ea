// ort_bench.js MODEL.onnx IMAGES-IDX LABELS-IDX RUNS - ONNX Runtime (npm
// onnxruntime-node, CPU) on the Fashion-MNIST example: batch 1, one thread
// (intra- and inter-op), sequential execution, the highest graph
// optimization level ("all").  Prints the top-1 accuracy on the first
// 1,000 test images (a check that the model is the one meant) and the
// median and minimum latency of RUNS calls on the first image.
// bench/run.sh installs onnxruntime-node 1.30.0 (scripts/fetch-ort) and runs this.
const ort = require('onnxruntime-node');
const fs = require('fs');

async function main() {
  const [model, imagesPath, labelsPath, runsArg] = process.argv.slice(2);
  const runs = parseInt(runsArg, 10);
  const images = fs.readFileSync(imagesPath).subarray(16);
  const labels = fs.readFileSync(labelsPath).subarray(8);
  const session = await ort.InferenceSession.create(model, {
    graphOptimizationLevel: 'all',
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
  });
  const input = (i) => {
    const x = new Float32Array(784);
    for (let p = 0; p < 784; p++) x[p] = Math.fround(images[i * 784 + p] / 255);
    return { [session.inputNames[0]]: new ort.Tensor('float32', x, [1, 1, 28, 28]) };
  };
  let right = 0;
  for (let i = 0; i < 1000; i++) {
    const y = (await session.run(input(i)))[session.outputNames[0]].data;
    let best = 0;
    for (let k = 1; k < 10; k++) if (y[k] > y[best]) best = k;
    right += best === labels[i];
  }
  const feeds = input(0);
  for (let i = 0; i < 100; i++) await session.run(feeds);
  const t = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    await session.run(feeds);
    t.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  t.sort((a, b) => a - b);
  console.log(`accuracy ${(right / 10).toFixed(1)}% median_us ${t[runs >> 1].toFixed(1)} min_us ${t[0].toFixed(1)} runs ${runs}`);
}
main().catch((e) => { console.error(e); process.exit(1); });
