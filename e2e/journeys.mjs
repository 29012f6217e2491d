// End-to-end journeys against the served page, in Debian's chromium via playwright-core.
// Usage: node journeys.mjs URL. Exits non-zero on the first failed journey. Prints a line per
// journey and writes screenshots of the main states to out/.
import { openPage, check } from './lib.mjs';
import { AxeBuilder } from '@axe-core/playwright';

const url = process.argv[2] || 'http://127.0.0.1:8099/';

async function fresh() {
  const ctx = await openPage(url);
  await ctx.page.waitForSelector('[data-testid="node-1"]');
  await ctx.page.click('[data-testid="play-toggle"]'); // pause: the journey drives time
  return ctx;
}
const text = (page, id) => page.textContent(`[data-testid="${id}"]`);
const click = (page, id) => page.click(`[data-testid="${id}"]`);
async function leaderId(page) {
  const m = /leader n(\d)/.exec(await text(page, 'leader-summary'));
  return m ? Number(m[1]) : null;
}
async function untilLeader(page, not, maxSeconds = 10) {
  for (let i = 0; i < maxSeconds * 10; i++) {
    const l = await leaderId(page);
    if (l && l !== not) return l;
    await click(page, 'advance-100ms');
  }
  throw new Error('no leader');
}
// Sets a range input as a drag would end: input, then change.
async function setRange(page, id, value) {
  await page.$eval(`[data-testid="${id}"]`, (el, v) => {
    el.value = String(v);
    el.dispatchEvent(new Event('input', { bubbles: true }));
    el.dispatchEvent(new Event('change', { bubbles: true }));
  }, value);
}
async function lastOp(page) {
  return page.$eval('[data-testid^="op-path-"]', (el) => Number(el.dataset.testid.replace('op-path-', '')));
}
async function resetWith(page, { seed, policy }) {
  await page.fill('[data-testid="seed-input"]', String(seed));
  if (policy) await page.selectOption('[data-testid="policy-select"]', policy);
  await click(page, 'reset-button');
}

async function partitionJourney() {
  const { browser, page, errors } = await fresh();
  try {
    const old = await untilLeader(page);
    await click(page, 'write-button');
    await click(page, 'advance-100ms');
    await page.selectOption('[data-testid="write-node"]', String(old));
    await click(page, 'read-button');
    let op = await lastOp(page);
    check((await text(page, `op-path-${op}`)).includes('lease read'), 'healthy leader should serve a lease read');
    await click(page, `isolate-${old}`);
    await click(page, 'advance-100ms');
    await click(page, 'advance-100ms');
    await click(page, 'advance-100ms');
    await click(page, 'read-button');
    op = await lastOp(page);
    const p2 = await text(page, `op-path-${op}`);
    check(p2.includes('ReadIndex'), `a cut-off leader falls back to ReadIndex, saw "${p2}" for op${op}`);
    for (let i = 0; i < 4; i++) await click(page, 'advance-1s');
    const outcome = await text(page, `op-outcome-${op}`);
    // It times out, or is aborted ("leader changed") once check_quorum demotes the leader.
    check(/timed out|leader changed/.test(outcome), `the minority cannot serve the read: ${outcome}`);
    const fresh = await untilLeader(page, old);
    check(fresh !== old, 'the majority elects a new leader');
    await page.screenshot({ path: 'out/partition.png' });
    check(errors.length === 0, `console errors: ${errors}`);
    console.log(`journey partition: ok (n${old} isolated, reads went lease → ReadIndex → timeout, n${fresh} leads)`);
  } finally { await browser.close(); }
}

