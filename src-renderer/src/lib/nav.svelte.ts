// lib/nav.svelte — the pages of the app and which one is shown (kept in the URL hash across reloads).
export type PageId = 'projects' | 'data' | 'models' | 'runs' | 'map' | 'structure' | 'variants' | 'training' | 'reports';

export interface Page {
  id: PageId;
  label: string;
  /** Set for pages that later versions fill: one sentence of what will be there. */
  comingLater?: string;
}

export const pages: readonly Page[] = [
  { id: 'projects', label: 'Projects' },
  { id: 'data', label: 'Data' },
  { id: 'models', label: 'Models' },
  { id: 'runs', label: 'Runs' },
  {
    id: 'map',
    label: 'Map',
    comingLater: 'A map of your sequences, placed by what the model has learned about them and coloured by your labels.',
  },
  {
    id: 'structure',
    label: 'Structure',
    comingLater: 'Contact maps predicted by the model for a sequence, to compare with what you know of its structure.',
  },
  {
    id: 'variants',
    label: 'Variants',
    comingLater: 'Scores for every single mutation of a sequence, showing which changes the model expects to be tolerated.',
  },
  {
    id: 'training',
    label: 'Training',
    comingLater: 'Teaching a small model on top of ESM-2 to predict your labels, with clear progress and results.',
  },
  {
    id: 'reports',
    label: 'Reports',
    comingLater: 'Figures, tables and a written summary of your runs, ready to share with colleagues.',
  },
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
