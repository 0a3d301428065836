/**
 * Browser code, part 9: sign-in, the views the key's scopes allow (GET /v1/console/session),
 * the hash router (#/overview, #/task/<id>?tenant=<id>, ...), refreshing the live views every
 * 5 s while the tab is visible, and the clock that keeps "5 min ago" current.
 */
export const APP_JS = String.raw`
const REFRESH_MS = 5000;
const VIEWS = [
  { id: 'overview', title: 'Overview', can: (c) => c.fleet, make: overviewView },
  { id: 'fleet', title: 'Fleet', can: (c) => c.fleet, make: fleetView },
  { id: 'tasks', title: 'Tasks', can: (c) => c.tasks, make: tasksView },
  { id: 'alerts', title: 'Alerts', can: (c) => c.alerts, make: alertsView },
  { id: 'incidents', title: 'Incidents', can: (c) => c.fleet, make: incidentsView },
  { id: 'dead-letters', title: 'Dead letters', can: (c) => c.deadLetters, make: deadLettersView },
  { id: 'admin', title: 'Tenants & keys', can: (c) => c.keys || c.tenants || c.usage, make: adminView },
];
const HIDDEN_VIEWS = { task: taskDetailView };

function parseRoute() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, query] = raw.split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const params = Object.fromEntries(new URLSearchParams(query || ''));
  if (parts[0] === 'task' && parts[1]) return { id: 'task', params: Object.assign(params, { id: parts[1] }) };
  return { id: parts[0] || '', params: params };
}
function allowedViews() { return VIEWS.filter((v) => v.can(state.session.can)); }

function renderNav(active) {
  fill($('nav'), allowedViews().map((v) => h('a', { href: '#/' + v.id, class: v.id === active ? 'active' : undefined, 'data-view': v.id }, h('span', { text: v.title }))));
}
function renderWho() {
  const s = state.session;
  fill($('who'),
    h('div', { class: 'who-tenant', text: s.platformAdmin ? 'Platform admin' : 'Tenant ' + s.tenantId }),
    h('div', { class: 'muted', text: 'key ' + s.keyId }),
    h('div', { class: 'chips' }, s.scopes.map((x) => chip(x))),
    h('button', { type: 'button', id: 'logout', text: 'Forget key', onclick: logout }));
}

async function mount() {
  const route = parseRoute();
  const views = allowedViews();
  let make = HIDDEN_VIEWS[route.id];
  let navId = route.id === 'task' ? 'tasks' : route.id;
  if (!make) {
    const v = views.find((x) => x.id === route.id) || views[0];
    if (!v) { fill($('view'), empty('This key may not see any console view.')); return; }
    if (v.id !== route.id) { location.replace('#/' + v.id); return; }
    make = v.make;
    navId = v.id;
  }
  if (state.view && state.view.unmount) state.view.unmount();
  state.holds = 0;
  state.holdGen++;
  renderNav(navId);
  const view = make(route.params);
  state.view = view;
  $('title').textContent = view.title;
  fill($('tools'), view.tools || null);
  fill($('view'), view.el);
  document.title = view.title + ' · Switchboard';
  await refreshView(view);
}
async function refreshView(view) {
  try {
    await view.refresh();
  } catch (e) {
    if (view !== state.view) return;
    if (e.status === 401) { logout(); $('login-error').textContent = 'The key was refused: ' + e.message; return; }
    notify(e.message, 'bad');
  }
}
function isLive(view) { return typeof view.live === 'function' ? view.live() : view.live; }

async function login(key) {
  state.key = key;
  try {
    state.session = await get('/v1/console/session');
  } catch (e) {
    state.key = '';
    sessionStorage.removeItem(KEY_STORE);
    showLogin(e.status === 401 ? 'That key was refused.' : e.message);
    return;
  }
  sessionStorage.setItem(KEY_STORE, key);
  $('login').hidden = true;
  $('app').hidden = false;
  renderWho();
  startFeed();
  await mount();
}
function showLogin(message) {
  $('app').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = message || '';
  $('key').focus();
}
function logout() {
  stopFeed();
  if (state.view && state.view.unmount) state.view.unmount();
  state.view = null;
  state.session = null;
  state.key = '';
  state.feedEvents = [];
  sessionStorage.removeItem(KEY_STORE);
  showLogin('Key forgotten.');
}

document.addEventListener('DOMContentLoaded', () => {
  $('login-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const key = $('key').value.trim();
    $('key').value = '';
    if (key) login(key);
  });
  window.addEventListener('hashchange', () => { if (state.session) mount(); });
  setInterval(() => {
    for (const t of document.querySelectorAll('time.ago')) t.textContent = fmtAgo(Number(t.dataset.at));
  }, 1000);
  setInterval(() => {
    const v = state.view;
    if (v && state.session && !document.hidden && !held() && isLive(v)) refreshView(v);
  }, REFRESH_MS);
  const saved = sessionStorage.getItem(KEY_STORE);
  if (saved) login(saved);
  else showLogin();
});
`;
