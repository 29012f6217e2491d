// Shared helpers for the end-to-end journeys: launch Debian's chromium through
// playwright-core (no browser download), open the page, collect console errors.
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

export async function openPage(url, { width = 1280, height = 800, touch = false, colorScheme = 'dark', forcedColors = 'none' } = {}) {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  // A context of its own: axe-core runs part of its audit in a second page of the context.
  // `touch`: a phone or tablet (touch events, mobile viewport rules). `colorScheme` is the
  // system's light or dark preference the page follows (dark unless a journey says otherwise,
  // playwright's own default being light); `forcedColors` emulates a high-contrast mode.
  const context = await browser.newContext({
    viewport: { width, height }, isMobile: touch, hasTouch: touch, colorScheme, forcedColors,
  });
  const page = await context.newPage();
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url);
  return { browser, page, errors };
}

export function check(cond, message) {
  if (!cond) throw new Error(message);
}