async function staleReadJourney() {
  const { browser, page, errors } = await fresh();
  try {
    for (let seed = 1; seed <= 12; seed++) {
      await resetWith(page, { seed, policy: 'RenewAtAck' });
      const old = await untilLeader(page);
      await page.fill('[data-testid="write-value"]', '1'); // x=1, then x=2 at the new leader
      await click(page, 'write-button');
      await click(page, 'advance-100ms');
      await setRange(page, `rate-${old}`, 5); // the slider's 0.8× step
      await click(page, `isolate-${old}`);
      const fresh = await untilLeader(page, old, 5).catch(() => null);
      if (!fresh) continue;
      await page.selectOption('[data-testid="write-node"]', String(fresh));
      await page.fill('[data-testid="write-value"]', '2');
      await click(page, 'write-button');
      await click(page, 'advance-100ms');
      await page.selectOption('[data-testid="write-node"]', String(old));
      for (let i = 0; i < 6; i++) {
        await click(page, 'read-button');
        await click(page, 'step-event');
      }
      for (let i = 0; i < 3; i++) await click(page, 'advance-1s');
      const summary = await text(page, 'checker-summary');
      if (!/[1-9]\d* stale/.test(summary)) continue;
      const explanation = await text(page, 'stale-explanation');
      check(explanation.includes('via lease read') && explanation.includes('x=2'), `explanation: ${explanation}`);
      await page.screenshot({ path: 'out/stale-read.png' });
      check(errors.length === 0, `console errors: ${errors}`);
      console.log(`journey stale read: ok (seed ${seed}: ${summary.trim()})`);
      return;
    }
    throw new Error('no stale read flagged over 12 seeds with the renew-at-ack policy and a 0.8× leader clock');
  } finally { await browser.close(); }
}

async function crashRestartJourney() {
  const { browser, page, errors } = await fresh();
  try {
    const leader = await untilLeader(page);
    const follower = leader === 1 ? 2 : 1;
    await click(page, `crash-${follower}`);
    check((await text(page, `node-role-${follower}`)) === 'crashed', 'crashed node is shown');
    for (let i = 0; i < 5; i++) { await click(page, 'write-button'); await click(page, 'advance-100ms'); }
    await click(page, `crash-${follower}`); // restart
    await click(page, 'advance-1s');
    const a = await text(page, `node-applied-${follower}`);
    const b = await text(page, `node-applied-${leader}`);
    check(a === b, `restarted follower caught up: applied ${a} vs leader ${b}`);
    check(errors.length === 0, `console errors: ${errors}`);
    console.log(`journey crash/restart: ok (n${follower} caught up to applied ${a})`);
  } finally { await browser.close(); }
}

