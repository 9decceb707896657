// lib/theme.svelte — light or dark theme: the user's choice (remembered) or else the system's preference.
import { readSetting, writeSetting } from './storage';

export type Theme = 'light' | 'dark';

const KEY = 'theme';
const media = typeof matchMedia === 'function' ? matchMedia('(prefers-color-scheme: dark)') : null;

function stored(): Theme | null {
  const value = readSetting(KEY);
  return value === 'light' || value === 'dark' ? value : null;
}

class ThemeStore {
  chosen = $state<Theme | null>(stored());
  system = $state<Theme>(media?.matches ? 'dark' : 'light');
  current = $derived<Theme>(this.chosen ?? this.system);

  constructor() {
    media?.addEventListener('change', (event) => {
      this.system = event.matches ? 'dark' : 'light';
    });
  }

  toggle(): void {
    this.chosen = this.current === 'dark' ? 'light' : 'dark';
    writeSetting(KEY, this.chosen);
  }

  /** Puts the theme on <html data-theme>, where the CSS custom properties hang. */
  apply(): void {
    document.documentElement.dataset.theme = this.current;
  }
}

export const theme = new ThemeStore();
