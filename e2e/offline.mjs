// The static site offline: load the page (its service worker keeps what it loaded), cut the
// network, reload, and the page still runs a cluster. Usage: node offline.mjs URL
import { openPage, check } from './lib.mjs';

const url = process.argv[2];
const { browser, page, errors } = await openPage(url);
try {
  await page.waitForSelector('[data-testid="node-1"]');
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
  });
  // The first load was not yet under the worker's control: load once more through it, so that
  // everything the page fetches is kept.
  await page.reload();
  await page.waitForSelector('[data-testid="node-1"]');
  check(await page.evaluate(() => !!navigator.serviceWorker.controller), 'the service worker controls the page');
  await page.context().setOffline(true);
  await page.reload();
  await page.waitForSelector('[data-testid="node-1"]', { timeout: 15000 });
  await page.waitForFunction(() => /leader n\d/.test(document.querySelector('[data-testid="leader-summary"]')?.textContent || ''), null, { timeout: 15000 });
  const offlineErrors = errors.filter((e) => !/ERR_INTERNET_DISCONNECTED|Failed to load resource/.test(e));
  check(offlineErrors.length === 0, `console errors: ${offlineErrors.join(' | ')}`);
  console.log(`offline: ok (${url} reloaded with the network cut, and elected a leader)`);
} finally {
  await browser.close();
}
