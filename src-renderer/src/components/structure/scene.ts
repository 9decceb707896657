/**
 * components/structure/scene — the three.js scene of the Structure page: one cartoon per chain,
 * optional side-chain and ligand sticks, predicted contacts as lines between Cα, a marker on the
 * selected residue, orbit/zoom (three's OrbitControls), and picking a residue by clicking it
 * (the Cα nearest the click's ray). It renders only when something changes, not every frame.
 */
import * as THREE from 'three';
import { OrbitControls } from 'three/examples/jsm/controls/OrbitControls.js';
import type { Rgb } from '../../lib/structure/colors';
import { centroid, pickAlongRay, principalAxes, radiusAround } from '../../lib/structure/geometry';
import type { SecondaryStructure, Vec3 } from '../../lib/structure/types';
import { buildCartoon, recolorCartoon } from './cartoon';
import type { Stick } from './sticks';

export interface SceneChain {
  points: Vec3[];
  ss: SecondaryStructure[];
  colors: Rgb[];
}

export interface SceneContact {
  a: Vec3;
  b: Vec3;
  /** 0 … 1: how strongly the line is drawn. */
  strength: number;
}

/** A click that moves less than this (px) is a pick, not the start of a rotation. */
const CLICK_SLOP = 5;

export class StructureScene {
  private readonly renderer: THREE.WebGLRenderer;
  private readonly scene = new THREE.Scene();
  private readonly camera = new THREE.PerspectiveCamera(40, 1, 0.5, 5000);
  private readonly controls: OrbitControls;
  private readonly cartoons: THREE.Mesh[] = [];
  private sticks: THREE.LineSegments | null = null;
  private contacts: THREE.LineSegments | null = null;
  private readonly marker: THREE.Mesh;
  /** Holds the molecule, turned so that its principal axes lie along the screen (see frameAll). */
  private readonly root = new THREE.Group();
  private chains: SceneChain[] = [];
  private down: { x: number; y: number } | null = null;
  private readonly resizeObserver: ResizeObserver;
  private frame = 0;
  /** Until the user turns or zooms, a resized view frames the whole structure again. */
  private autoFrame = true;

  constructor(
    private readonly container: HTMLElement,
    private readonly onPick: (chain: number, residue: number) => void,
  ) {
    // preserveDrawingBuffer lets screenshots and pixel checks read what is shown.
    this.renderer = new THREE.WebGLRenderer({ antialias: true, alpha: true, preserveDrawingBuffer: true });
    this.renderer.setPixelRatio(Math.min(2, window.devicePixelRatio || 1));
    this.renderer.setClearColor(0x000000, 0);
    container.appendChild(this.renderer.domElement);
    this.scene.add(new THREE.AmbientLight(0xffffff, 0.55));
    const light = new THREE.DirectionalLight(0xffffff, 1.6);
    light.position.set(0.5, 0.8, 1);
    // The light follows the camera so the side facing the user is always lit.
    this.camera.add(light);
    this.scene.add(this.camera);
    this.marker = new THREE.Mesh(new THREE.SphereGeometry(1.7, 24, 16), new THREE.MeshStandardMaterial({ color: 0xff3d7f, emissive: 0x661030, transparent: true, opacity: 0.85 }));
    this.marker.visible = false;
    this.scene.add(this.root);
    this.root.add(this.marker);
    this.controls = new OrbitControls(this.camera, this.renderer.domElement);
    this.controls.addEventListener('change', () => this.requestRender());
    this.controls.addEventListener('start', () => (this.autoFrame = false));
    const canvas = this.renderer.domElement;
    canvas.addEventListener('pointerdown', (e) => (this.down = { x: e.clientX, y: e.clientY }));
    canvas.addEventListener('pointerup', (e) => this.onPointerUp(e));
    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(container);
    this.resize();
  }

  get canvas(): HTMLCanvasElement {
    return this.renderer.domElement;
  }

  setChains(chains: SceneChain[]): void {
    for (const mesh of this.cartoons) {
      this.root.remove(mesh);
      mesh.geometry.dispose();
      (mesh.material as THREE.Material).dispose();
    }
    this.cartoons.length = 0;
    this.chains = chains;
    for (const chain of chains) {
      const mesh = new THREE.Mesh(buildCartoon(chain), new THREE.MeshStandardMaterial({ vertexColors: true, roughness: 0.55, metalness: 0.05 }));
      this.cartoons.push(mesh);
      this.root.add(mesh);
    }
    this.frameAll();
  }

  recolor(chain: number, colors: Rgb[]): void {
    const mesh = this.cartoons[chain];
    if (!mesh) return;
    this.chains[chain]!.colors = colors;
    recolorCartoon(mesh.geometry, colors);
    this.requestRender();
  }

  setSticks(sticks: readonly Stick[]): void {
    this.sticks = this.replaceLines(this.sticks, sticks.map((s) => ({ a: s.a, b: s.b, colorA: s.colorA, colorB: s.colorB })), 1);
  }

  /** Draws the contacts; returns how many lines are shown. */
  setContacts(contacts: readonly SceneContact[]): number {
    const color = (strength: number): Rgb => [1, 0.55 - 0.35 * strength, 0.1];
    this.contacts = this.replaceLines(this.contacts, contacts.map((c) => ({ a: c.a, b: c.b, colorA: color(c.strength), colorB: color(c.strength) })), 0.9);
    return contacts.length;
  }

  setSelected(point: Vec3 | null): void {
    this.marker.visible = point !== null;
    if (point) this.marker.position.set(point.x, point.y, point.z);
    this.requestRender();
  }

