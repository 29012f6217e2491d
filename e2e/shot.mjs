// Screenshot helper: node shot.mjs URL out.png [clicks...] — clicks are data-testid values,
// "+1s" advances one simulated second.
import { openPage } from './lib.mjs';
const [url, out, ...clicks] = process.argv.slice(2);
const { browser, page, errors } = await openPage(url);
await page.waitForSelector('[data-testid="node-1"]');
for (const c of clicks) {
  await page.click(`[data-testid="${c}"]`);
}
await page.screenshot({ path: out, fullPage: true });
console.log(errors.length ? `console errors: ${errors.join(' | ')}` : 'no console errors');
await browser.close();
