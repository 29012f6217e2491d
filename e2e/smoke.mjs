// Smoke check of a built page: it must render a cluster that elects a leader and commits a
// write on every node. A blank page after a "successful" build is a known trap (wrong
// wasm-opt), so this runs after every release build.
// Usage: node smoke.mjs URL [screenshot.png]
import { openPage, check } from './lib.mjs';

const url = process.argv[2] || 'http://127.0.0.1:8099/';
const shot = process.argv[3] || 'out/smoke.png';
const { browser, page, errors } = await openPage(url);
try {
  const t0 = Date.now();
  await page.waitForSelector('[data-testid="cluster-view"] [data-testid="node-3"]', { timeout: 20000 });
  const firstRenderMs = Date.now() - t0;
  // Fast-forward simulated time until a leader exists.
  for (let i = 0; i < 10; i++) {
    const text = await page.textContent('[data-testid="leader-summary"]');
    if (/leader n\d/.test(text)) break;
    await page.click('[data-testid="advance-1s"]');
  }
  const summary = await page.textContent('[data-testid="leader-summary"]');
  check(/leader n\d/.test(summary), `no leader shown: "${summary}"`);
  const leaders = await page.$$('[data-testid^="node-"][data-role="leader"]');
  check(leaders.length === 1, `expected one leader node in the view, saw ${leaders.length}`);

  await page.click('[data-testid="write-button"]');
  await page.click('[data-testid="advance-1s"]');
  const outcome = await page.textContent('[data-testid="op-outcome-1"]');
  check(/ok, rev 2/.test(outcome), `write not acknowledged: "${outcome}"`);
  const applied = await page.$$eval('[data-testid^="node-applied-"]', (els) => els.map((e) => e.textContent));
  check(applied.length === 3 && new Set(applied).size === 1, `applied indexes differ: ${applied}`);

  await page.screenshot({ path: shot });
  check(errors.length === 0, `console errors: ${errors.join(' | ')}`);
  console.log(`smoke: ok (first render ${firstRenderMs} ms, ${summary.trim()}, applied ${applied[0]} on all nodes) -> ${shot}`);
} finally {
  await browser.close();
}
