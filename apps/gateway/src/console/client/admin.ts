/** Browser code, part 8: tenants, usage, API keys and the security summary (platform admin; a tenant admin sees its own). */
export const ADMIN_JS = String.raw`
const PLANS = ['free', 'pro', 'enterprise'];

function adminView() {
  const s = state.session;
  const tenantsBody = h('div');
  const usageBody = h('div');
  const keysBody = h('div');
  const securityBody = h('div');
  let usageTenant = s.tenantId;
  let tenants = [];

  function createTenantForm() {
    const name = h('input', { name: 'name', placeholder: 'tenant name', required: true, size: 20 });
    const plan = select(PLANS.map((p) => [p, p]), 'free', { name: 'plan' });
    const form = h('form', { class: 'row' }, name, plan, h('button', { type: 'submit', class: 'primary small', text: 'Create tenant' }));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        const t = await api('POST', '/v1/tenants', { name: name.value.trim(), plan: plan.value });
        notify('Created tenant ' + t.name + ' (' + t.id + ')', 'ok');
        name.value = '';
        await loadTenants();
      } catch (e) { notify(e.message, 'bad'); }
    });
    return form;
  }

  async function loadTenants() {
    if (!s.can.tenants) return;
    tenants = await get('/v1/tenants');
    renderTenants();
  }
  function renderTenants() {
    fill(tenantsBody, table([
      { title: 'Tenant', render: (t) => [h('span', { class: 'strong', text: t.name }), sub(t.id)] },
      { title: 'Plan', render: (t) => chip(t.plan) },
      { title: 'Status', render: (t) => badge(t.status) },
      { title: 'Created', cls: 'nowrap', render: (t) => when(t.createdAt) },
      { title: '', cls: 'nowrap', render: (t) => h('span', { class: 'gap' },
        h('button', { type: 'button', class: 'small', text: 'Usage', onclick: () => { usageTenant = t.id; loadUsage(); } }),
        t.id === s.tenantId ? null : t.status === 'active'
          ? button('Suspend', async () => { await api('PATCH', '/v1/tenants/' + enc(t.id), { status: 'suspended' }); notify('Suspended ' + t.name, 'ok'); await loadTenants(); }, { cls: 'small danger', confirm: 'Suspend it?' })
          : button('Activate', async () => { await api('PATCH', '/v1/tenants/' + enc(t.id), { status: 'active' }); notify('Activated ' + t.name, 'ok'); await loadTenants(); }, { cls: 'small' })) },
    ], tenants, { empty: 'No tenants.', rowClass: (t) => (t.id === usageTenant ? 'selected' : undefined) }));
  }

  async function loadUsage() {
    if (!s.can.usage) return;
    const u = await get('/v1/tenants/' + enc(usageTenant) + '/usage' + qs({ days: 7 }));
    const peak = Math.max(1, ...u.days.map((d) => d.tasks));
    const name = (tenants.find((t) => t.id === usageTenant) || {}).name || usageTenant;
    const limit = (per) => (per === null || per === undefined ? 'no daily limit' : 'of ' + fmtNum(per) + ' a day');
    const near = (n, per) => (per && n >= per ? 'bad' : per && n >= per * 0.8 ? 'warn' : undefined);
    fill(usageBody,
      h('div', { class: 'stats' },
        stat('Tasks today', fmtNum(u.today.tasksSubmitted), limit(u.today.tasksPerDay), near(u.today.tasksSubmitted, u.today.tasksPerDay)),
        stat('Tokens today', fmtNum(u.today.tokens), limit(u.today.tokensPerDay), near(u.today.tokens, u.today.tokensPerDay)),
        stat('Plan', u.plan, name)),
      table([
        { title: 'Day', cls: 'nowrap', render: (d) => DAY.format(new Date(d.day + 'T12:00:00')) },
        { title: 'Tasks', render: (d) => [h('span', { text: fmtNum(d.tasks) }), meter(d.tasks / peak)] },
        { title: 'Tokens', cls: 'num', render: (d) => fmtNum(d.tokens) },
        { title: 'By capability', render: (d) => { const e = Object.entries(d.byCapability || {}); return e.length ? h('span', { class: 'chips' }, e.map(([c, v]) => chip(c + ' ' + fmtNum(v.tasks)))) : null; } },
      ], u.days, { empty: 'No usage recorded.' }));
    if (s.can.tenants) renderTenants();
  }

  async function loadKeys() {
    if (!s.can.keys) return;
    const keys = await get('/v1/keys');
    const now = Date.now();
    const statusOf = (k) => (k.revokedAt ? 'revoked' : k.expiresAt && ms(k.expiresAt) <= now ? 'expired' : 'active');
    fill(keysBody, table([
      { title: 'Key', render: (k) => [mono(k.prefix + '…' + k.last4), sub(k.name || 'unnamed')] },
      { title: 'Tenant', render: (k) => mono(k.tenantId) },
      { title: 'Scopes', render: (k) => chips(k.scopes) },
      { title: 'Status', render: (k) => h('span', { class: 'gap' }, badge(statusOf(k)), k.id === s.keyId ? chip('this key') : null) },
      { title: 'Created', cls: 'nowrap', render: (k) => when(k.createdAt) },
      { title: 'Last used', cls: 'nowrap', render: (k) => ago(k.lastUsedAt) },
      { title: 'Expires', cls: 'nowrap', render: (k) => k.expiresAt ? ago(k.expiresAt) : muted('never') },
      { title: '', render: (k) => statusOf(k) === 'active' && k.id !== s.keyId ? button('Revoke', async () => { await api('DELETE', '/v1/keys/' + enc(k.id)); notify('Revoked ' + k.prefix + '…' + k.last4, 'ok'); await loadKeys(); }, { cls: 'small danger', confirm: 'Revoke it?' }) : null },
    ], keys, { empty: 'No keys.' }));
  }

  async function loadSecurity() {
    if (!s.can.tenants) return;
    const r = await get('/v1/security/report' + qs({ hours: 24 }));
    const types = Object.entries(r.byType || {}).sort((a, b) => b[1] - a[1]);
    fill(securityBody, h('div', { class: 'gap' }, stat('Security events, 24 h', fmtNum(r.total), null, r.total ? 'warn' : 'ok'),
      types.length ? h('span', { class: 'chips' }, types.map(([t, n]) => chip(words(t) + ' ' + fmtNum(n)))) : muted('no refusals, no key changes')));
  }

  const el = h('div', null,
    s.can.tenants ? card('Tenants', h('div', null, h('div', { class: 'card-body' }, createTenantForm()), tenantsBody), { flush: true }) : null,
    s.can.usage ? card('Usage', usageBody, { help: 'tasks submitted and tokens reported, by day' }) : null,
    s.can.keys ? card('API keys', keysBody, { flush: true, help: 'only the prefix and last four characters are ever shown' }) : null,
    s.can.tenants ? card('Security', securityBody) : null);
  return {
    title: s.can.tenants ? 'Tenants & keys' : 'Keys & usage',
    el: el,
    refresh: async () => { await loadTenants(); await Promise.all([loadUsage(), loadKeys(), loadSecurity()]); },
    live: false,
  };
}
`;
