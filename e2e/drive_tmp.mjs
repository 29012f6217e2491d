import { openPage, check } from './lib.mjs';
const url = process.argv[2];
const { browser, page, errors } = await openPage(url);
const t = async (id) => (await page.locator(`[data-testid="${id}"]`).first().textContent()) ?? '';
const click = async (id) => { await page.click(`[data-testid="${id}"]`); await page.waitForTimeout(150); };
await page.waitForSelector('[data-testid="play-toggle"]');
// 1. pause-stale: the verdict at the reveal step, without time moving
await page.selectOption('[data-testid="tour-select"]', 'pause-stale');
await click('tour-start');
for (let i = 0; i < 6; i++) await click('tour-next');
console.log('summary after 6 steps:', await t('checker-summary'));
await page.screenshot({ path: '/tmp/drive-pause-stale.png' });
// 2. clock-drift-stale with Play in between
await page.selectOption('[data-testid="tour-select"]', 'clock-drift-stale');
await click('tour-start');
await click('tour-next');
await click('advance-1s'); await click('advance-1s'); await click('advance-1s');
await click('tour-next');
console.log('narration:', await page.locator('.tour').first().textContent());
await page.screenshot({ path: '/tmp/drive-late.png' });
// 3. settings marker
console.log('pending before:', JSON.stringify(await t('settings-pending')));
await page.selectOption('[data-testid="node-count-select"]', '5');
await page.waitForTimeout(150);
console.log('pending after nodes=5:', JSON.stringify(await t('settings-pending')));
await page.screenshot({ path: '/tmp/drive-pending.png' });
await click('reset-button');
console.log('pending after reset:', JSON.stringify(await t('settings-pending')));
console.log('errors:', errors);
await browser.close();
