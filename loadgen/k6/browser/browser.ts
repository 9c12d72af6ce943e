// k6/browser's `browser` object and BrowserContext, on one lazily launched Chromium shared by
// every VU. Each context gets the Web Vitals init script, the binding that receives its reports,
// and the listeners that measure its requests.
import { chromium, type Browser as PwBrowser, type BrowserContext as PwContext, type BrowserContextOptions } from 'playwright-core';
import type { EmitFn } from './metrics.js';
import { NetworkMetrics } from './network.js';
import { Page, type PageOwner } from './page.js';
import { emitVitalReport, VITALS_BINDING, vitalsInitScript } from './vitals.js';

export interface LaunchSettings {
  executablePath: string;
  launchArgs: string[];
  headless: boolean;
}

/** k6's NewBrowserContextOptions (the subset Playwright shares; k6 spells `timezoneID`). */
export interface NewContextOptions {
  bypassCSP?: boolean;
  colorScheme?: 'light' | 'dark' | 'no-preference';
  deviceScaleFactor?: number;
  extraHTTPHeaders?: Record<string, string>;
  geolocation?: { latitude: number; longitude: number; accuracy?: number };
  hasTouch?: boolean;
  httpCredentials?: { username: string; password: string };
  ignoreHTTPSErrors?: boolean;
  isMobile?: boolean;
  javaScriptEnabled?: boolean;
  locale?: string;
  offline?: boolean;
  permissions?: string[];
  reducedMotion?: 'reduce' | 'no-preference';
  screen?: { width: number; height: number };
  timezoneID?: string;
  userAgent?: string;
  viewport?: { width: number; height: number } | null;
}

const CONTEXT_OPTION_KEYS = [
  'bypassCSP', 'colorScheme', 'deviceScaleFactor', 'extraHTTPHeaders', 'geolocation', 'hasTouch', 'httpCredentials',
  'ignoreHTTPSErrors', 'isMobile', 'javaScriptEnabled', 'locale', 'offline', 'permissions', 'reducedMotion', 'screen',
  'userAgent', 'viewport',
] as const;

function playwrightContextOptions(options: NewContextOptions = {}): BrowserContextOptions {
  const out: Record<string, unknown> = {};
  for (const key of CONTEXT_OPTION_KEYS) if (options[key] !== undefined) out[key] = options[key];
  if (options.timezoneID !== undefined) out.timezoneId = options.timezoneID;
  return out as BrowserContextOptions;
}

export const CLOSED_MESSAGE = 'k6/browser: the browser module is closed (the run has stopped)';

/** The one Chromium process: launched on first use, relaunched if it died, killed on close. */
export class ChromiumProcess {
  readonly #settings: LaunchSettings;
  #launching: Promise<PwBrowser> | undefined;
  #browser: PwBrowser | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(settings: LaunchSettings) {
    this.#settings = settings;
  }

  get connected(): boolean {
    return this.#browser?.isConnected() ?? false;
  }

  get(): Promise<PwBrowser> {
    if (this.#closed) return Promise.reject(new Error(CLOSED_MESSAGE));
    this.#launching ??= this.#launch();
    return this.#launching;
  }

  async #launch(): Promise<PwBrowser> {
    const { executablePath, headless } = this.#settings;
    // `headless` decides; Playwright adds its own --headless when it is true.
    const args = this.#settings.launchArgs.filter((arg) => !/^--headless(=|$)/.test(arg));
    let browser: PwBrowser;
    try {
      browser = await chromium.launch({ executablePath, args, headless, handleSIGINT: false, handleSIGTERM: false, handleSIGHUP: false });
    } catch (err) {
      this.#launching = undefined;
      throw new Error(`k6/browser: could not launch Chromium (${executablePath}): ${(err as Error).message.split('\n')[0]}`, { cause: err });
    }
    this.#browser = browser;
    browser.on('disconnected', () => {
      if (this.#browser !== browser) return;
      this.#browser = undefined;
      if (!this.#closed) this.#launching = undefined; // crashed: the next page launches a new one
    });
    return browser;
  }

  close(): Promise<void> {
    this.#closed = true;
    this.#closing ??= (async () => {
      const browser = await this.#launching?.catch(() => undefined);
      if (browser !== undefined) await browser.close().catch(() => undefined);
    })();
    return this.#closing;
  }
}

/** What contexts share: the process, the emitter, the run's state. */
export class BrowserModuleState {
  readonly process: ChromiumProcess;
  readonly emit: EmitFn;
  readonly contexts = new Set<BrowserContext>();
  current: BrowserContext | null = null;
  closed = false;
  aborting = false;
  #closing: Promise<void> | undefined;
  api!: Browser;

  constructor(settings: LaunchSettings, emit: EmitFn) {
    this.process = new ChromiumProcess(settings);
    // Once the run is aborted, late reports (a binding call in flight) are dropped.
    this.emit = (metric, value, tags) => { if (!this.aborting) emit(metric, value, tags); };
  }

  assertOpen(): void {
    if (this.closed) throw new Error(CLOSED_MESSAGE);
  }

  async newContext(options: NewContextOptions | undefined, forPage: boolean): Promise<BrowserContext> {
    this.assertOpen();
    const browser = await this.process.get();
    const pw = await browser.newContext(playwrightContextOptions(options));
    const context = new BrowserContext(pw, this, forPage);
    try {
      await context.init();
      this.assertOpen();
    } catch (err) {
      await pw.close().catch(() => undefined);
      throw err;
    }
    this.contexts.add(context);
    this.current = context;
    return context;
  }

