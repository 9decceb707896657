/**
 * bench/map — frame time of the embedding map (the Map page's three.js WebGL scatter) with
 * 100,000 points in Chromium, through the real serve back end on a temporary app home.
 *
 * A project is seeded as test/e2e/map.test.ts does (test/support/map-setup: a dataset and a
 * synthetic embedding matrix written through the services), its PCA map is made by a real
 * `map.project` job, and the Map page is opened in /usr/bin/chromium (playwright-core, headless,
 * --disable-gpu: WebGL runs on SwiftShader, software rendering on the CPU).
 *
 * How it measures, all in the page's clock: an init script wraps WebGL's drawArrays and notes the
 * time of every draw call of the whole point set. First draw is from the click on "Map" in the
 * navigation bar (the points are then fetched, parsed, indexed, uploaded) to the animation frame
 * after the first such draw call. Frame time: while the map is driven (wheel zoom in and out
 * over the canvas; a drag that pans in circles), a requestAnimationFrame loop records frame
 * timestamps; a frame in which the points were drawn counts with the time to the next frame,
 * frames without a draw (no input had arrived) are left out. Each gesture is driven twice: by
 * real mouse input (CDP events, as a user's; each waits for the page's acknowledgement, so it
 * comes at most about every other frame), and by one synthetic event per frame dispatched on the
 * canvas in the page (the app's own handlers run; every frame draws, so the frame rate is what
 * drawing allows). Half a second of each is a warm-up and is not counted. The page's JavaScript
 * time per draw (DevTools ScriptDuration) separates the app's own work from rendering.
 *
 *   node --import tsx bench/map.ts                 100,000 points, 5 s per gesture and input (~40 s)
 *   node --import tsx bench/map.ts --quick         2 s per gesture and input
 *   node --import tsx bench/map.ts --points=20000  another size
 *
 * Builds the app first (npx electron-vite build) only when out/ lacks serve or the renderer.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { Job, Projection } from '../src-main/api/schemas';
import { launchChromium } from '../test/support/browser';
import { mapCanvasPixels, seedMapProject } from '../test/support/map-setup';
import { ROOT, SERVE_ENTRY, startServe, stopServe, temporaryHome, type ServeHandle } from '../test/support/serve';
import { connectApi, type ApiClient } from '../test/support/ws-client';
import { figure, markdownTable } from './support/table';

const QUICK = process.argv.includes('--quick');
const POINTS = Number(process.argv.find((arg) => arg.startsWith('--points='))?.slice('--points='.length) ?? 100_000);
const SECONDS = QUICK ? 2 : 5;
const WARM_UP_SECONDS = 0.5;
const VIEWPORT = { width: 1360, height: 1000 };

/** What the init script keeps in the page (window.__mapBench). */
interface BenchState {
  points: number;
  /** performance.now() of the click on the Map navigation button. */
  clickAt: number | null;
  /** When the message holding the points arrived over the WebSocket, and its length in characters. */
  pointsAt: number | null;
  pointsChars: number;
  firstDraw: number | null;
  /** The animation frame after the first draw call: the first picture is on its way to the screen. */
  firstFrame: number | null;
  /** Draw calls of the whole point set so far, recorded or not. */
  drawCount: number;
  recording: boolean;
  draws: number[];
  frames: number[];
}

/** Runs in the page before the app: wraps drawArrays and the WebSocket to timestamp what matters. */
function instrument(points: number): void {
  const state: BenchState = { points, clickAt: null, pointsAt: null, pointsChars: 0, firstDraw: null, firstFrame: null, drawCount: 0, recording: false, draws: [], frames: [] };
  (window as unknown as { __mapBench: BenchState }).__mapBench = state;
  for (const proto of [WebGLRenderingContext.prototype, WebGL2RenderingContext.prototype] as { drawArrays(mode: number, first: number, count: number): void }[]) {
    const original = proto.drawArrays;
    proto.drawArrays = function (this: unknown, mode: number, first: number, count: number): void {
      if (count >= state.points) {
        const now = performance.now();
        state.drawCount++;
        if (state.firstDraw === null) {
          state.firstDraw = now;
          requestAnimationFrame(() => (state.firstFrame = performance.now()));
        }
        if (state.recording) state.draws.push(now);
      }
      original.call(this, mode, first, count);
    };
  }
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      // Registered before the app's own listener, so this runs first.
      this.addEventListener('message', (event: MessageEvent) => {
        if (state.pointsAt === null && typeof event.data === 'string' && event.data.length > points * 8) {
          state.pointsAt = performance.now();
          state.pointsChars = event.data.length;
        }
      });
    }
  };
  document.addEventListener('click', (event) => {
    if ((event.target as Element | null)?.closest?.('[data-testid="nav-map"]')) state.clickAt = performance.now();
  }, true);
}

