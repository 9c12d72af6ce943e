// Vega-Lite specs rendered to SVG strings in Node (no browser, no canvas), deterministic and safe
// to inline several times in one HTML page. The regression report and the run report share it.

import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';

/** Vega-Lite's warnings go to the console by default; a report should not print. */
const SILENT_LOGGER = vega.logger(vega.None);

/** Renders a Vega-Lite spec to an SVG string with ids made unique by `idPrefix`. */
export async function renderSvg(spec: TopLevelSpec, idPrefix: string): Promise<string> {
  const compiled = vl.compile(spec, { logger: SILENT_LOGGER }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', logLevel: vega.None });
  try {
    return normalizeSvg(await view.toSVG(), idPrefix);
  } finally {
    view.finalize();
  }
}

/**
 * Makes Vega's SVG deterministic and safe to inline several times in one page: Vega numbers
 * clip paths and gradients from a process-wide counter, so ids are renamed in order of
 * appearance under `idPrefix`; the namespace declarations are dropped (HTML puts inline <svg>
 * in the SVG namespace by itself), so the page holds no URL at all.
 */
export function normalizeSvg(svg: string, idPrefix: string): string {
  const ids = new Map<string, string>();
  for (const m of svg.matchAll(/\sid="([^"]+)"/g)) {
    const id = m[1];
    if (id !== undefined && !ids.has(id)) ids.set(id, `${idPrefix}-${ids.size + 1}`);
  }
  let out = svg.replace(/(\sid=")([^"]+)(")/g, (_all, a: string, id: string, b: string) => `${a}${ids.get(id) ?? id}${b}`);
  out = out.replace(/url\(#([^)]+)\)/g, (all, id: string) => (ids.has(id) ? `url(#${ids.get(id)})` : all));
  out = out.replace(/(href=")#([^"]+)(")/g, (all, a: string, id: string, b: string) => (ids.has(id) ? `${a}#${ids.get(id)}${b}` : all));
  if (!/\sxlink:/.test(out.replace(/\sxmlns:xlink="[^"]*"/, ''))) out = out.replace(/\sxmlns:xlink="[^"]*"/, '');
  out = out.replace(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/, '<svg');
  return out;
}