  /** Turns the view around `point` (the clicked residue) without changing the viewing direction. */
  centreOn(point: Vec3): void {
    this.root.updateMatrixWorld();
    const target = this.root.localToWorld(new THREE.Vector3(point.x, point.y, point.z));
    const shift = target.clone().sub(this.controls.target);
    this.autoFrame = false;
    this.controls.target.copy(target);
    this.camera.position.add(shift);
    this.controls.update();
    this.requestRender();
  }

  /** Shows the whole structure. */
  frameAll(): void {
    const points = this.chains.flatMap((c) => c.points);
    if (points.length === 0) return this.requestRender();
    const centre = centroid(points);
    const radius = radiusAround(points, centre) + 3;
    // Fit the narrower of the two fields of view (a tall, narrow view must fit the width).
    const half = (this.camera.fov / 2) * (Math.PI / 180);
    const narrower = Math.min(half, Math.atan(Math.tan(half) * this.camera.aspect));
    const distance = radius / Math.sin(narrower);
    this.autoFrame = true;
    // Turn the molecule so that its longest extent runs across the screen and the camera looks
    // along its thinnest: seen broadside, not end-on. (The camera keeps y up, as the controls expect.)
    const { first, second } = principalAxes(points);
    const x = new THREE.Vector3(first.x, first.y, first.z);
    const y = new THREE.Vector3(second.x, second.y, second.z);
    const basis = new THREE.Matrix4().makeBasis(x, y, new THREE.Vector3().crossVectors(x, y)).transpose();
    this.root.quaternion.setFromRotationMatrix(basis);
    this.root.position.copy(new THREE.Vector3(centre.x, centre.y, centre.z).applyMatrix4(basis).negate());
    this.root.updateMatrixWorld();
    this.controls.target.set(0, 0, 0);
    this.camera.up.set(0, 1, 0);
    this.camera.position.set(0, 0, distance);
    this.camera.near = Math.max(0.1, distance / 100);
    this.camera.far = distance * 10;
    this.camera.updateProjectionMatrix();
    this.controls.update();
    this.requestRender();
  }

  dispose(): void {
    cancelAnimationFrame(this.frame);
    this.resizeObserver.disconnect();
    this.controls.dispose();
    this.setChains([]);
    this.setSticks([]);
    this.setContacts([]);
    this.renderer.dispose();
    this.renderer.domElement.remove();
  }

  private replaceLines(old: THREE.LineSegments | null, lines: { a: Vec3; b: Vec3; colorA: Rgb; colorB: Rgb }[], opacity: number): THREE.LineSegments | null {
    if (old) {
      this.root.remove(old);
      old.geometry.dispose();
      (old.material as THREE.Material).dispose();
    }
    this.requestRender();
    if (lines.length === 0) return null;
    const positions = new Float32Array(lines.length * 6);
    const colors = new Float32Array(lines.length * 6);
    lines.forEach((line, k) => {
      positions.set([line.a.x, line.a.y, line.a.z, line.b.x, line.b.y, line.b.z], k * 6);
      colors.set([...line.colorA, ...line.colorB], k * 6);
    });
    const geometry = new THREE.BufferGeometry();
    geometry.setAttribute('position', new THREE.BufferAttribute(positions, 3));
    geometry.setAttribute('color', new THREE.BufferAttribute(colors, 3));
    const segments = new THREE.LineSegments(geometry, new THREE.LineBasicMaterial({ vertexColors: true, transparent: opacity < 1, opacity }));
    this.root.add(segments);
    return segments;
  }

  private onPointerUp(event: PointerEvent): void {
    const down = this.down;
    this.down = null;
    if (!down || Math.hypot(event.clientX - down.x, event.clientY - down.y) > CLICK_SLOP) return;
    const rect = this.renderer.domElement.getBoundingClientRect();
    const ndc = new THREE.Vector2(((event.clientX - rect.left) / rect.width) * 2 - 1, -((event.clientY - rect.top) / rect.height) * 2 + 1);
    const raycaster = new THREE.Raycaster();
    raycaster.setFromCamera(ndc, this.camera);
    // Picking happens in the molecule's own coordinates: the ray is turned back into them.
    this.root.updateMatrixWorld();
    const inverse = this.root.matrixWorld.clone().invert();
    const origin = raycaster.ray.origin.clone().applyMatrix4(inverse);
    const direction = raycaster.ray.direction.clone().transformDirection(inverse);
    let best: { chain: number; residue: number; distance: number } | null = null;
    this.chains.forEach((chain, c) => {
      const k = pickAlongRay(origin, direction, chain.points);
      if (k < 0) return;
      const d = origin.distanceTo(new THREE.Vector3(chain.points[k]!.x, chain.points[k]!.y, chain.points[k]!.z));
      if (!best || d < best.distance) best = { chain: c, residue: k, distance: d };
    });
    const picked = best as { chain: number; residue: number } | null;
    if (picked) this.onPick(picked.chain, picked.residue);
  }

  /** Where residue k of a chain appears on screen, in CSS pixels relative to the canvas (for tests and tooltips). */
  screenPosition(point: Vec3): { x: number; y: number } {
    const v = this.root.localToWorld(new THREE.Vector3(point.x, point.y, point.z)).project(this.camera);
    const rect = this.renderer.domElement.getBoundingClientRect();
    return { x: ((v.x + 1) / 2) * rect.width, y: ((1 - v.y) / 2) * rect.height };
  }

  private resize(): void {
    const width = Math.max(1, this.container.clientWidth);
    const height = Math.max(1, this.container.clientHeight);
    this.renderer.setSize(width, height);
    this.camera.aspect = width / height;
    this.camera.updateProjectionMatrix();
    if (this.autoFrame) this.frameAll();
    else this.requestRender();
  }

  private requestRender(): void {
    cancelAnimationFrame(this.frame);
    this.frame = requestAnimationFrame(() => this.renderer.render(this.scene, this.camera));
  }
}
