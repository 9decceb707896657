// lib/color-scales — the app's colour scales live in src-main/core/color-scales (pure, shared with
// the reports); the renderer's components import them from here.
export * from '../../../src-main/core/color-scales';
