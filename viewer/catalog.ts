// The dashboards the viewer serves: every *.json under the folder Grafana's file provider reads
// (subfolders are Grafana folders), read afresh on each request so a `perfstack generate` shows
// up on reload. Also the provisioned datasources, with the URL the viewer should proxy to.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { parse } from 'yaml';
import { allPanels, type Dashboard, type DashboardEntry } from './shared/model.js';
import { parseDuration } from './shared/template.js';

export interface CatalogEntry extends DashboardEntry {
  /** Absolute path of the JSON file. */
  path: string;
  /** Set when the file could not be read as a dashboard. */
  error?: string;
}

function jsonFiles(folder: string): string[] {
  if (!existsSync(folder)) return [];
  const out: string[] = [];
  for (const name of readdirSync(folder).sort()) {
    const path = join(folder, name);
    if (statSync(path).isDirectory()) out.push(...jsonFiles(path));
    else if (name.endsWith('.json')) out.push(path);
  }
  return out;
}

/** Every dashboard file under `folder`, in folder then file order. */
export function listDashboards(folder: string): CatalogEntry[] {
  return jsonFiles(folder).map((path) => {
    const rel = relative(folder, path).split(sep);
    const file = rel.pop()!;
    const base = { path, file, folder: rel.join('/') || 'General', tags: [] as string[], description: '', panels: 0 };
    try {
      const dashboard = JSON.parse(readFileSync(path, 'utf8')) as Dashboard;
      if (typeof dashboard.uid !== 'string' || dashboard.uid === '') throw new Error('no uid');
      return {
        ...base,
        uid: dashboard.uid,
        title: typeof dashboard.title === 'string' ? dashboard.title : dashboard.uid,
        tags: Array.isArray(dashboard.tags) ? dashboard.tags.map(String) : [],
        description: typeof dashboard.description === 'string' ? dashboard.description : '',
        panels: allPanels(dashboard).filter((p) => p.type !== 'row').length,
      };
    } catch (error) {
      return { ...base, uid: `file:${rel.concat(file).join('/')}`, title: file, error: (error as Error).message };
    }
  });
}

/** One dashboard's JSON by uid, or undefined. */
export function readDashboard(folder: string, uid: string): Dashboard | undefined {
  const entry = listDashboards(folder).find((e) => e.uid === uid && !e.error);
  return entry ? (JSON.parse(readFileSync(entry.path, 'utf8')) as Dashboard) : undefined;
}

/** A datasource the viewer proxies: the provisioned uid and name, and where Prometheus answers here. */
export interface ViewerDatasource {
  uid: string;
  name: string;
  type: 'prometheus';
  /** Prometheus's base URL, e.g. http://127.0.0.1:9090 (never sent to the browser). */
  url: string;
  isDefault: boolean;
  scrapeIntervalSeconds: number;
}

interface ProvisionedDatasource {
  name?: string;
  type?: string;
  uid?: string;
  isDefault?: boolean;
  jsonData?: { timeInterval?: string };
}

/**
 * The Prometheus datasources provisioned for Grafana (provisioning/grafana/datasources/*.yml), each
 * pointed at `prometheusUrl` (the compose address in the files means nothing here). Without any
 * file, one datasource named Prometheus with `fallbackUid`.
 */
export function provisionedDatasources(folder: string, prometheusUrl: string, fallbackUid = 'prometheus'): ViewerDatasource[] {
  const out: ViewerDatasource[] = [];
  if (existsSync(folder)) {
    for (const name of readdirSync(folder).sort()) {
      if (!/\.ya?ml$/.test(name)) continue;
      const document = parse(readFileSync(join(folder, name), 'utf8')) as { datasources?: ProvisionedDatasource[] } | null;
      for (const ds of document?.datasources ?? []) {
        if (ds.type !== 'prometheus' || !ds.uid) continue;
        out.push({
          uid: ds.uid,
          name: ds.name ?? ds.uid,
          type: 'prometheus',
          url: prometheusUrl,
          isDefault: ds.isDefault ?? false,
          scrapeIntervalSeconds: (parseDuration(ds.jsonData?.timeInterval ?? '') ?? 15_000) / 1000,
        });
      }
    }
  }
  if (out.length === 0) out.push({ uid: fallbackUid, name: 'Prometheus', type: 'prometheus', url: prometheusUrl, isDefault: true, scrapeIntervalSeconds: 15 });
  if (!out.some((d) => d.isDefault)) out[0]!.isDefault = true;
  return out;
}
