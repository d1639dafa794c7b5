// Debian's Chromium for the browser tests, driven by playwright-core: where it is, a describe
// that skips loudly without it, and the one set of launch flags every browser test uses.
import { existsSync, readFileSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);

/** `describe` when Chromium is installed; otherwise `describe.skip`, with a warning no one can miss. */
export function describeWithChromium(what: string): jest.Describe {
  if (HAVE_CHROMIUM) {
    // A page step takes a second or two alone; on a busy 2-core CI machine (jest runs two files
    // at once, with the emulators, sharp and a browser in one) it has taken past jest's 20 s.
    jest.setTimeout(60_000);
    return describe;
  }
  const bar = '!'.repeat(78);
  console.warn(
    `\n${bar}\n!! BROWSER TEST SKIPPED: ${CHROMIUM} is missing, so ${what} was NOT tested.\n` +
      `!! Install it with scripts/ensure-chromium.sh (as root) or: apt-get install chromium\n${bar}\n`,
  );
  return describe.skip;
}

export function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    // Playwright gives every launch a fresh temporary profile (--user-data-dir) and removes it on close.
    args: [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...extraArgs,
    ],
  });
}

/** Runs axe-core in the page (through the DevTools protocol, which the page's CSP does not govern). */
export async function axeViolations(page: Page): Promise<{ id: string; impact: string; nodes: number }[]> {
  await page.evaluate(readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8'));
  return (await page.evaluate(`axe.run(document).then((r) =>
    r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length })))`)) as {
    id: string;
    impact: string;
    nodes: number;
  }[];
}

/** The document's scroll and client widths: content wider than the viewport scrolls sideways. */
export async function pageWidths(page: Page): Promise<{ scroll: number; client: number }> {
  return (await page.evaluate(
    '({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth })',
  )) as { scroll: number; client: number };
}
