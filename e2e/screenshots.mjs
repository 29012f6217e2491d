// Screenshots of the main states for the README: node screenshots.mjs URL OUTDIR
import { openPage } from './lib.mjs';
const [url = 'http://127.0.0.1:8099/', dir = '../docs/screenshots'] = process.argv.slice(2);
const c = (page, id) => page.click(`[data-testid="${id}"]`);
// The cluster panel from its top to the end of the space-time diagram (the panels below it,
// the comparison and the read paths, are left out).
async function clusterAndDiagram(page, path) {
  const top = await (await page.$('.cluster-panel')).boundingBox();
  const diagram = await (await page.$('.spacetime-panel')).boundingBox();
  await page.screenshot({ path, fullPage: true,
    clip: { x: top.x, y: top.y, width: top.width, height: diagram.y + diagram.height - top.y + 8 } });
}

{ // A healthy cluster with a lease read selected and the inspector open.
  const { browser, page } = await openPage(url);
  await page.waitForSelector('[data-testid="node-1"]');
  await c(page, 'play-toggle');
  for (let i = 0; i < 3; i++) await c(page, 'advance-1s');
  await c(page, 'key-lease-grant'); await c(page, 'advance-100ms');
  await c(page, 'put-with-key-lease'); await c(page, 'advance-100ms');
  await c(page, 'read-button');
  await page.selectOption('[data-testid="write-node"]', '2');
  await c(page, 'read-button');
  await c(page, 'step-event'); await c(page, 'step-event'); await c(page, 'step-event');
  await c(page, 'op-3');
  await c(page, 'node-row-1');
  await page.screenshot({ path: `${dir}/cluster.png`, fullPage: true });
  await browser.close();
}
{ // The clock-drift tour at its end: the stale read caught and explained.
  const { browser, page } = await openPage(url);
  await page.waitForSelector('[data-testid="node-1"]');
  await page.selectOption('[data-testid="tour-select"]', 'clock-drift-stale');
  await c(page, 'tour-start');
  for (let i = 0; i < 17; i++) await c(page, 'tour-next');
  const stale = await page.$$eval('[data-testid^="op-verdict-"]', (els) => els.filter((e) => e.textContent === 'STALE').map((e) => e.dataset.testid.replace('op-verdict-', '')));
  if (stale.length) await c(page, `op-${stale[0]}`);
  await page.screenshot({ path: `${dir}/stale-read.png`, fullPage: true });
  await browser.close();
}
{ // raft-rs LeaseBased with the leader cut off: two leaders, the stale-read window shaded in
  // the space-time diagram; then scrubbed back to just before the cut.
  const { browser, page } = await openPage(url, { width: 1280, height: 1000 });
  await page.waitForSelector('[data-testid="node-1"]');
  await page.selectOption('[data-testid="tour-select"]', 'lease-based-two-leaders');
  await c(page, 'tour-start');
  for (let i = 0; i < 4; i++) await c(page, 'tour-next');
  for (let i = 0; i < 4; i++) await c(page, 'advance-100ms');
  await clusterAndDiagram(page, `${dir}/spacetime.png`);
  await browser.close();
}
{ // Projector mode at 1024×768 with a lease read served.
  const { browser, page } = await openPage(url, { width: 1024, height: 768 });
  await page.waitForSelector('[data-testid="node-1"]');
  await c(page, 'play-toggle');
  for (let i = 0; i < 3; i++) await c(page, 'advance-1s');
  await c(page, 'read-button'); await c(page, 'advance-100ms');
  await c(page, 'projector-toggle');
  await page.screenshot({ path: `${dir}/projector.png` });
  await browser.close();
}
{ // A phone (375 px, touch): the cluster panel, stacked.
  const { browser, page } = await openPage(url, { width: 375, height: 667, touch: true });
  await page.waitForSelector('[data-testid="node-1"]');
  await page.tap('[data-testid="play-toggle"]');
  for (let i = 0; i < 3; i++) await page.tap('[data-testid="advance-1s"]');
  await page.tap('[data-testid="read-button"]');
  await page.tap('[data-testid="advance-100ms"]');
  await clusterAndDiagram(page, `${dir}/phone.png`);
  await browser.close();
}
{ // The light theme (the system's preference), the inspector open.
  const { browser, page } = await openPage(url, { colorScheme: 'light' });
  await page.waitForSelector('[data-testid="node-1"]');
  await c(page, 'play-toggle');
  for (let i = 0; i < 3; i++) await c(page, 'advance-1s');
  await c(page, 'read-button'); await c(page, 'advance-100ms');
  await c(page, 'node-row-1');
  await page.screenshot({ path: `${dir}/light.png` });
  await browser.close();
}
console.log('screenshots written');
