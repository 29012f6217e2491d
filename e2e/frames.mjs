// Frame times on a phone: the release page at 375×667 (touch), 5 nodes at 1× with 100
// operations a second of background load, measured with Chromium's CPU slowed by 1× (as the
// machine runs) and 4× (a phone's CPU, through the DevTools protocol's
// Emulation.setCPUThrottlingRate). Prints the p50/p95 interval between animation frames and the
// share over one 60 Hz frame (16.7 ms): a frame that does more work than that makes the next
// one late; and the renderer's main-thread time per frame (all of it, script, and style with
// layout). A measurement, not a test: it prints numbers and fails only if the page does.
// Usage: node frames.mjs URL [seconds]
import { openPage, check } from './lib.mjs';

const url = process.argv[2] || 'http://127.0.0.1:8099/';
const seconds = Number(process.argv[3] || 10);

for (const rate of [1, 4]) {
  const { browser, page, errors } = await openPage(url, { width: 375, height: 667, touch: true });
  try {
    await page.waitForSelector('[data-testid="node-1"]');
    await page.selectOption('[data-testid="node-count-select"]', '5');
    await page.click('[data-testid="reset-button"]');
    await page.selectOption('[data-testid="speed-select"]', '5'); // 1×
    await page.selectOption('[data-testid="workload-select"]', '100');
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate });
    await page.waitForTimeout(1000); // the run settles at its speed
    // The renderer's main-thread time over the measurement (DevTools Performance metrics):
    // steadier than frame intervals on a busy machine, and split into script and style/layout.
    await cdp.send('Performance.enable');
    const metrics = async () => new Map((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
    const before = await metrics();
    const gaps = await page.evaluate((ms) => new Promise((done) => {
      const stamps = [];
      const start = performance.now();
      const frame = (t) => {
        stamps.push(t);
        if (t - start < ms) requestAnimationFrame(frame); else done(stamps.slice(1).map((s, i) => s - stamps[i]));
      };
      requestAnimationFrame(frame);
    }), seconds * 1000);
    const after = await metrics();
    const perFrame = (...names) => (names.reduce((sum, n) => sum + after.get(n) - before.get(n), 0) * 1000 / gaps.length).toFixed(1);
    gaps.sort((a, b) => a - b);
    const at = (q) => gaps[Math.min(gaps.length - 1, Math.floor(gaps.length * q))];
    const late = gaps.filter((g) => g > 17.5).length / gaps.length;
    const running = await page.textContent('[data-testid="speed-behind"]');
    check(errors.length === 0, `console errors: ${errors.join(' | ')}`);
    console.log(`BENCH phone frames cpu_slowdown=${rate}x frames=${gaps.length} p50_ms=${at(0.5).toFixed(1)} p95_ms=${at(0.95).toFixed(1)} late=${(100 * late).toFixed(1)}% main_thread_ms_per_frame=${perFrame('TaskDuration')} script_ms=${perFrame('ScriptDuration')} style_layout_ms=${perFrame('RecalcStyleDuration', 'LayoutDuration')} behind="${(running || '').trim()}"`);
  } finally {
    await browser.close();
  }
}
