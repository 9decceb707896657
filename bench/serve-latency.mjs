// How long another client waits for `app.info` while serve imports a large uploaded file (the
// issue: a 50 MB import made app.info take 4 s). Starts the built serve (out/main/serve.js) on a
// temporary data folder, uploads a FASTA as text on one socket and asks app.info in a loop on
// another (every 10 ms) until the import answers. Usage: node bench/serve-latency.mjs [megabytes=50]
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';

const megabytes = Number(process.argv[2] ?? 50);
const root = join(import.meta.dirname, '..');
const home = mkdtempSync(join(tmpdir(), 'esm-bench-serve-'));
const token = randomBytes(24).toString('base64url');
const serve = spawn(process.execPath, [join(root, 'out', 'main', 'serve.js')], {
  env: { ...process.env, ESM_STUDIO_HOME: home, ESM_STUDIO_TOKEN: token },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const port = await new Promise((resolve, reject) => {
  let out = '';
  serve.stdout.on('data', (chunk) => {
    out += chunk;
    const match = /127\.0\.0\.1:(\d+)\//.exec(out);
    if (match) resolve(Number(match[1]));
  });
  serve.once('exit', (code) => reject(new Error(`serve exited with ${code}`)));
});

function client() {
  const socket = new WebSocket(`ws://127.0.0.1:${port}/api?token=${token}`, { maxPayload: 1 << 30 });
  let nextId = 1;
  const pending = new Map();
  socket.on('message', (data) => {
    const message = JSON.parse(String(data));
    if (message.id !== undefined) pending.get(message.id)?.(message.envelope);
  });
  // `input` may be given already serialised, so that the client's own JSON work is not measured.
  const call = (method, input) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, (envelope) => (envelope.ok ? resolve(envelope.value) : reject(new Error(envelope.error.message))));
      const body = typeof input === 'string' ? input : JSON.stringify(input);
      socket.send(`{"id":${id},"method":${JSON.stringify(method)},"input":${body}}`);
    });
  return new Promise((resolve) => socket.once('open', () => resolve({ call, close: () => socket.close() })));
}

const AMINO = 'ACDEFGHIKLMNPQRSTVWY';
let seed = 7;
const random = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
const parts = [];
let size = 0;
for (let i = 0; size < megabytes * 1e6; i++) {
  let sequence = '';
  const length = 100 + Math.floor(random() * 400);
  for (let j = 0; j < length; j++) sequence += AMINO[Math.floor(random() * 20)];
  const record = `>seq${i}\n${sequence}\n`;
  parts.push(record);
  size += record.length;
}
const text = parts.join('');

const [uploader, other] = await Promise.all([client(), client()]);
const project = await other.call('projects.create', { name: 'latency' });

async function measure(label, start) {
  const latencies = [];
  let finished = false;
  const started = performance.now();
  const work = start().finally(() => (finished = true));
  while (!finished) {
    const t = performance.now();
    await other.call('app.info', {});
    latencies.push(performance.now() - t);
    // Ask as a page would, not in a tight loop that would compete with the import for the CPU.
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await work;
  const total = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const p = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))].toFixed(0);
  console.log(`${label}: ${(size / 1e6).toFixed(0)} MB in ${total.toFixed(2)} s; app.info meanwhile ×${latencies.length}: median ${p(0.5)} ms, p95 ${p(0.95)} ms, max ${p(1)} ms`);
}

const source = { kind: 'text', fileName: 'big.fasta', text };
const previewInput = JSON.stringify({ source, options: {} });
const importInput = JSON.stringify({ projectId: project.id, source, options: {}, accept: false });
await measure('datasets.preview', () => uploader.call('datasets.preview', previewInput));
await measure('datasets.import ', () => uploader.call('datasets.import', importInput));
uploader.close();
other.close();
serve.kill();
rmSync(home, { recursive: true, force: true });