function ensureBuilt(): void {
  if (existsSync(SERVE_ENTRY) && existsSync(join(ROOT, 'out', 'renderer', 'index.html'))) return;
  console.log('Building the app (npx electron-vite build)…');
  const result = spawnSync('npx', ['electron-vite', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`electron-vite build failed (${result.error?.message ?? `exit code ${result.status}`})`);
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const at = (sorted.length - 1) * q;
  const low = Math.floor(at);
  const high = Math.ceil(at);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (at - low);
}

interface Measured {
  /** Frames that drew the points, and how long each lasted (to the next frame), ms. */
  frameMs: number[];
  allFrames: number;
  windowMs: number;
  inputs: number;
  /** The page's JavaScript time (Chrome's ScriptDuration) per draw, warm-up included: the app's own work per frame. */
  scriptMsPerDraw?: number;
}

/** Runs one gesture and adds the page's script time per draw, from the DevTools performance metrics. */
async function withScriptTime(page: Page, run: () => Promise<Measured>): Promise<Measured> {
  const cdp = await page.context().newCDPSession(page);
  try {
    await cdp.send('Performance.enable');
    const sample = async (): Promise<{ script: number; draws: number }> => {
      const { metrics } = await cdp.send('Performance.getMetrics');
      const draws = await page.evaluate(() => (window as unknown as { __mapBench: BenchState }).__mapBench.drawCount);
      return { script: metrics.find((m) => m.name === 'ScriptDuration')?.value ?? NaN, draws };
    };
    const before = await sample();
    const measured = await run();
    const after = await sample();
    return { ...measured, scriptMsPerDraw: ((after.script - before.script) * 1000) / Math.max(1, after.draws - before.draws) };
  } finally {
    await cdp.detach();
  }
}

/** Frame k drew when a draw call fell in [T_k, T_k+1); its frame time is T_k+1 − T_k. */
function framesOf(frames: readonly number[], draws: readonly number[]): { frameMs: number[]; windowMs: number } {
  const frameMs: number[] = [];
  let d = 0;
  for (let k = 0; k + 1 < frames.length; k++) {
    while (d < draws.length && draws[d]! < frames[k]!) d++;
    if (d < draws.length && draws[d]! < frames[k + 1]!) frameMs.push(frames[k + 1]! - frames[k]!);
  }
  return { frameMs, windowMs: frames.length > 1 ? frames[frames.length - 1]! - frames[0]! : 0 };
}

const stateOf = (): BenchState => (window as unknown as { __mapBench: BenchState }).__mapBench;

async function startRecording(page: Page): Promise<void> {
  await page.evaluate(() => {
    const state = (window as unknown as { __mapBench: BenchState }).__mapBench;
    state.frames = [];
    state.draws = [];
    state.recording = true;
    const loop = (time: number): void => {
      if (!state.recording) return;
      state.frames.push(time);
      requestAnimationFrame(loop);
    };
    requestAnimationFrame(loop);
  });
}

async function stopRecording(page: Page): Promise<{ frames: number[]; draws: number[] }> {
  return page.evaluate(() => {
    const state = (window as unknown as { __mapBench: BenchState }).__mapBench;
    state.recording = false;
    return { frames: state.frames, draws: state.draws };
  });
}

/** Drives `step` (one input event each) for `seconds`, after a warm-up, while recording frames. */
async function drive(page: Page, seconds: number, step: (i: number) => Promise<void>): Promise<Measured> {
  let i = 0;
  for (const until = performance.now() + WARM_UP_SECONDS * 1000; performance.now() < until; ) await step(i++);
  await startRecording(page);
  let inputs = 0;
  for (const until = performance.now() + seconds * 1000; performance.now() < until; inputs++) await step(i++);
  const { frames, draws } = await stopRecording(page);
  return { ...framesOf(frames, draws), allFrames: Math.max(0, frames.length - 1), inputs };
}

async function canvasBox(page: Page): Promise<{ x: number; y: number; width: number; height: number }> {
  const box = await page.getByTestId('map-canvas').boundingBox();
  if (!box) throw new Error('the map canvas is not on the page');
  return box;
}

/** Wheel zoom over the canvas: 8 notches in, 8 out, over and over, around points near the centre. */
async function wheelZoom(page: Page, seconds: number): Promise<Measured> {
  const box = await canvasBox(page);
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  await page.mouse.move(cx, cy);
  return drive(page, seconds, async (i) => {
    if (i % 16 === 0) await page.mouse.move(cx + ((i * 37) % 200) - 100, cy + ((i * 53) % 160) - 80);
    await page.mouse.wheel(0, i % 16 < 8 ? -100 : 100);
  });
}

/** A drag that pans the map around a circle of 150 px, 3° per mouse move. */
async function dragPan(page: Page, seconds: number): Promise<Measured> {
  const box = await canvasBox(page);
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  const r = 150;
  await page.mouse.move(cx + r, cy);
  await page.mouse.down();
  try {
    return await drive(page, seconds, async (i) => {
      const angle = (i * 3 * Math.PI) / 180;
      await page.mouse.move(cx + r * Math.cos(angle), cy + r * Math.sin(angle));
    });
  } finally {
    await page.mouse.up();
  }
}

type Gesture = 'wheel' | 'pan';

/**
 * The same gestures with one synthetic event per animation frame, dispatched on the canvas from
 * a rAF loop in the page (the app's own handlers run): input never waits for a round trip, so
 * every frame draws and the frame rate is what drawing allows. The pan's button is pressed with
 * the real mouse (the canvas captures that pointer), then moved by pointermove events.
 */
async function everyFrame(page: Page, gesture: Gesture, seconds: number): Promise<Measured> {
  const box = await canvasBox(page);
  const centre = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
  const r = 150;
  await page.mouse.move(centre.x + r, centre.y);
  if (gesture === 'pan') await page.mouse.down();
  try {
    const { frames, draws, inputs } = await page.evaluate(
      ({ gesture, seconds, warmUp, centre, r }) =>
        new Promise<{ frames: number[]; draws: number[]; inputs: number }>((resolve) => {
          const state = (window as unknown as { __mapBench: BenchState }).__mapBench;
          const canvas = document.querySelector('[data-testid="map-canvas"]')!;
          state.frames = [];
          state.draws = [];
          let i = 0;
          let inputs = 0;
          let startedAt: number | null = null;
          const tick = (time: number): void => {
            startedAt ??= time;
            const elapsed = (time - startedAt) / 1000;
            if (elapsed >= warmUp) state.recording = true;
            if (state.recording) state.frames.push(time);
            if (elapsed >= warmUp + seconds) {
              state.recording = false;
              resolve({ frames: state.frames, draws: state.draws, inputs });
              return;
            }
            if (state.recording) inputs++;
            const k = i++;
            // Dispatched in a task after this frame, as input arriving between frames is (from
            // inside the rAF callback the map's render request would wait a frame more).
            setTimeout(() => dispatch(k), 0);
            requestAnimationFrame(tick);
          };
          const dispatch = (i: number): void => {
            if (gesture === 'wheel') {
              const clientX = centre.x + ((Math.floor(i / 16) * 37) % 200) - 100;
              const clientY = centre.y + ((Math.floor(i / 16) * 53) % 160) - 80;
              canvas.dispatchEvent(new WheelEvent('wheel', { deltaY: i % 16 < 8 ? -100 : 100, deltaMode: 0, clientX, clientY, bubbles: true, cancelable: true }));
            } else {
              const angle = (i * 3 * Math.PI) / 180;
              canvas.dispatchEvent(new PointerEvent('pointermove', { pointerId: 1, pointerType: 'mouse', isPrimary: true, buttons: 1, clientX: centre.x + r * Math.cos(angle), clientY: centre.y + r * Math.sin(angle), bubbles: true }));
            }
          };
          requestAnimationFrame(tick);
        }),
      { gesture, seconds, warmUp: WARM_UP_SECONDS, centre, r },
    );
    return { ...framesOf(frames, draws), allFrames: Math.max(0, frames.length - 1), inputs };
  } finally {
    if (gesture === 'pan') await page.mouse.up();
  }
}

function webglRenderer(page: Page): Promise<string> {
  return page.evaluate(() => {
    const gl = document.createElement('canvas').getContext('webgl2') ?? document.createElement('canvas').getContext('webgl');
    if (!gl) return 'no WebGL';
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    return String(info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER));
  });
}

