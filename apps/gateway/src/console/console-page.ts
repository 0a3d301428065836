/**
 * The ops console's page: one HTML document with no inline script or style (the CSP forbids
 * both) and no third-party assets: uPlot is served by the gateway (console-assets.ts). The key
 * stays in the tab's sessionStorage and goes only to this gateway's API as a Bearer header.
 * Everything inside #view is built by the script with textContent only.
 */
export interface PageAssets {
  uplotScript: string;
  uplotStyle: string;
}

export function consolePage(a: PageAssets): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Switchboard ops console</title>
<link rel="icon" href="/console/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="${a.uplotStyle}">
<link rel="stylesheet" href="/console/console.css">
<script src="${a.uplotScript}" defer></script>
<script src="/console/console.js" defer></script>
</head>
<body>
<div id="app" hidden>
  <aside id="sidebar">
    <div class="brand"><img src="/console/favicon.svg" alt="" width="28" height="28"><span>Switchboard</span></div>
    <nav id="nav" aria-label="Views"></nav>
    <div id="who"></div>
  </aside>
  <main id="main">
    <header class="topbar">
      <h1 id="title">Ops console</h1>
      <div id="tools"></div>
      <span id="live" class="live off" title="Live task events">offline</span>
    </header>
    <section id="view" aria-live="polite"></section>
  </main>
</div>
<div id="login" hidden>
  <form id="login-form" class="login-card" autocomplete="off">
    <div class="brand"><img src="/console/favicon.svg" alt="" width="36" height="36"><span>Switchboard</span></div>
    <h2>Ops console</h2>
    <p>Sign in with an API key (<code>sbk_…</code>) or an access token. It is kept in this tab only and sent to this gateway alone.</p>
    <input id="key" type="password" placeholder="API key or token" aria-label="API key or token" required>
    <button type="submit" class="primary">Open console</button>
    <p id="login-error" role="alert"></p>
  </form>
</div>
<div id="toasts" aria-live="polite"></div>
</body>
</html>
`;
}
