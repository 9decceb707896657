/**
 * datasets/names — making a list of names unique (duplicate sequence IDs, repeated column
 * headers) the same way everywhere: later copies become `name_2`, `name_3`, ...
 */

/**
 * Returns the names with every repeat renamed. A suffix is never one of the original names, so a
 * file holding `x`, `x`, `x_2` gets `x`, `x_3`, `x_2` and no two results collide.
 */
export function uniqueNames(names: readonly string[]): string[] {
  const taken = new Set(names);
  const seen = new Set<string>();
  return names.map((name) => {
    if (!seen.has(name)) {
      seen.add(name);
      return name;
    }
    const renamed = firstFreeSuffix(name, taken);
    taken.add(renamed);
    return renamed;
  });
}

function firstFreeSuffix(name: string, taken: ReadonlySet<string>): string {
  let suffix = 2;
  while (taken.has(`${name}_${suffix}`)) suffix += 1;
  return `${name}_${suffix}`;
}