// Sharing and time travel: share a link, open it elsewhere (same trace), scrub back and fork,
// export and import the JSON, step a tour back and forward, and survive a damaged link.
async function shareJourney() {
  const first = await fresh();
  let shared, hash;
  try {
    const { page } = first;
    await untilLeader(page);
    for (let i = 0; i < 3; i++) { await click(page, 'write-button'); await click(page, 'advance-100ms'); }
    await click(page, 'read-button');
    await click(page, 'advance-1s');
    await click(page, 'share-button');
    shared = await page.inputValue('[data-testid="share-url"]');
    hash = await text(page, 'trace-hash');
    check(shared.includes('#run='), `share link: ${shared}`);
    check(page.url().includes('#run='), 'the address bar carries the run');
    check(first.errors.length === 0, `console errors: ${first.errors}`);
  } finally { await first.browser.close(); }

  const second = await openPage(shared);
  try {
    const { page, errors } = second;
    await page.waitForSelector('[data-testid="node-1"]');
    check((await text(page, 'timeline-note')).includes('Opened the shared run'), 'opened note');
    check((await text(page, 'trace-hash')) === hash, `shared run reproduces the trace: ${hash}`);
    // Scrub back to the middle: the past badge shows; a command there forks.
    await page.$eval('[data-testid="timeline-scrub"]', (el) => {
      el.value = String(Math.floor(Number(el.max) / 2));
      el.dispatchEvent(new Event('input', { bubbles: true }));
    });
    check(await page.isVisible('[data-testid="timeline-past"]'), 'scrubbed into the past');
    check((await text(page, 'trace-hash')) !== hash, 'the past is a different state');
    await click(page, 'timeline-live');
    check((await text(page, 'trace-hash')) === hash, 'back to live reproduces the end again');
    // Half a second before the end: the leader is already elected there.
    await page.$eval('[data-testid="timeline-scrub"]', (el) => {
      el.value = String(Number(el.max) - 500);
      el.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await click(page, 'write-button');
    const forkNote = await text(page, 'timeline-note');
    check(forkNote.includes('Forked at'), `a command in the past forks: ${forkNote} / ${await text(page, 'timeline-position')} / ${await text(page, 'command-error').catch(() => '')}`);
    check(!(await page.isVisible('[data-testid="timeline-past"]')), 'the fork is the new present');
    // Export, then import on a fresh page.
    await click(page, 'advance-1s');
    const forkHash = await text(page, 'trace-hash');
    const [download] = await Promise.all([page.waitForEvent('download'), click(page, 'export-button')]);
    const file = await download.path();
    const json = JSON.parse(await (await import('node:fs/promises')).readFile(file, 'utf8'));
    check(json.recording && Array.isArray(json.history) && json.history.length > 0, 'export holds the run');
    const third = await fresh();
    try {
      await third.page.setInputFiles('[data-testid="import-input"]', file);
      await third.page.waitForFunction(() =>
        document.querySelector('[data-testid="timeline-note"]').textContent.includes('Imported'));
      check((await text(third.page, 'trace-hash')) === forkHash, 'import reproduces the forked run');
      // A tampered file is refused and the run stays.
      json.history[0].invoked_at += 1;
      const bad = file + '.bad.json';
      await (await import('node:fs/promises')).writeFile(bad, JSON.stringify(json));
      await third.page.setInputFiles('[data-testid="import-input"]', bad);
      await third.page.waitForFunction(() =>
        document.querySelector('[data-testid="timeline-note"]').textContent.includes('Import failed'));
      check((await text(third.page, 'trace-hash')) === forkHash, 'a refused import leaves the run');
      check(await third.page.$eval('[data-testid="timeline-note"]', (e) => e.classList.contains('failure')),
        'a refused import is shown as a failure');
      // Settings opens from its summary and closes on a real click elsewhere.
      await third.page.click('[data-testid="settings"] summary');
      check(await third.page.$eval('[data-testid="settings"]', (e) => e.open), 'settings opens');
      await third.page.click('h1');
      check(!(await third.page.$eval('[data-testid="settings"]', (e) => e.open)), 'settings closes on a click elsewhere');
      check(third.errors.length === 0, `console errors: ${third.errors}`);
    } finally { await third.browser.close(); }
    // A guided tour, back and forward.
    await page.selectOption('[data-testid="tour-select"]', 'leader-isolated');
    await click(page, 'tour-start');
    await click(page, 'tour-next');
    await click(page, 'tour-next');
    const two = await text(page, 'trace-hash');
    check((await text(page, 'tour-progress')) === 'step 2 of ' + (await text(page, 'tour-progress')).split(' of ')[1], 'tour at step 2');
    await click(page, 'tour-back');
    check((await text(page, 'tour-progress')).startsWith('step 1 of'), 'back to step 1');
    await click(page, 'tour-next');
    check((await text(page, 'trace-hash')) === two, 'back then next replays step 2 exactly');
    check(errors.length === 0, `console errors: ${errors}`);
  } finally { await second.browser.close(); }

  const damaged = await openPage(shared.slice(0, shared.length - 40) + 'x!');
  try {
    await damaged.page.waitForSelector('[data-testid="node-1"]');
    check((await text(damaged.page, 'timeline-note')).includes('Could not open the shared link'), 'damaged link reported');
    check(damaged.errors.length === 0, `console errors: ${damaged.errors}`);
  } finally { await damaged.browser.close(); }
  console.log('journey share/scrub/fork/export/import/tour: ok');
}

// SOAK_SEED and SOAK_ACTIONS vary it (e.g. a longer soak by hand); a failure names both.
async function soak(actions = Number(process.env.SOAK_ACTIONS || 400), seed = Number(process.env.SOAK_SEED || 12345)) {
  const { browser, page, errors } = await fresh();
  try {
    // A tiny seeded PRNG so a failing soak can be replayed.
    let s = seed;
    const rnd = (n) => { s = (s * 1103515245 + 12345) % 2147483648; return s % n; };
    for (let i = 0; i < actions; i++) {
      // The help overlay is modal; it has its own test, so the soak leaves it closed.
      const ids = await page.$$eval('button:not([disabled])', (els) =>
        // Visible ones only (closed <details> hide the transaction builder and settings).
        els.filter((e) => e.offsetParent !== null && !e.closest('details:not([open])')).map((e) => e.dataset.testid).filter((id) => id && !id.startsWith('help')));
      const id = ids[rnd(ids.length)];
      await click(page, id);
      if (rnd(5) === 0) await page.selectOption('[data-testid="node-count-select"]', String(1 + rnd(7)));
      if (rnd(7) === 0) await page.fill('[data-testid="seed-input"]', rnd(3) ? String(rnd(1000)) : 'x' + rnd(9));
      if (rnd(6) === 0) {
        const frac = rnd(100) / 100;
        await page.$eval('[data-testid="timeline-scrub"]', (el, f) => {
          el.value = String(Math.floor(Number(el.max) * f));
          el.dispatchEvent(new Event('input', { bubbles: true }));
        }, frac);
      }
      check(!(await page.$('[data-testid="panic-banner"]')), `panic after action ${i} (${id}), SOAK_SEED=${seed}`);
    }
    check(errors.length === 0, `console errors (SOAK_SEED=${seed}): ${errors.join(' | ')}`);
    console.log(`journey soak: ok (${actions} random actions, seed ${seed}, no panic, no console error)`);
  } finally { await browser.close(); }
}

// WCAG 1.4.11 for what axe does not measure: every role, message and path colour the drawings
// use keeps at least 3:1 against the background it is drawn on, in the theme given.
const GLYPH_COLOURS = ['--leader', '--follower', '--candidate', '--paused', '--crashed', '--append', '--heartbeat',
  '--vote', '--readindex', '--keepalive', '--ok', '--amber', '--oi-orange', '--oi-sky', '--oi-green', '--oi-yellow',
  '--oi-blue', '--oi-vermillion', '--oi-purple'];
async function glyphContrast(page, colorScheme) {
  const worst = await page.evaluate((names) => {
    const probe = document.createElement('i');
    document.body.append(probe);
    const rgb = (value) => { probe.style.color = value; return getComputedStyle(probe).color.match(/\d+/g).map(Number); };
    const lum = (c) => {
      const f = (v) => { v /= 255; return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
      return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
    };
    const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)]; return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
    const css = getComputedStyle(document.documentElement);
    const grounds = ['--bg', '--panel', '--chart'].map((g) => [g, rgb(css.getPropertyValue(g))]);
    let low = { ratio: Infinity };
    for (const name of names) {
      for (const [ground, g] of grounds) {
        const r = ratio(rgb(css.getPropertyValue(name)), g);
        if (r < low.ratio) low = { ratio: r, name, ground };
      }
    }
    probe.remove();
    return low;
  }, GLYPH_COLOURS);
  check(worst.ratio >= 3, `${colorScheme} theme: ${worst.name} on ${worst.ground} is ${worst.ratio.toFixed(2)}:1, under 3:1`);
  console.log(`journey accessibility ${colorScheme} theme: lowest glyph contrast ${worst.ratio.toFixed(2)}:1 (${worst.name} on ${worst.ground})`);
}

// Forced colours (a high-contrast mode): the page is audited, the leader's circle is drawn in
// the system's Highlight colour and a cut link in GrayText, so roles and cuts survive.
async function forcedColoursJourney() {
  const { browser, page, errors } = await openPage(url, { forcedColors: 'active' });
  try {
    await untilLeader(page);
    await click(page, 'play-toggle');
    const r = await new AxeBuilder({ page }).withTags(AXE_TAGS).analyze();
    const found = r.violations.map((v) => `${v.id} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
    check(found.length === 0, `forced colours: ${found.join('; ')}`);
    const strokes = await page.evaluate(() => {
      const leader = document.querySelector('.cluster .node.leader circle');
      const follower = document.querySelector('.cluster .node.follower circle');
      return [getComputedStyle(leader).stroke, getComputedStyle(follower).stroke];
    });
    check(strokes[0] !== strokes[1], `forced colours: the leader and a follower are drawn alike (${strokes.join(' / ')})`);
    await page.screenshot({ path: 'out/forced-colours.png' });
    check(errors.length === 0, `console errors: ${errors.join(' | ')}`);
    console.log(`journey forced colours: ok (axe violations 0, leader ${strokes[0]}, follower ${strokes[1]})`);
  } finally {
    await browser.close();
  }
}

// WCAG 2.2 AA as axe-core checks it, in each state that matters in class, at a laptop's and a
// phone's size: every state must have no violation (the count per state is printed).
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];
async function accessibilityJourney() {
  const runs = [[1280, 800, 'dark'], [375, 667, 'dark'], [1280, 800, 'light']];
  for (const [width, height, colorScheme] of runs) {
    const { browser, page, errors } = await openPage(url, { width, height, colorScheme });
    try {
      await page.waitForSelector('[data-testid="node-1"]');
      const counts = [];
      const audit = async (state) => {
        const r = await new AxeBuilder({ page }).withTags(AXE_TAGS).analyze();
        counts.push(`${state} ${r.violations.length}`);
        const found = r.violations.map((v) => `${v.id} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
        check(found.length === 0, `${width}×${height} ${colorScheme}, ${state}: ${found.join('; ')}`);
      };
      await audit('running');
      await untilLeader(page);
      await glyphContrast(page, colorScheme);
      await click(page, 'play-toggle');
      await audit('at rest');
      await click(page, 'help-button');
      await audit('help');
      await click(page, 'help-close');
      await page.click('[data-testid="settings"] > summary');
      await audit('settings');
      await page.click('[data-testid="settings"] > summary');
      await untilLeader(page);
      await click(page, 'node-row-1');
      await audit('inspector');
      await click(page, 'read-button');
      await audit('a read and its trace');
      await page.selectOption('[data-testid="tour-select"]', 'failover-compare');
      await click(page, 'tour-start');
      for (let i = 0; i < 4; i++) await click(page, 'tour-next');
      await page.waitForSelector('[data-testid="compare-table"]', { timeout: 60000 });
      await audit('a tour and the comparison');
      await click(page, 'paths-run');
      await page.waitForSelector('[data-testid="paths-table"]', { timeout: 60000 });
      await audit('the read paths measured');
      check(errors.length === 0, `console errors: ${errors.join(' | ')}`);
      console.log(`journey accessibility ${width}×${height} ${colorScheme}: ok (axe violations per state: ${counts.join(', ')})`);
    } finally {
      await browser.close();
    }
  }
}

