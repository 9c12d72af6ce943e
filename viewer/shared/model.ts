// The parts of Grafana's dashboard JSON the viewer reads. Deliberately loose: the files are read
// generically (whatever the generator writes today), and anything the viewer does not know is
// reported by support.ts rather than dropped.

export type Json = Record<string, unknown>;

export interface DataSourceRef {
  type?: string;
  uid?: string;
}

export interface ThresholdStep {
  value: number | null;
  color: string;
}

export interface Thresholds {
  mode?: 'absolute' | 'percentage' | string;
  steps?: ThresholdStep[];
}

export interface FieldDefaults {
  unit?: string;
  decimals?: number;
  min?: number;
  max?: number;
  thresholds?: Thresholds;
  color?: { mode?: string; fixedColor?: string };
  custom?: Json;
  displayName?: string;
  noValue?: string;
  mappings?: unknown[];
  links?: unknown[];
}

export interface Target {
  expr?: string;
  refId?: string;
  legendFormat?: string;
  instant?: boolean;
  range?: boolean;
  format?: string;
  datasource?: DataSourceRef | null;
  hide?: boolean;
  interval?: string;
  intervalFactor?: number;
  [key: string]: unknown;
}

export interface Panel {
  type: string;
  id?: number;
  title?: string;
  description?: string;
  gridPos?: { x: number; y: number; w: number; h: number };
  datasource?: DataSourceRef | string | null;
  targets?: Target[];
  fieldConfig?: { defaults?: FieldDefaults; overrides?: unknown[] };
  options?: Json;
  transformations?: { id: string; options?: Json; disabled?: boolean }[];
  collapsed?: boolean;
  panels?: Panel[];
  maxDataPoints?: number;
  interval?: string;
  links?: { title?: string; url?: string; targetBlank?: boolean }[];
  [key: string]: unknown;
}

export interface VariableOption {
  text: string | string[];
  value: string | string[];
  selected?: boolean;
}

export interface Variable {
  name: string;
  type: string;
  label?: string;
  query?: unknown;
  definition?: string;
  datasource?: DataSourceRef | string | null;
  multi?: boolean;
  includeAll?: boolean;
  allValue?: string | null;
  current?: VariableOption | Record<string, never> | null;
  options?: VariableOption[];
  regex?: string;
  sort?: number;
  hide?: number;
  refresh?: number;
  [key: string]: unknown;
}

export interface DashboardLink {
  title?: string;
  type?: string;
  url?: string;
  tooltip?: string;
  includeVars?: boolean;
  keepTime?: boolean;
  targetBlank?: boolean;
  tags?: string[];
  asDropdown?: boolean;
  [key: string]: unknown;
}

export interface Annotation {
  name?: string;
  enable?: boolean;
  hide?: boolean;
  builtIn?: number;
  iconColor?: string;
  datasource?: DataSourceRef | null;
  expr?: string;
  titleFormat?: string;
  textFormat?: string;
  step?: string;
  [key: string]: unknown;
}

export interface Dashboard {
  uid: string;
  title: string;
  description?: string;
  tags?: string[];
  time?: { from: string; to: string };
  refresh?: string | false;
  timezone?: string;
  panels?: Panel[];
  templating?: { list?: Variable[] };
  links?: DashboardLink[];
  annotations?: { list?: Annotation[] };
  [key: string]: unknown;
}

/** One entry of the viewer's dashboard list. */
export interface DashboardEntry {
  uid: string;
  title: string;
  folder: string;
  file: string;
  tags: string[];
  description: string;
  panels: number;
}

/** A Prometheus datasource as the viewer's server proxies it (the URL stays on the server). */
export interface DatasourceInfo {
  uid: string;
  name: string;
  type: string;
  isDefault: boolean;
  /** Grafana's "scrape interval" (jsonData.timeInterval) in seconds: the lower limit of $__interval. */
  scrapeIntervalSeconds: number;
}

/** Every panel of a dashboard (rows and the panels inside collapsed rows included), in document order. */
export function allPanels(dashboard: Pick<Dashboard, 'panels'>): Panel[] {
  const out: Panel[] = [];
  const visit = (panels: Panel[] | undefined) => {
    for (const panel of panels ?? []) {
      out.push(panel);
      if (panel.type === 'row') visit(panel.panels);
    }
  };
  visit(dashboard.panels);
  return out;
}

/** A layout section: a row header (or none, for panels before the first row) and its panels. */
export interface Section {
  row?: Panel;
  /** y of the section's first grid line: panel y positions are relative to it. */
  top: number;
  panels: Panel[];
}

/** Splits the top-level panel list into sections the way Grafana lays rows out. */
export function sections(dashboard: Pick<Dashboard, 'panels'>): Section[] {
  const out: Section[] = [];
  let current: Section = { top: 0, panels: [] };
  for (const panel of dashboard.panels ?? []) {
    if (panel.type === 'row') {
      if (current.row || current.panels.length > 0) out.push(current);
      const y = panel.gridPos?.y ?? 0;
      current = { row: panel, top: y + 1, panels: panel.collapsed ? [...(panel.panels ?? [])] : [] };
      if (panel.collapsed) {
        const ys = current.panels.map((p) => p.gridPos?.y ?? current.top);
        current.top = ys.length > 0 ? Math.min(...ys) : current.top;
      }
    } else {
      current.panels.push(panel);
    }
  }
  if (current.row || current.panels.length > 0) out.push(current);
  return out;
}