const ms = (value: number): string => `${value.toFixed(1)} ms`;
const count = (value: number): string => value.toLocaleString('en-US');

function row(name: string, m: Measured): string[] {
  const sorted = [...m.frameMs].sort((a, b) => a - b);
  const fps = m.windowMs > 0 ? (m.frameMs.length * 1000) / m.windowMs : NaN;
  return [count(POINTS), name, `${m.frameMs.length} of ${m.allFrames}`, ms(quantile(sorted, 0.5)), ms(quantile(sorted, 0.95)), figure(fps), figure((m.inputs * 1000) / m.windowMs), m.scriptMsPerDraw === undefined ? '—' : ms(m.scriptMsPerDraw)];
}

async function main(): Promise<void> {
  if (!Number.isInteger(POINTS) || POINTS < 100) throw new Error('--points= needs a whole number of at least 100');
  ensureBuilt();
  const home = temporaryHome('esm-bench-map-');
  let server: ServeHandle | undefined;
  let api: ApiClient | undefined;
  let browser: Browser | undefined;
  try {
    let started = performance.now();
    const seeded = seedMapProject(home, POINTS, 16);
    const seedSeconds = (performance.now() - started) / 1000;
    server = await startServe(home);
    api = await connectApi(server);
    started = performance.now();
    const job = await api.call<Job>('jobs.start', { kind: 'map.project', embeddingId: seeded.embeddingId, method: 'pca' });
    const done = await api.waitForJob(job.id, 300_000);
    if (done.state !== 'done') throw new Error(`the PCA job ended ${done.state}: ${done.error ?? ''} (was out/ rebuilt meanwhile?)\n${server.output().slice(-2000)}`);
    const projectionSeconds = (performance.now() - started) / 1000;
    const projection = (await api.call<Projection[]>('map.list', { projectId: seeded.projectId }))[0];
    if (!projection?.ready || projection.rows !== POINTS) throw new Error(`no ready map of ${POINTS} points`);

    browser = await launchChromium();
    const page = await browser.newPage({ viewport: VIEWPORT, deviceScaleFactor: 1 });
    // tsx compiles this file with esbuild's keepNames, which wraps named inner functions in
    // __name(); functions sent to the page need that helper there too.
    await page.addInitScript('window.__name = (fn) => fn;');
    await page.addInitScript(instrument, POINTS);
    await page.goto(server.url);
    await page.getByTestId('nav-projects').click();
    await page.getByTestId('project-row').first().getByTestId('project-open').click();
    await page.getByTestId('nav-map').click();
    await page.waitForFunction(() => (window as unknown as { __mapBench: BenchState }).__mapBench.firstFrame !== null, undefined, { timeout: 120_000, polling: 50 });
    const first = await page.evaluate(stateOf);
    const canvas = page.getByTestId('map-canvas');
    if ((await canvas.getAttribute('data-points')) !== String(POINTS)) throw new Error('the canvas does not show every point');
    const { painted } = await mapCanvasPixels(page);
    if (painted < 1000) throw new Error(`the map looks blank (${painted} painted pixels)`);
    const size = await canvas.getAttribute('data-size');
    const renderer = await webglRenderer(page);

    const fit = (): Promise<void> => page.getByTestId('map-fit-view').click();
    const rows = [
      row(`wheel zoom, mouse input, ${SECONDS} s`, await withScriptTime(page, () => wheelZoom(page, SECONDS))),
      row(`drag pan, mouse input, ${SECONDS} s`, await fit().then(() => withScriptTime(page, () => dragPan(page, SECONDS)))),
      row(`wheel zoom, event every frame, ${SECONDS} s`, await fit().then(() => withScriptTime(page, () => everyFrame(page, 'wheel', SECONDS)))),
      row(`drag pan, event every frame, ${SECONDS} s`, await fit().then(() => withScriptTime(page, () => everyFrame(page, 'pan', SECONDS)))),
    ];

    const firstDrawMs = first.firstFrame! - first.clickAt!;
    const pointsMs = first.pointsAt === null ? null : first.pointsAt - first.clickAt!;
    console.log(`Embedding map, ${count(POINTS)} points (PCA of ${count(POINTS)} × 16), Chromium headless ${browser.version()}, canvas ${size} CSS px at device pixel ratio 1.`);
    console.log(`WebGL: ${renderer}. Chromium runs with --disable-gpu, so WebGL is SwiftShader: software rendering on the CPU (${availableParallelism()} cores here, load average ${loadavg()[0]!.toFixed(2)} at the end). A GPU draws much faster; these are floor figures.`);
    console.log(`Set-up (not measured): seeding ${seedSeconds.toFixed(1)} s, PCA job ${projectionSeconds.toFixed(1)} s.`);
    console.log('');
    console.log(markdownTable(['points', 'interaction', 'frames drawn', 'median frame', 'p95 frame', 'fps', 'input events/s', 'page JS per draw'], rows));
    console.log('');
    console.log(
      `First draw: ${ms(firstDrawMs)} from the click on Map to the frame after the first draw call of all ${count(POINTS)} points` +
        (pointsMs === null ? '.' : ` (the points message, ${(first.pointsChars / 2 ** 20).toFixed(1)} MB of JSON, arrived at ${ms(pointsMs)}; first draw call at ${ms(first.firstDraw! - first.clickAt!)}).`),
    );
    console.log(`Frame time: from a frame's rAF timestamp to the next, for the frames that drew the map; fps: those frames per second of driving; "frames drawn" is of all frames in the ${SECONDS} s.`);
    console.log('Mouse input is acknowledged before the next event is sent, so it reaches the page at most every other frame; "event every frame" dispatches one wheel or pointermove event per frame in the page, so its fps is what drawing allows.');
  } finally {
    api?.close();
    await browser?.close();
    if (server) await stopServe(server);
    rmSync(home, { recursive: true, force: true });
  }
}

await main();
