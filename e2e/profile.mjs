// Records a CPU profile (DevTools protocol, Profiler domain) of the page simulating N nodes at
// the given background load at 10× (or the given) speed for some seconds, and prints where the time went:
// the top functions by self time and the share by part (simulator, raft-rs, allocator, page,
// browser). Run through scripts/profile-page.sh, which builds a page whose wasm keeps its names.
// Usage: node profile.mjs URL [seconds] [nodes] [ops_per_sec] [speed: 1, 10 or 100] [cpu slowdown]
// A CPU slowdown (e.g. 4, a phone) throttles Chromium through the DevTools protocol.
// At 100× the page cannot keep up and simulates flat out, so the profile is the simulator's.
import { openPage, check } from './lib.mjs';

const [url, seconds = '10', nodes = '5', ops = '100', speed = '10', slowdown = '1'] = process.argv.slice(2);
const SPEED_OPTION = { 1: '5', 10: '7', 100: '8' };
check(SPEED_OPTION[speed], `speed ${speed}: 1, 10 or 100`);
// PROFILE_VIEWPORT=375x667 profiles a phone's screen (touch), where most panels are out of view.
const [width, height] = (process.env.PROFILE_VIEWPORT || '1280x800').split('x').map(Number);
const { browser, page, errors } = await openPage(url, { width, height, touch: width < 800 });
try {
  await page.waitForSelector('[data-testid="node-1"]');
  await page.selectOption('[data-testid="node-count-select"]', nodes);
  await page.click('[data-testid="reset-button"]');
  await page.selectOption('[data-testid="speed-select"]', SPEED_OPTION[speed]);
  await page.selectOption('[data-testid="workload-select"]', ops);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: Number(slowdown) });
  await page.waitForTimeout(1000);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
  await cdp.send('Profiler.start');
  await page.waitForTimeout(Number(seconds) * 1000);
  const { profile } = await cdp.send('Profiler.stop');
  check(errors.length === 0, `console errors: ${errors.join(' | ')}`);

  // Self time per node: samples × their intervals, by the sample's node.
  const self = new Map();
  const dt = profile.timeDeltas;
  const interval = (i) => dt[i + 1] ?? dt[i] ?? 0;
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) || 0) + interval(i)));
  // A node's function, by name (wasm functions marked).
  const keyOf = (n) => {
    const f = n.callFrame;
    const name = f.functionName || (f.url ? `(anonymous ${f.url.split('/').pop()})` : '(program)');
    return `${name}${f.url.includes('.wasm') || f.url.startsWith('wasm') ? ' [wasm]' : ''}`;
  };
  const byName = new Map();
  let total = 0;
  for (const n of profile.nodes) {
    const t = self.get(n.id) || 0;
    total += t;
    byName.set(keyOf(n), (byName.get(keyOf(n)) || 0) + t);
  }
  const part = (name) => {
    if (/\(idle\)|\(program\)|\(garbage collector\)/.test(name)) return 'browser (idle, program, GC)';
    if (/leaselab_www|tachys|leptos|reactive_graph|wasm_bindgen|js_sys|web_sys/.test(name)) return 'page (Leptos views, bindings)';
    if (/\braft(_proto)?::|protobuf::/.test(name)) return 'raft-rs';
    if (/talc|dlmalloc|alloc::alloc|__rust_alloc|__rust_dealloc|__rdl_|memcpy|memmove|memset/.test(name)) return 'allocator, memcpy';
    if (/leaselab::/.test(name)) return 'simulator (leaselab)';
    if (/\[wasm\]/.test(name)) return 'other wasm (core, alloc, std)';
    return 'browser JS';
  };
  const parts = new Map();
  for (const [name, t] of byName) parts.set(part(name), (parts.get(part(name)) || 0) + t);
  const pct = (t) => `${(100 * t / total).toFixed(1)} %`;
  console.log(`PROFILE ${nodes} nodes, ${ops} ops/s, ${speed}×, CPU slowed ${slowdown}×, ${seconds} s: ${profile.samples.length} samples`);
  for (const [p, t] of [...parts].sort((a, b) => b[1] - a[1])) console.log(`  ${pct(t).padStart(7)}  ${p}`);
  console.log('top functions by self time:');
  for (const [name, t] of [...byName].sort((a, b) => b[1] - a[1]).slice(0, 30)) {
    console.log(`  ${pct(t).padStart(7)}  ${name.slice(0, 140)}`);
  }
  // Total time per function: each sample counts once for every distinct function on its
  // stack, so a caller includes what it calls (what a frame's phases cost, not only leaves).
  const parent = new Map();
  const nodeById = new Map(profile.nodes.map((n) => [n.id, n]));
  for (const n of profile.nodes) for (const c of n.children || []) parent.set(c, n.id);
  const inclusive = new Map();
  profile.samples.forEach((id, i) => {
    const seen = new Set();
    for (let n = id; n !== undefined; n = parent.get(n)) seen.add(keyOf(nodeById.get(n)));
    for (const k of seen) inclusive.set(k, (inclusive.get(k) || 0) + interval(i));
  });
  console.log('top functions by total time (with what they call):');
  for (const [name, t] of [...inclusive].filter(([k]) => !/^\((root|program|idle)\)$/.test(k)).sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.PROFILE_TOTAL_ROWS || 40))) {
    console.log(`  ${pct(t).padStart(7)}  ${name.slice(0, 140)}`);
  }
} finally {
  await browser.close();
}
