// lib/nav.svelte — the pages of the app and which one is shown (kept in the URL hash across reloads).
export type PageId = 'projects' | 'data' | 'models' | 'runs' | 'map' | 'structure' | 'variants' | 'training' | 'reports';

export interface Page {
  id: PageId;
  label: string;
}

export const pages: readonly Page[] = [
  { id: 'projects', label: 'Projects' },
  { id: 'data', label: 'Data' },
  { id: 'models', label: 'Models' },
  { id: 'runs', label: 'Runs' },
  { id: 'map', label: 'Map' },
  { id: 'structure', label: 'Structure' },
  { id: 'variants', label: 'Variants' },
  { id: 'training', label: 'Training' },
  { id: 'reports', label: 'Reports' },
];

function isPageId(value: string): value is PageId {
  return pages.some((page) => page.id === value);
}

function fromHash(): PageId {
  const id = location.hash.replace(/^#\/?/, '');
  return isPageId(id) ? id : 'projects';
}

class NavStore {
  page = $state<PageId>(fromHash());

  constructor() {
    window.addEventListener('hashchange', () => {
      this.page = fromHash();
    });
  }

  go(id: PageId): void {
    this.page = id;
    history.replaceState(history.state, '', `#${id}`);
  }
}

export const nav = new NavStore();
