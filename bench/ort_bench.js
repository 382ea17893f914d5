#!/usr/bin/env node
// ort_bench.js - times ONNX Runtime's CPU execution provider on an image batch
// for bench/bench.py, and runs one batch for bench/export_onnx.py's check.
//
//   node bench/ort_bench.js --model M.onnx [--batch 8] [--threads 2] [--iters 6] [--warmup 1]
//   node bench/ort_bench.js --model M.onnx --batch B --input X.f32 --output Y.f32
//
// Timing mode prints one JSON line: images/s of each timed iteration and of them all
// (batch * iters / their total time). Warm-up iterations, session creation and
// graph optimisation are not timed. Inputs are random normal floats, made once.
// Check mode reads little-endian float32 [B,3,224,224] from --input, writes the
// first output's float32 values to --output, and prints one JSON line.
'use strict';

const fs = require('fs');
const path = require('path');

function parseArgs(argv) {
  const a = { batch: 8, threads: 2, iters: 6, warmup: 1, size: 224, seed: 1 };
  const ints = new Set(['batch', 'threads', 'iters', 'warmup', 'size', 'seed']);
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i].replace(/^--/, '');
    if (!argv[i].startsWith('--') || i + 1 >= argv.length) usage(`bad argument '${argv[i]}'`);
    const v = argv[++i];
    if (ints.has(k)) {
      a[k] = Number.parseInt(v, 10);
      if (!(a[k] >= 0)) usage(`--${k} wants a whole number, got '${v}'`);
    } else if (['model', 'input', 'output'].includes(k)) {
      a[k] = v;
    } else {
      usage(`unknown option --${k}`);
    }
  }
  if (!a.model) usage('--model is required');
  if (a.batch < 1 || a.threads < 1) usage('--batch and --threads must be at least 1');
  return a;
}

function usage(msg) {
  process.stderr.write(`ort_bench.js: ${msg}\n` +
    'usage: ort_bench.js --model M.onnx [--batch B] [--threads N] [--iters I] [--warmup W]\n' +
    '                    [--input X.f32 --output Y.f32]\n');
  process.exit(2);
}

// Box-Muller over a small LCG: the same inputs on every run, no dependency.
function randomNormal(n, seed) {
  const out = new Float32Array(n);
  let s = (seed * 2654435761) >>> 0 || 1;
  const uni = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 1) / 4294967297;
  };
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(uni())), t = 2 * Math.PI * uni();
    out[i] = r * Math.cos(t);
    if (i + 1 < n) out[i + 1] = r * Math.sin(t);
  }
  return out;
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const ort = require('onnxruntime-node');
  const version = require('onnxruntime-node/package.json').version;
  const t0 = process.hrtime.bigint();
  const session = await ort.InferenceSession.create(a.model, {
    executionProviders: ['cpu'],
    intraOpNumThreads: a.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const loadS = Number(process.hrtime.bigint() - t0) / 1e9;
  const inName = session.inputNames[0], outName = session.outputNames[0];
  const dims = [a.batch, 3, a.size, a.size];
  const n = dims.reduce((x, y) => x * y, 1);

  if (a.input || a.output) {
    if (!a.input || !a.output) usage('--input and --output go together');
    const buf = fs.readFileSync(a.input);
    if (buf.length !== n * 4) {
      process.stderr.write(`ort_bench.js: ${a.input} has ${buf.length} bytes, expected ` +
        `${n * 4} (float32 [${dims}])\n`);
      process.exit(2);
    }
    const x = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
    const res = await session.run({ [inName]: new ort.Tensor('float32', x, dims) });
    const y = res[outName];
    fs.writeFileSync(a.output, Buffer.from(y.data.buffer, y.data.byteOffset, y.data.byteLength));
    console.log(JSON.stringify({ engine: 'ort', version, batch: a.batch, threads: a.threads,
      output_dims: y.dims, load_s: loadS }));
    return;
  }

  const feeds = { [inName]: new ort.Tensor('float32', randomNormal(n, a.seed), dims) };
  for (let i = 0; i < a.warmup; i++) await session.run(feeds);
  const per = [];
  let total = 0;
  for (let i = 0; i < a.iters; i++) {
    const s = process.hrtime.bigint();
    await session.run(feeds);
    const dt = Number(process.hrtime.bigint() - s) / 1e9;
    total += dt;
    per.push(a.batch / dt);
  }
  console.log(JSON.stringify({
    engine: 'ort', version, model: path.basename(a.model), batch: a.batch,
    threads: a.threads, warmup: a.warmup, iters: a.iters, images: a.batch * a.iters,
    seconds: total, images_per_s: total > 0 ? (a.batch * a.iters) / total : 0,
    per_iter_images_per_s: per, load_s: loadS,
  }));
}

main().catch((e) => {
  process.stderr.write(`ort_bench.js: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
