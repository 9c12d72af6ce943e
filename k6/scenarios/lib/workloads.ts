// User journeys over the reference service, and weighted mixes of them (read-heavy, write-heavy,
// mixed). Writes only ever delete what they created, so reads of seeded entities keep answering 200.

import { setTimeout } from 'k6/timers';
import * as api from './api.ts';
import { misspelt, pick, randomInt, searchTerm } from './data.ts';
import { thinkTimeSeconds } from './env.ts';

/** What setup() finds in the database and hands to every virtual user. */
export interface Fixture {
  ids: number[];
  names: string[];
  fileId: number | null;
}

/** Reads a page of seeded entities and uploads one file to download later. */
export async function prepare(): Promise<Fixture> {
  const items = await api.listEntities(100, 0);
  if (items.length === 0) {
    throw new Error('the service has no entities: run `perfstack seed small` (or medium/large) before a load test');
  }
  return { ids: items.map((e) => e.id), names: items.map((e) => e.name), fileId: (await api.uploadFile(4096)) ?? null };
}

/** Pauses like a user would between actions: PERFSTACK_THINK_TIME seconds, ±50 %, by awaiting a timer (never the blocking sleep). */
export async function think(): Promise<void> {
  const base = thinkTimeSeconds();
  if (base > 0) await new Promise<void>((resolve) => setTimeout(resolve, base * 1000 * (0.5 + Math.random())));
}

export const flows = {
  async browse(fx: Fixture): Promise<void> {
    await api.listEntities(20, randomInt(0, Math.max(0, fx.ids.length - 20)));
    await api.getEntity(pick(fx.ids));
  },
  async search(fx: Fixture): Promise<void> {
    await api.search(searchTerm(fx.names), 10);
  },
  /** The same entity and the same search twice in a row: the second read of each is a cache hit (docs/caching.md). */
  async cachedReads(fx: Fixture): Promise<void> {
    const id = pick(fx.ids);
    await api.getEntity(id);
    await api.getEntity(id);
    const term = searchTerm(fx.names);
    await api.search(term, 10);
    await api.search(term, 10);
  },
  async resolve(fx: Fixture): Promise<void> {
    await api.resolve(Array.from({ length: 5 }, () => misspelt(pick(fx.names))));
  },
  async crud(): Promise<void> {
    const created = await api.createEntity();
    if (!created) return;
    await api.getEntity(created.id);
    await api.updateEntity(created.id);
    await api.deleteEntity(created.id);
  },
  async create(): Promise<void> {
    await api.createEntity();
  },
  async bulkMultirow(): Promise<void> {
    await api.bulkInsert('multirow', 50);
  },
  async bulkCopy(): Promise<void> {
    await api.bulkInsert('copy', 50);
  },
  async auth(): Promise<void> {
    const token = await api.login();
    if (token) await api.logout(token);
  },
  async upload(): Promise<void> {
    const id = await api.uploadFile(randomInt(1024, 64 * 1024));
    if (id !== undefined) await api.downloadFile(id);
  },
  async download(fx: Fixture): Promise<void> {
    if (fx.fileId !== null) await api.downloadFile(fx.fileId);
  },
  async health(): Promise<void> {
    await api.health();
    await api.healthDatabase();
  },
} satisfies Record<string, (fx: Fixture) => Promise<void>>;

export type Flow = keyof typeof flows;
export type Mix = Partial<Record<Flow, number>>;

/** Mostly reads: search, browsing, resolution and downloads, a few writes. */
export const READ_HEAVY: Mix = { search: 35, browse: 30, resolve: 15, download: 10, create: 3, upload: 2, health: 5 };
/** Mostly writes: CRUD, bulk inserts (multi-row and COPY), uploads. */
export const WRITE_HEAVY: Mix = { crud: 35, create: 15, bulkMultirow: 12, bulkCopy: 12, upload: 16, browse: 5, search: 5 };
/** Everything the service does, in proportions like a day of real traffic. */
export const MIXED: Mix = { search: 25, browse: 20, resolve: 10, crud: 12, create: 5, bulkMultirow: 4, bulkCopy: 4, auth: 5, upload: 5, download: 5, health: 5 };

/** Runs one flow chosen by weight, then thinks (not under an arrival-rate executor, which paces itself). */
export async function runMix(mix: Mix, fx: Fixture, options: { think?: boolean } = {}): Promise<void> {
  const entries = Object.entries(mix) as Array<[Flow, number]>;
  const total = entries.reduce((sum, [, weight]) => sum + weight, 0);
  let roll = Math.random() * total;
  for (const [flow, weight] of entries) {
    roll -= weight;
    if (roll < 0) {
      await flows[flow](fx);
      break;
    }
  }
  if (options.think !== false) await think();
}

/** Every flow once: a functional pass over the whole API (smoke). */
export async function everything(fx: Fixture): Promise<void> {
  for (const flow of Object.keys(flows) as Flow[]) await flows[flow](fx);
  await api.page();
  await api.staticBundle();
  await think();
}