  contextClosed(context: BrowserContext): void {
    this.contexts.delete(context);
    if (this.current === context) this.current = null;
  }

  /**
   * Normal end: flush and close every context, then Chromium. Abort: kill Chromium at once (every
   * pending browser call rejects), no flushing.
   */
  shutdown(abort: boolean): Promise<void> {
    this.closed = true;
    if (abort) {
      this.aborting = true;
      this.contexts.clear();
      this.current = null;
      return this.process.close();
    }
    this.#closing ??= (async () => {
      await Promise.allSettled([...this.contexts].map((c) => c.close()));
      await this.process.close();
    })();
    return this.#closing;
  }
}

/** k6's BrowserContext. */
export class BrowserContext {
  readonly #pw: PwContext;
  readonly #state: BrowserModuleState;
  readonly #network: NetworkMetrics;
  readonly #pages = new Set<Page>();
  readonly #owner: PageOwner;
  /** browser.newPage() made this context for its first page: closing that page closes it. */
  readonly #forPage: boolean;
  #pageOfContext: Page | undefined;
  #closing: Promise<void> | undefined;

  constructor(pw: PwContext, state: BrowserModuleState, forPage: boolean) {
    this.#pw = pw;
    this.#state = state;
    this.#forPage = forPage;
    this.#network = new NetworkMetrics(pw, state.emit);
    const network = this.#network;
    this.#owner = {
      api: this,
      get aborting() { return state.aborting; },
      settleNetwork: () => network.settle(),
      pageClosed: (page) => this.#pageClosed(page),
    };
  }

  /** Installs the Web Vitals binding and init script; before any page exists. */
  async init(): Promise<void> {
    const emit = this.#state.emit;
    await this.#pw.exposeBinding(VITALS_BINDING, (_source, payload: unknown) => {
      emitVitalReport(emit, payload);
    });
    await this.#pw.addInitScript({ content: vitalsInitScript() });
  }

  browser(): Browser { return this.#state.api; }

  async newPage(): Promise<Page> {
    this.#state.assertOpen();
    if (this.#closing !== undefined) throw new Error('browserContext.newPage: the browser context is closed');
    const page = new Page(await this.#pw.newPage(), this.#owner);
    this.#pages.add(page);
    if (this.#forPage && this.#pageOfContext === undefined) this.#pageOfContext = page;
    return page;
  }

  pages(): Page[] { return [...this.#pages]; }

  /** Flushes the Web Vitals of every open page, then closes the context and its pages. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.allSettled([...this.#pages].map((page) => page.flushVitals()));
      await this.#pw.close().catch(() => undefined);
      this.#pages.clear();
      this.#state.contextClosed(this);
    })();
    return this.#closing;
  }

  async #pageClosed(page: Page): Promise<void> {
    this.#pages.delete(page);
    if (page === this.#pageOfContext) await this.close();
  }

  async addInitScript(script: string | { content?: string }): Promise<void> {
    await this.#pw.addInitScript(typeof script === 'string' ? { content: script } : { content: script.content ?? '' });
  }
  addCookies(cookies: Parameters<PwContext['addCookies']>[0]): Promise<void> { return this.#pw.addCookies(cookies); }
  clearCookies(): Promise<void> { return this.#pw.clearCookies(); }
  cookies(...urls: string[]): ReturnType<PwContext['cookies']> { return this.#pw.cookies(urls); }
  clearPermissions(): Promise<void> { return this.#pw.clearPermissions(); }
  grantPermissions(permissions: string[], options?: { origin?: string }): Promise<void> { return this.#pw.grantPermissions(permissions, options); }
  setDefaultTimeout(timeout: number): void { this.#pw.setDefaultTimeout(timeout); }
  setDefaultNavigationTimeout(timeout: number): void { this.#pw.setDefaultNavigationTimeout(timeout); }
  setGeolocation(geolocation: { latitude: number; longitude: number; accuracy?: number } | null): Promise<void> { return this.#pw.setGeolocation(geolocation); }
  setOffline(offline: boolean): Promise<void> { return this.#pw.setOffline(offline); }
}

/** k6's `browser` (the `k6/browser` named export). */
export interface BrowserApi {
  /** A new page in a new context of its own (closed with the page). */
  newPage(options?: NewContextOptions): Promise<Page>;
  newContext(options?: NewContextOptions): Promise<BrowserContext>;
  /** The most recently created context that is still open, or null. */
  context(): BrowserContext | null;
  /** Closes the context context() returns; rejects when there is none. */
  closeContext(): Promise<void>;
  isConnected(): boolean;
}

export class Browser implements BrowserApi {
  readonly #state: BrowserModuleState;

  constructor(state: BrowserModuleState) {
    this.#state = state;
    state.api = this;
  }

  async newPage(options?: NewContextOptions): Promise<Page> {
    const context = await this.#state.newContext(options, true);
    try {
      return await context.newPage();
    } catch (err) {
      await context.close();
      throw err;
    }
  }

  newContext(options?: NewContextOptions): Promise<BrowserContext> {
    return this.#state.newContext(options, false);
  }

  context(): BrowserContext | null { return this.#state.current; }

  async closeContext(): Promise<void> {
    const context = this.#state.current;
    if (context === null) throw new Error('browser.closeContext: there is no browser context to close');
    await context.close();
  }

  isConnected(): boolean { return this.#state.process.connected; }
}
