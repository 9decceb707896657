// lib/storage — small, failure-proof wrappers around localStorage for remembered settings.
const PREFIX = 'esm-studio.';

export function readSetting(key: string): string | null {
  try {
    return localStorage.getItem(PREFIX + key);
  } catch {
    return null;
  }
}

export function writeSetting(key: string, value: string | null): void {
  try {
    if (value === null) localStorage.removeItem(PREFIX + key);
    else localStorage.setItem(PREFIX + key, value);
  } catch {
    // Storage can be unavailable (private mode, quota); the setting is then simply not remembered.
  }
}
