// lib/map/scatter — the WebGL scatter (three.js): one THREE.Points over a BufferGeometry with a
// small shader that maps data to clip space from two uniforms, so panning and zooming change
// only uniforms (no buffer upload) and 100,000 points stay smooth. Renders on demand, at most
// once per animation frame. The drawing buffer is preserved so the canvas can be read back
// (PNG export, tests).
import * as THREE from 'three';
import type { Size, View } from './viewport';

const VERTEX = /* glsl */ `
  attribute vec3 aColor;
  attribute float aSelected;
  uniform vec2 uScale;
  uniform vec2 uOffset;
  uniform float uSize;
  uniform float uHasSelection;
  varying vec3 vColor;
  varying float vAlpha;
  void main() {
    gl_Position = vec4(position.xy * uScale + uOffset, 0.0, 1.0);
    float chosen = uHasSelection > 0.5 ? aSelected : 1.0;
    gl_PointSize = chosen > 0.5 ? uSize : uSize * 0.75;
    vColor = aColor;
    vAlpha = chosen > 0.5 ? 0.9 : 0.18;
  }
`;

const FRAGMENT = /* glsl */ `
  varying vec3 vColor;
  varying float vAlpha;
  void main() {
    vec2 p = gl_PointCoord * 2.0 - 1.0;
    float r2 = dot(p, p);
    if (r2 > 1.0) discard;
    // A soft one-pixel rim instead of jagged edges.
    float edge = 1.0 - smoothstep(0.7, 1.0, r2);
    gl_FragColor = vec4(vColor, vAlpha * (0.55 + 0.45 * edge));
  }
`;

/** Point diameter in CSS pixels: smaller when there are many points. */
export function basePointSize(count: number): number {
  if (count > 50_000) return 2.5;
  if (count > 10_000) return 3.5;
  if (count > 2_000) return 5;
  return 7;
}

export class Scatter {
  private readonly renderer: THREE.WebGLRenderer;
  private readonly scene = new THREE.Scene();
  private readonly camera = new THREE.OrthographicCamera(-1, 1, 1, -1, 0, 1);
  private readonly material: THREE.ShaderMaterial;
  private geometry: THREE.BufferGeometry | null = null;
  private points: THREE.Points | null = null;
  private size: Size = { width: 1, height: 1 };
  private view: View = { cx: 0, cy: 0, ppu: 1 };
  private fitPpu = 1;
  private count = 0;
  private frame = 0;
  /** Milliseconds spent in the last render call (CPU side), for the benchmark. */
  lastRenderMs = 0;
  renders = 0;

  constructor(canvas: HTMLCanvasElement) {
    this.renderer = new THREE.WebGLRenderer({ canvas, antialias: false, alpha: false, preserveDrawingBuffer: true });
    this.material = new THREE.ShaderMaterial({
      vertexShader: VERTEX,
      fragmentShader: FRAGMENT,
      uniforms: {
        uScale: { value: new THREE.Vector2(1, 1) },
        uOffset: { value: new THREE.Vector2(0, 0) },
        uSize: { value: 3 },
        uHasSelection: { value: 0 },
      },
      transparent: true,
      depthTest: false,
      depthWrite: false,
    });
  }

  setBackground(css: string): void {
    this.renderer.setClearColor(new THREE.Color(css));
    this.requestRender();
  }

  setPoints(x: Float32Array, y: Float32Array): void {
    this.disposeGeometry();
    this.count = x.length;
    const position = new Float32Array(this.count * 3);
    for (let i = 0; i < this.count; i++) {
      position[i * 3] = x[i]!;
      position[i * 3 + 1] = y[i]!;
    }
    const geometry = new THREE.BufferGeometry();
    geometry.setAttribute('position', new THREE.BufferAttribute(position, 3));
    geometry.setAttribute('aColor', new THREE.BufferAttribute(new Float32Array(this.count * 3).fill(0.5), 3));
    geometry.setAttribute('aSelected', new THREE.BufferAttribute(new Float32Array(this.count), 1));
    this.geometry = geometry;
    this.points = new THREE.Points(geometry, this.material);
    // The shader places points itself; three's bounding sphere would be in the wrong space.
    this.points.frustumCulled = false;
    this.scene.add(this.points);
    this.material.uniforms.uHasSelection!.value = 0;
    this.requestRender();
  }

  setColors(colors: Float32Array): void {
    const attribute = this.geometry?.getAttribute('aColor') as THREE.BufferAttribute | undefined;
    if (!attribute || colors.length !== attribute.array.length) return;
    (attribute.array as Float32Array).set(colors);
    attribute.needsUpdate = true;
    this.requestRender();
  }

  /** Highlights the chosen rows and dims the others; null shows every point alike. */
  setSelection(rows: Uint32Array | null): void {
    const attribute = this.geometry?.getAttribute('aSelected') as THREE.BufferAttribute | undefined;
    if (!attribute) return;
    const flags = attribute.array as Float32Array;
    flags.fill(0);
    if (rows) for (const row of rows) flags[row] = 1;
    attribute.needsUpdate = true;
    this.material.uniforms.uHasSelection!.value = rows ? 1 : 0;
    this.requestRender();
  }

  /** The canvas size in CSS pixels; `fitPpu` is the zoom at which the whole map fits (points grow when zoomed in). */
  resize(size: Size, pixelRatio: number, fitPpu: number): void {
    this.size = size;
    this.fitPpu = fitPpu;
    this.renderer.setPixelRatio(pixelRatio);
    this.renderer.setSize(size.width, size.height, false);
    this.requestRender();
  }

  setView(view: View): void {
    this.view = view;
    this.requestRender();
  }

  /** The point diameter now, in CSS pixels. */
  pointSize(): number {
    const zoom = Math.min(3, Math.max(1, Math.sqrt(this.view.ppu / this.fitPpu)));
    return basePointSize(this.count) * zoom;
  }

  requestRender(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  render(): void {
    const started = performance.now();
    const { uniforms } = this.material;
    const sx = (2 * this.view.ppu) / this.size.width;
    const sy = (2 * this.view.ppu) / this.size.height;
    (uniforms.uScale!.value as THREE.Vector2).set(sx, sy);
    (uniforms.uOffset!.value as THREE.Vector2).set(-this.view.cx * sx, -this.view.cy * sy);
    uniforms.uSize!.value = this.pointSize() * this.renderer.getPixelRatio();
    this.renderer.render(this.scene, this.camera);
    this.lastRenderMs = performance.now() - started;
    this.renders++;
  }

  /** The picture as a PNG data URL (rendered now, so it matches what is shown). */
  toPng(): string {
    this.render();
    return this.renderer.domElement.toDataURL('image/png');
  }

  private disposeGeometry(): void {
    if (this.points) this.scene.remove(this.points);
    this.geometry?.dispose();
    this.geometry = null;
    this.points = null;
  }

  dispose(): void {
    if (this.frame) cancelAnimationFrame(this.frame);
    this.disposeGeometry();
    this.material.dispose();
    this.renderer.dispose();
  }
}
