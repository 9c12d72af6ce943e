// Test data generators: entity names built from the same syllables as the seeded ones (so searches
// and resolutions find matches), categories from the service's list, bounded payload sizes.

import { DEMO_USER, ENTITY_CATEGORIES, NAME_SYLLABLES } from './catalog.ts';

export const randomInt = (min: number, max: number): number => min + Math.floor(Math.random() * (max - min + 1));

export function pick<T>(list: readonly T[]): T {
  if (list.length === 0) throw new Error('pick: empty list');
  return list[Math.floor(Math.random() * list.length)] as T;
}

export function entityName(): string {
  const word = pick(NAME_SYLLABLES) + pick(NAME_SYLLABLES) + (Math.random() < 0.5 ? pick(NAME_SYLLABLES) : '');
  return `${word.charAt(0).toUpperCase()}${word.slice(1)} k6-${randomInt(1, 1_000_000)}`;
}

export interface EntityInput {
  name: string;
  category: string;
  attributes: Record<string, unknown>;
}

export function entity(): EntityInput {
  return {
    name: entityName(),
    category: pick(ENTITY_CATEGORIES),
    attributes: { source: 'k6', weight: randomInt(1, 1000), tags: ['load-test'] },
  };
}

export const entities = (count: number): EntityInput[] => Array.from({ length: count }, entity);

/** A search term: the first letters of a known name, or generated syllables. */
export function searchTerm(knownNames: readonly string[]): string {
  if (knownNames.length > 0 && Math.random() < 0.8) {
    const name = pick(knownNames);
    return name.slice(0, Math.min(name.length, randomInt(4, 8)));
  }
  return pick(NAME_SYLLABLES) + pick(NAME_SYLLABLES);
}

/** A known name with one typo: what entity resolution is for. */
export function misspelt(name: string): string {
  if (name.length < 3) return name;
  const at = randomInt(1, name.length - 2);
  return name.slice(0, at) + pick(NAME_SYLLABLES).charAt(0) + name.slice(at + 1);
}

/** Bytes for a file upload (a payload of the given size; well under the 1 MiB limit). */
export function fileBytes(size: number): ArrayBuffer {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + 7) & 0xff;
  return bytes.buffer;
}

export const credentials = (): { username: string; password: string } => ({ ...DEMO_USER });