// Moves the focus with Tab (forward through the whole page, wrapping) until the control with
// `id` has it, and checks that it shows a focus ring. A keyboard user has nothing else.
async function tabTo(page, id, max = 600) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => {
      const el = document.activeElement;
      const s = el && getComputedStyle(el);
      return { id: el?.dataset?.testid || '', ring: !!s && s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2 };
    });
    if (focused.id === id) {
      check(focused.ring, `${id} has the keyboard focus but no visible focus ring`);
      return;
    }
  }
  throw new Error(`Tab never reached ${id}`);
}

// The whole of a lesson with the keyboard alone: time advanced with a shortcut, a guided tour
// from start to its checked end, then a partition of the leader and a read at it.
async function keyboardJourney() {
  const { browser, page, errors } = await openPage(url);
  try {
    await page.waitForSelector('[data-testid="node-1"]');
    await page.keyboard.press(' '); // pause: the page opens running
    for (let i = 0; i < 30; i++) await page.keyboard.press('n');
    const leader = await leaderId(page);
    check(leader, 'three seconds by `n` elect a leader');
    await tabTo(page, 'tour-start');
    await page.keyboard.press('Enter');
    let steps = 0;
    while (!(await page.$('[data-testid="tour-results"]'))) {
      check(steps++ < 30, 'the tour never ends');
      await tabTo(page, 'tour-next');
      await page.keyboard.press('Enter');
    }
    const results = await text(page, 'tour-results');
    check(!results.includes('✗'), `a tour run by keyboard meets its expectations: ${results}`);
    await tabTo(page, 'tour-exit');
    await page.keyboard.press('Enter');
    const now = await leaderId(page);
    await tabTo(page, `pick-${now}`);
    await page.keyboard.press(' ');
    await tabTo(page, 'partition-apply');
    await page.keyboard.press('Enter');
    await tabTo(page, 'read-button');
    await page.keyboard.press('Enter');
    const op = await lastOp(page);
    for (let i = 0; i < 40; i++) await page.keyboard.press('n');
    const path = await text(page, `op-path-${op}`);
    const outcome = await text(page, `op-outcome-${op}`);
    check(/ReadIndex|lease read/.test(path), `the read at the cut-off leader took a path: ${path}`);
    check(outcome.trim() && !outcome.includes('pending'), `and ended: ${outcome}`);
    // The time bar without dragging: Home goes to the start, End back to the present.
    await tabTo(page, 'timeline-scrub');
    const present = await text(page, 'timeline-position');
    await page.keyboard.press('Home');
    const start = await text(page, 'timeline-position');
    check(start.startsWith('0.000 s /') && start !== present, `Home scrubs to the start: ${start}`);
    check(await page.$eval('[data-testid="timeline-past"]', (el) => !el.classList.contains('hidden')), 'the past is marked');
    await page.keyboard.press('End');
    check(!(await text(page, 'timeline-position')).startsWith('0.000 s'), 'End scrubs back');
    // After a mouse click, space is the shortcut, not the clicked button again (Chromium turns
    // on :focus-visible at a key press even after a click): a presenter's clicker clicks
    // *Autoplay*, then its space holds the countdown.
    await click(page, 'advance-1s');
    const paused = await text(page, 'play-toggle');
    await page.keyboard.press(' ');
    check((await text(page, 'play-toggle')) !== paused, `space after a click plays or pauses (${paused} stayed)`);
    await page.keyboard.press(' ');
    await click(page, 'tour-start');
    await click(page, 'tour-autoplay');
    await page.keyboard.press(' ');
    const held = await text(page, 'tour-countdown');
    check(held.startsWith('Autoplay paused'), `space after clicking Autoplay holds it: "${held}"`);
    check(errors.length === 0, `console errors: ${errors.join(' | ')}`);
    console.log(`journey keyboard: ok (a tour in ${steps} steps by Enter, n${now} partitioned by Space and Enter, its read: ${path.trim()}, ${outcome.trim()}; space after a click plays and holds autoplay)`);
  } finally { await browser.close(); }
}

