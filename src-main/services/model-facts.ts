/**
 * services/model-facts — an installed model as the API describes it: the database's record plus
 * what its folder's manifest knows (its family, its parameter count counted from the checkpoint,
 * whether its family has a contact head). Scans, reports and the models list all read a model's
 * size here, so the "score against model size" plot and the reports agree, whatever the family
 * or precision. A folder that cannot be read keeps the record's family and an unknown size (0).
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { Model } from '../api/schemas';
import { MANIFEST_FILE, openInstalled } from '../models/installed';
import { DEFAULT_FAMILY_ID, familyById, FAMILIES } from '../models/registry';
import type { ModelRecord } from '../store/models';
import { defaultLoraTargets, loraTargetsOffered } from '../train/lora';

type FolderFacts = Pick<Model, 'family' | 'parameters' | 'hasContacts' | 'loraTargets' | 'defaultLoraTargets'>;

/** Manifests do not change once written; re-read only when the file does (a model reinstalled in place). */
const cache = new Map<string, { mtimeMs: number; facts: FolderFacts }>();

/** The family named by a record's label (old records and unreadable folders), else the default one. */
function familyOfLabel(label: string) {
  return FAMILIES.find((family) => family.label === label) ?? familyById(DEFAULT_FAMILY_ID)!;
}

function folderFacts(record: ModelRecord): FolderFacts {
  const file = join(record.path, MANIFEST_FILE);
  let mtimeMs: number;
  try {
    mtimeMs = statSync(file).mtimeMs;
  } catch {
    const family = familyOfLabel(record.family);
    return { family: family.label, parameters: 0, hasContacts: family.heads.contacts, loraTargets: [], defaultLoraTargets: [] };
  }
  const cached = cache.get(file);
  if (cached?.mtimeMs === mtimeMs) return cached.facts;
  let facts: FolderFacts;
  try {
    const { manifest, family } = openInstalled(record.path);
    const offered = loraTargetsOffered(family, manifest.config);
    facts = { family: family.label, parameters: manifest.parameters, hasContacts: family.heads.contacts, loraTargets: offered, defaultLoraTargets: defaultLoraTargets(offered) };
  } catch {
    const family = familyOfLabel(record.family);
    facts = { family: family.label, parameters: 0, hasContacts: family.heads.contacts, loraTargets: [], defaultLoraTargets: [] };
  }
  cache.set(file, { mtimeMs, facts });
  return facts;
}

/** The model as `models.list` answers it. */
export function describeModel(record: ModelRecord): Model {
  return { ...record, ...folderFacts(record) };
}
