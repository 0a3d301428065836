/**
 * The ops console in a real browser (Debian's Chromium driven by playwright-core) against a
 * whole fleet (test/browser/support/console-fleet.ts): sign in with a key, open every view, act
 * (acknowledge and silence an alert, redrive a dead letter), submit a task and watch it arrive
 * on the live feed, open it and its trace. Every console message of level error, every page
 * error, every failed request and every HTTP error the page met fails the test: the CSP, the
 * assets and the views must all hold in a browser, not only in a unit test.
 *
 * Chromium must be installed (`apt-get install -y chromium`, or SB_CHROMIUM=<binary>): without
 * it the test fails and says so, it never skips. SB_CONSOLE_SHOTS=<dir> also saves a PNG of each view.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { names } from '@sb/contracts';
import { eventually } from '@sb/testing';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { http, tenantWithKey } from '../e2e/support/http';
import { type ConsoleFleet, startConsoleFleet } from './support/console-fleet';

jest.setTimeout(240_000);

const CHROMIUM = process.env.SB_CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = process.env.SB_CONSOLE_SHOTS;
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const enc = new TextEncoder();

/** What the page reported that it should not have. */
function watch(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => {
    // The live feed's stream is ended on purpose when the page signs out or navigates away.
    if (r.failure()?.errorText === 'net::ERR_ABORTED' && new URL(r.url()).pathname === '/v1/tasks/events') return;
    problems.push(`request failed: ${r.method()} ${r.url()} (${r.failure()?.errorText})`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.request().method()} ${r.url()}`);
  });
  return problems;
}

describe('ops console in a browser', () => {
  let cf: ConsoleFleet;
  let ctx: BrowserContext;
  let page: Page;
  let problems: string[];
  let userDir: string;
  let deadTaskId: string;
  const tenantName = `Acme Robotics ${Date.now().toString(36)}`;

  const shot = async (name: string) => {
    if (!SHOTS) return;
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  };
  const openView = async (id: string, ready: string) => {
    await page.click(`#nav a[data-view="${id}"]`);
    await page.locator(ready).first().waitFor();
  };

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`Chromium is not installed at ${CHROMIUM}: the console's browser test needs it (apt-get install -y chromium, or SB_CHROMIUM=<path to a Chromium binary>)`);
    }
    cf = await startConsoleFleet();
    const { httpUrl, adminKey } = cf.fleet;
    // Something in every view: a dead letter (the flaky agent fails more often than a task is tried), a second tenant.
    const flaky = await http(httpUrl, 'POST', '/v1/tasks', { key: adminKey, body: { capability: 'flaky', input: { failTimes: 10 } } });
    deadTaskId = flaky.body.taskId;
    expect((await http(httpUrl, 'POST', '/v1/tenants', { key: adminKey, body: { name: tenantName, plan: 'pro' } })).status).toBe(201);
    await eventually(async () => (await http(httpUrl, 'GET', '/v1/dead-letters', { key: adminKey })).body.some((d: { taskId: string }) => d.taskId === deadTaskId), {
      timeoutMs: 30_000,
      description: 'the flaky task is dead-lettered',
    });
    userDir = mkdtempSync(join(tmpdir(), 'sb-console-chromium-'));
    ctx = await chromium.launchPersistentContext(userDir, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1440, height: 900 } });
    // Waits are for events on the page, never fixed sleeps; the bound only keeps a loaded CI machine from failing them.
    ctx.setDefaultTimeout(60_000);
    page = ctx.pages()[0] ?? (await ctx.newPage());
    problems = watch(page);
  });

  afterAll(async () => {
    await ctx?.close();
    if (userDir) rmSync(userDir, { recursive: true, force: true });
    await cf?.stop();
  });

  it('signs in with a key and offers the views the key may see', async () => {
    await page.goto(`${cf.fleet.httpUrl}/console`);
    await page.locator('#login-form').waitFor();
    await shot('login');
    await page.fill('#key', cf.fleet.adminKey);
    await page.click('#login-form button[type=submit]');
    await page.locator('#nav a').first().waitFor();
    expect(await page.locator('#nav a').allTextContents()).toEqual(['Overview', 'Fleet', 'Tasks', 'Alerts', 'Incidents', 'Dead letters', 'Tenants & keys']);
    await page.locator('#live.on').waitFor();
    expect(problems).toEqual([]);
  });

  it('opens every view with its data in human form', async () => {
    await openView('overview', '.uplot');
    expect(await page.locator('.card-head h2').allTextContents()).toEqual(expect.arrayContaining(['Throughput', 'Run time p95', 'Queue depth', 'Oldest waiting', 'Error ratio', 'Agents']));
    await shot('overview');

    await openView('fleet', 'table.data tbody tr');
    const agent = page.locator('table.data tbody tr').first();
    await agent.locator('.badge', { hasText: 'Up' }).waitFor();
    expect(await agent.locator('.chip').allTextContents()).toEqual(expect.arrayContaining(['echo', 'flaky']));
    await shot('fleet');

    await openView('incidents', '#view .card');
    await shot('incidents');

    await openView('dead-letters', `a:has-text("${deadTaskId}")`);
    await shot('dead-letters');

    await openView('admin', `text=${tenantName}`);
    await page.locator('text=bootstrap admin').waitFor();
    await shot('admin');
    // No view shows a raw object.
    expect(await page.locator('#view').textContent()).not.toMatch(/[{[]"\w+":/);
    expect(problems).toEqual([]);
  });

  it('acknowledges and silences an alert, removes the silence, and redrives a dead letter', async () => {
    const alertName = 'ConsoleBrowserCheck';
    const raise = { name: alertName, severity: 'critical', state: 'firing', labels: { capability: 'echo' }, annotations: { summary: 'raised by the console browser test' }, source: 'e2e' };
    cf.fleet.nc.publish(names(cf.fleet.prefix).alerts.raise, enc.encode(JSON.stringify(raise)));
    await openView('alerts', `text=${alertName}`);
    const row = page.locator('tr', { hasText: alertName });
    await row.locator('button', { hasText: 'Acknowledge' }).click();
    await row.locator('.badge', { hasText: 'Acknowledged' }).waitFor();
    await row.locator('button', { hasText: 'Silence…' }).click();
    await row.locator('button[type=submit]', { hasText: 'Silence' }).click();
    await row.locator('.badge', { hasText: 'Silenced' }).waitFor();
    const silence = page.locator('#view .card', { hasText: 'Silences' }).locator('tr', { hasText: `alertname = ${alertName}` });
    await silence.waitFor();
    await shot('alerts');
    await silence.locator('button', { hasText: 'Remove' }).click();
    await silence.locator('button', { hasText: 'Remove it?' }).click();
    await silence.waitFor({ state: 'detached' });
    await row.locator('button', { hasText: 'Silence…' }).waitFor();

    await openView('dead-letters', `a:has-text("${deadTaskId}")`);
    const dead = page.locator('tr', { hasText: deadTaskId });
    await dead.locator('button', { hasText: 'Redrive' }).click();
    await dead.locator('button', { hasText: 'Run it again?' }).click();
    await page.locator('.toast', { hasText: `Task ${deadTaskId} queued again` }).waitFor();
    expect(problems).toEqual([]);
  });

  it('submits a task, sees it arrive live, and opens its detail and trace', async () => {
    await openView('tasks', '#submit-form');
    await page.fill('#submit-form input[name=capability]', 'echo');
    await page.fill('#submit-form textarea[name=input]', '{"greeting": "hello from the browser"}');
    await page.click('#submit-form button[type=submit]');
    const toast = page.locator('.toast', { hasText: /^Task \S+ queuedOpen$/ });
    await toast.waitFor();
    const taskId = /Task (\S+)/.exec((await toast.textContent()) ?? '')![1];
    // The live feed (SSE) shows it finish, without a reload.
    const live = page.locator('#view .card', { hasText: 'Live' }).locator('tr', { hasText: taskId });
    await live.locator('.badge', { hasText: 'Succeeded' }).waitFor();
    await page.click('#search-form button[type=submit]');
    await page.locator('#search-results tr', { hasText: taskId }).waitFor();
    await shot('tasks');

    await live.first().click();
    await page.locator('.detail-head h2', { hasText: taskId }).waitFor();
    await page.locator('pre.json', { hasText: 'hello from the browser' }).first().waitFor();
    await page.locator('ol.timeline li', { hasText: 'Succeeded' }).waitFor();
    const trace = page.locator('#view .card', { hasText: 'Trace' });
    await trace.locator('.wf-row', { hasText: 'task.run' }).waitFor();
    expect(await trace.locator('.wf-row .strong').allTextContents()).toEqual(expect.arrayContaining(['task.submit', 'task.enqueue', 'task.run']));
    await shot('task-detail');

    await page.goto(`${cf.fleet.httpUrl}/console#/task/${deadTaskId}`);
    await page.locator('.detail-head h2', { hasText: deadTaskId }).waitFor();
    await page.locator('#view .card', { hasText: 'Failed attempts' }).locator('text=AGENT.FLAKY').first().waitFor();
    await page.locator('.wf-row', { hasText: 'task.run' }).first().waitFor();
    await shot('task-failed');
    expect(problems).toEqual([]);
  });

  it("shows a tenant's key only its own views, with nothing refused", async () => {
    const { key } = await tenantWithKey(cf.fleet.httpUrl, cf.fleet.adminKey, ['tasks:submit', 'tasks:read']);
    const tenantPage = await ctx.newPage();
    const tenantProblems = watch(tenantPage);
    await tenantPage.goto(`${cf.fleet.httpUrl}/console`);
    // The admin's key is in the other tab's sessionStorage only: this tab signs in anew.
    await tenantPage.fill('#key', key);
    await tenantPage.click('#login-form button[type=submit]');
    await tenantPage.locator('#nav a').first().waitFor();
    expect(await tenantPage.locator('#nav a').allTextContents()).toEqual(['Tasks', 'Dead letters']);
    await tenantPage.locator('#submit-form').waitFor();
    await tenantPage.click('#nav a[data-view="dead-letters"]');
    await tenantPage.locator('text=No dead letters.').waitFor();
    await tenantPage.click('#logout');
    await tenantPage.locator('#login-form').waitFor();
    expect(tenantProblems).toEqual([]);
    await tenantPage.close();
  });
});