// Projector mode at a projector's and a laptop's width: the large type fits, a table wider than
// its panel scrolls inside it rather than the whole page sideways, and the controls at its far
// end still answer; the secondary panels are hidden.
async function projectorJourney() {
  for (const [width, height] of [[1024, 768], [1280, 800]]) {
    const { browser, page, errors } = await openPage(url, { width, height });
    try {
      await page.waitForSelector('[data-testid="node-1"]');
      await click(page, 'play-toggle');
      await click(page, 'projector-toggle');
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      check(overflow <= 0, `${width}×${height} projector: the page is ${overflow} px wider than the screen`);
      check(!(await page.isVisible('[data-testid="event-log"]')), 'projector mode hides the event log');
      await click(page, 'pause-3');
      check((await text(page, 'pause-3')).includes('resume'), `${width}×${height} projector: the last column's buttons answer`);
      check(errors.length === 0, `console errors: ${errors.join(' | ')}`);
    } finally { await browser.close(); }
  }
  console.log('journey projector: ok (1024×768 and 1280×800: no sideways scrolling, the node table scrolls in its panel, secondary panels hidden)');
}

// A phone and a tablet, by touch: the page fits the width (no sideways scrolling), a tap cuts a
// link and heals it, the inspector cuts one direction, node buttons and a tour step answer
// taps, and a read is served.
async function touchJourney() {
  for (const [width, height] of [[375, 667], [768, 1024]]) {
    const { browser, page, errors } = await openPage(url, { width, height, touch: true });
    const tap = (id) => page.tap(`[data-testid="${id}"]`);
    try {
      await page.waitForSelector('[data-testid="node-1"]');
      await tap('play-toggle');
      for (let i = 0; i < 3; i++) await tap('advance-1s');
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      check(overflow <= 0, `${width}×${height}: the page is ${overflow} px wider than the screen`);
      const leader = await leaderId(page);
      check(leader, 'a leader by taps on +1 s');
      // Below the fold, the leader's live region is still in the accessibility tree (a panel
      // that skips rendering out of view drops it there, and a screen reader hears nothing).
      const cdp = await page.context().newCDPSession(page);
      const { root } = await cdp.send('DOM.getDocument');
      const { nodeId } = await cdp.send('DOM.querySelector', { nodeId: root.nodeId, selector: '[data-testid="leader-summary"]' });
      const [ax] = (await cdp.send('Accessibility.getPartialAXTree', { nodeId, fetchRelatives: false })).nodes;
      check(!ax.ignored && ax.properties.some((p) => p.name === 'live' && p.value.value === 'polite'),
        `${width}×${height}: the leader's live region is in the accessibility tree (${JSON.stringify(ax.ignoredReasons || [])})`);
      await page.locator('[data-testid="link-1-2"]').tap({ force: true });
      check(await page.$('.link.cut'), `${width}×${height}: a tap on a link cuts it`);
      await page.locator('[data-testid="link-1-2"]').tap({ force: true });
      check(!(await page.$('.link.cut')), 'a second tap heals it');
      // One direction only: tap the node's row (its role, where a thumb lands; the row's
      // middle can be a control once the table scrolls sideways), then the direction in its
      // inspector.
      await tap('node-role-1');
      await tap('direction-1-2');
      check(await page.$('[data-testid="oneway-1-2"]'), `${width}×${height}: a tap in the inspector cuts n1→n2 only`);
      await tap('direction-1-2');
      check(!(await page.$('.link.oneway')), 'a second tap heals that direction');
      await tap('inspector-close');
      await tap(`pause-${leader}`);
      check((await text(page, `pause-${leader}`)).includes('resume'), 'a tap pauses a node');
      await tap(`pause-${leader}`);
      await tap('read-button');
      const op = await lastOp(page);
      await tap('advance-1s');
      check(!(await text(page, `op-outcome-${op}`)).includes('pending'), 'the read is answered');
      await tap('tour-start');
      await tap('tour-next');
      check((await text(page, 'tour-progress')).startsWith('step 1 of'), 'a tap steps the tour');
      await page.screenshot({ path: `out/touch-${width}.png` });
      check(errors.length === 0, `console errors: ${errors.join(' | ')}`);
      console.log(`journey touch ${width}×${height}: ok (no sideways scrolling, the leader's live region exposed below the fold, a link cut and healed by taps, one direction cut in the inspector, a node paused, a read, a tour step)`);
    } finally { await browser.close(); }
  }
}

// ONLY=shareJourney node journeys.mjs URL runs one journey.
const all = {
  partitionJourney,
  staleReadJourney,
  crashRestartJourney,
  shareJourney,
  accessibilityJourney,
  forcedColoursJourney,
  keyboardJourney,
  touchJourney,
  projectorJourney,
  soak: () => soak(),
};
const chosen = process.env.ONLY ? [process.env.ONLY] : Object.keys(all);
for (const name of chosen) {
  if (!all[name]) throw new Error(`no journey ${name}; journeys: ${Object.keys(all).join(', ')}`);
  await all[name]();
}
console.log(`${chosen.length} passed, 0 failed`);
