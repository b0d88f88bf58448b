// Baseline: the same images through @vladmandic/face-api (SSD MobileNet v1 + 68 landmarks + 128-d
// ResNet descriptor) on tfjs-backend-wasm, the JavaScript pipeline users pick today.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { benchImages } from './face.images.js';
import { median, peakRssMb } from './stats.js';

const require = createRequire(import.meta.url);
const tf = require('@tensorflow/tfjs');
const wasm = require('@tensorflow/tfjs-backend-wasm');
const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js');

wasm.setWasmPaths(join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/');
await tf.setBackend('wasm');
await tf.ready();
const modelDir = join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
const t0 = performance.now();
await faceapi.nets.ssdMobilenetv1.loadFromDisk(modelDir);
await faceapi.nets.faceLandmark68Net.loadFromDisk(modelDir);
await faceapi.nets.faceRecognitionNet.loadFromDisk(modelDir);
const loadMs = performance.now() - t0;

const images = benchImages();
const options = new faceapi.SsdMobilenetv1Options({ minConfidence: 0.5 });

async function run(bytes: Buffer): Promise<number> {
  const { data, info } = await sharp(bytes).rotate().removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const tensor = tf.tensor3d(new Uint8Array(data), [info.height, info.width, 3], 'int32');
  try {
    const r = await faceapi.detectAllFaces(tensor, options).withFaceLandmarks().withFaceDescriptors();
    return r.length;
  } finally {
    tensor.dispose();
  }
}

for (const im of images.slice(0, 3)) await run(im.bytes);
const totals: number[] = [];
let faces = 0;
let missed = 0;
for (const im of images) {
  const s = performance.now();
  const n = await run(im.bytes);
  totals.push(performance.now() - s);
  faces += n;
  if (n === 0) missed++;
}
process.stdout.write(
  JSON.stringify({
    pipeline: 'face-api 1.7.15 (SSD MobileNet v1 + landmarks68 + 128-d, tfjs-backend-wasm)',
    images: images.length,
    facesPerImage: faces / images.length,
    imagesWithoutFace: missed,
    modelLoadMs: loadMs,
    medianMs: { total: median(totals) },
    imagesPerSecond: { workers1: 1000 / median(totals) },
    peakRssMb: peakRssMb(),
  }) + '\n',
);
