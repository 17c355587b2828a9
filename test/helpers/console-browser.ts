import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { type Browser, chromium, type Page } from 'playwright-core';

// Headless Chromium from Debian (/usr/bin/chromium) driven by playwright-core, never a browser
// download; the flags keep it off the network this machine does not have (env: polyglot.md).

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface ConsoleBrowser {
  browser: Browser;
  close(): Promise<void>;
}

// playwright-core starts Chromium with a new empty --user-data-dir of its own (it refuses one
// in args), removed when the browser closes.
export async function launchChromium(): Promise<ConsoleBrowser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    browser,
    close: () => browser.close(),
  };
}

const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: number;
}

let axeSource: string | undefined;

/**
 * axe-core evaluated in the page (DevTools evaluation: a script tag would be inline, which the
 * console's CSP refuses, and the test must not loosen the CSP it is checking).
 */
export async function axe(page: Page): Promise<AxeViolation[]> {
  axeSource ??= readFileSync(axePath, 'utf8');
  await page.evaluate(axeSource);
  // A string, run in the page: the tests' tsconfig has no DOM library.
  return page.evaluate(`axe.run(document, { resultTypes: ['violations'] }).then((r) =>
    r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length })))`) as Promise<
    AxeViolation[]
  >;
}

export function screenshotDir(base: string): string {
  mkdirSync(base, { recursive: true });
  return base;
}
