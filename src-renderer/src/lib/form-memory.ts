// lib/form-memory — what a form's fields held when the user left its page, so that coming back
// finds them as they were (for this session of the app; a new session starts from the defaults).
// A form reads its fields once when it is created and writes them back as they change.
const memory = new Map<string, unknown>();

/** The fields remembered under `key` (e.g. "embed:3", the embedding form of project 3), or `initial`. */
export function recall<T extends object>(key: string, initial: T): T {
  const saved = memory.get(key) as Partial<T> | undefined;
  return saved ? { ...initial, ...saved } : initial;
}

export function remember<T extends object>(key: string, fields: T): void {
  memory.set(key, structuredClone(fields));
}
