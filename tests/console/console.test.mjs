// The console in headless Chromium (run by tests/console_browser.rs, which starts the server
// and passes what it made in CONSOLE_* variables). Exits 0 when every check passed.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (run through tests/console_browser.rs)`);
  return value;
};
const require = createRequire(path.join(env('LABELSYNC_TOOLS'), 'package.json'));
const { chromium } = require('playwright-core');

// Generous bounds: the checks wait for states, never for an amount of time.
const WAIT = { timeout: 120_000 };
// This machine has no internet: Chromium must not try to reach anything.
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
  console.log(`ok - ${message}`);
}

async function signIn(page) {
  await page.goto(env('CONSOLE_URL'));
  check(await page.title() === 'labelsync console', 'the page loads without a token');
  await page.fill('#token', env('CONSOLE_TOKEN'));
  await page.click('#token-form button[type=submit]');
  await page.click(`button[data-project="${env('CONSOLE_PROJECT')}"]`, WAIT);
}

const card = () => `[data-storage="${env('CONSOLE_STORAGE')}"]`;

// The gate holds the listing after its first page: the card must show the sync running, its
// first page's tasks created, and an indeterminate bar (more pages may come).
async function watchProgress(page) {
  await page.click(`${card()} button.sync`, WAIT);
  await page.waitForFunction((selector) => {
    const node = document.querySelector(selector);
    const text = node.querySelector('.progress-text').textContent;
    return node.dataset.status === 'in_progress' && /1 page listed/.test(text) &&
      /100 tasks created/.test(text);
  }, card(), WAIT);
  const running = await progressOf(page);
  check(running.position === -1 && running.text.startsWith('listing…'),
    `while listing, the bar is live: "${running.text}"`);
  fs.writeFileSync(env('CONSOLE_GATE'), 'open');
  await page.waitForFunction((selector) => {
    const node = document.querySelector(selector);
    return node.dataset.status === 'completed' && node.querySelector('progress').value === 100;
  }, card(), WAIT);
  const done = await progressOf(page);
  check(done.text === `100 % · ${env('CONSOLE_TASKS')} tasks created`,
    `completed with the bar at 100 %: "${done.text}"`);
}

function progressOf(page) {
  return page.$eval(card(), (node) => ({
    position: node.querySelector('progress').position,
    text: node.querySelector('.progress-text').textContent,
  }));
}

// The first task's image, loaded by the <img> itself from the signed URL in task data (no
// header: the page's token fallback must not be needed), at the PNG's natural size.
async function checkImage(page) {
  const tasks = env('CONSOLE_TASKS');
  await page.waitForFunction((total) => document.querySelector('#tasks-page').textContent
    .endsWith(`· ${total} tasks`), tasks, WAIT);
  const img = page.locator('#task-list img').first();
  await img.scrollIntoViewIfNeeded(WAIT);
  await page.waitForFunction(() => {
    const first = document.querySelector('#task-list img');
    return first && first.complete && first.naturalWidth > 0;
  }, null, WAIT);
  const size = await img.evaluate((node) => `${node.naturalWidth}x${node.naturalHeight}`);
  const via = await img.evaluate((node) => (node.src.startsWith('blob:')
    ? 'fetched with the token' : 'loaded by the <img> itself'));
  check(size === env('CONSOLE_IMAGE_SIZE'), `the first task's image renders at ${size} (${via})`);
  check(via === 'loaded by the <img> itself', 'the signed URL loads without a header');
  const shown = await page.locator('#task-list > li').count();
  check(shown === 25, `one page of tasks is shown (${shown} of ${tasks})`);
}

async function checkPaging(page) {
  const firstIds = await taskIds(page);
  await page.click('#tasks-next');
  await page.waitForFunction(() => /^page 2 of/.test(document.querySelector('#tasks-page').textContent), null, WAIT);
  await page.waitForFunction((before) => document.querySelector('#task-list > li')?.dataset.task !== before,
    firstIds[0], WAIT);
  const secondIds = await taskIds(page);
  check(Math.min(...secondIds) > Math.max(...firstIds), 'the next page holds the next tasks');
}

// In the page, without any header: what an <img> of `url` does, and the status a fetch gets.
function load(page, url) {
  return page.evaluate(async (src) => {
    const img = new Image();
    const loaded = await new Promise((done) => {
      img.onload = () => done(img.naturalWidth > 0);
      img.onerror = () => done(false);
      img.src = src;
    });
    const response = await fetch(src, { credentials: 'omit', cache: 'no-store' });
    return { loaded, status: response.status };
  }, url);
}

// The first image's URL, with its signature tampered with, and once it has expired (the test's
// server signs for LABELSYNC_MEDIA_URL_TTL_SECONDS): 403, and no picture.
async function checkSignatures(page) {
  const src = await page.locator('#task-list img').first().getAttribute('src');
  const url = new URL(src, env('CONSOLE_URL'));
  const fresh = await load(page, url.href);
  check(fresh.loaded && fresh.status === 200, `the task data's URL loads (${fresh.status})`);
  const sig = url.searchParams.get('sig');
  url.searchParams.set('sig', (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1));
  const tampered = await load(page, url.href);
  check(!tampered.loaded && tampered.status === 403, `a tampered signature: ${tampered.status}`);
  url.searchParams.set('sig', sig);
  const expires = Number(url.searchParams.get('exp')) * 1000;
  await page.waitForTimeout(Math.max(0, expires - Date.now()) + 1500);
  const expired = await load(page, url.href);
  check(!expired.loaded && expired.status === 403, `an expired signature: ${expired.status}`);
}

function taskIds(page) {
  return page.$$eval('#task-list > li', (items) => items.map((li) => Number(li.dataset.task)));
}

async function inBrowser(profile) {
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: env('CONSOLE_CHROMIUM'), headless: true, args: ARGS,
    viewport: { width: 1280, height: 1000 },
  });
  const cspViolations = [];
  try {
    const page = context.pages()[0] || await context.newPage();
    page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text()); });
    await signIn(page);
    await watchProgress(page);
    await checkImage(page);
    await page.screenshot({ path: env('CONSOLE_SCREENSHOT') });
    console.log(`screenshot: ${env('CONSOLE_SCREENSHOT')}`);
    await checkPaging(page);
    await checkSignatures(page);
    check(cspViolations.length === 0, `no Content-Security-Policy violation ${cspViolations.join('; ')}`);
  } finally {
    await context.close();
  }
}

// A fresh profile for every run, removed afterwards.
async function main() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'labelsync-console-'));
  try {
    await inBrowser(profile);
  } finally {
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
