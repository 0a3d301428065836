/**
 * The ops console's page: one HTML document with no inline script (the CSP forbids it) and
 * no third-party assets. The key stays in the tab's sessionStorage and goes only to this
 * gateway's API as a Bearer header.
 */
export const CONSOLE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Switchboard ops console</title>
<link rel="stylesheet" href="/console/console.css">
<script src="/console/console.js" defer></script>
</head>
<body>
<header>
  <h1>Switchboard</h1>
  <nav id="tabs">
    <button data-tab="fleet" class="active">Fleet</button>
    <button data-tab="alerts">Alerts</button>
    <button data-tab="incidents">Incidents</button>
    <button data-tab="dead-letters">Dead letters</button>
    <button data-tab="tasks">Live tasks</button>
  </nav>
  <form id="login">
    <input id="key" type="password" autocomplete="off" placeholder="API key (sbk_…) or token" aria-label="API key">
    <button type="submit">Use key</button>
    <button type="button" id="logout">Forget key</button>
  </form>
</header>
<main>
  <p id="status" role="status"></p>
  <section id="fleet" class="tab"></section>
  <section id="alerts" class="tab" hidden></section>
  <section id="incidents" class="tab" hidden></section>
  <section id="dead-letters" class="tab" hidden></section>
  <section id="tasks" class="tab" hidden><table><thead><tr><th>at</th><th>task</th><th>tenant</th><th>capability</th><th>status</th><th>agent</th><th>attempts</th></tr></thead><tbody id="task-feed"></tbody></table></section>
</main>
</body>
</html>
`;

export const CONSOLE_CSS = `
body{font:14px system-ui,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{display:flex;gap:1.5rem;align-items:center;padding:.6rem 1rem;background:#1d2330;color:#fff;flex-wrap:wrap}
h1{font-size:1.1rem;margin:0}h2{font-size:1rem;margin:1.2rem 0 .4rem}
nav button,form button{background:#2f3a52;color:#fff;border:0;padding:.35rem .7rem;border-radius:4px;cursor:pointer}
nav button.active{background:#4f6bd8}form{margin-left:auto;display:flex;gap:.4rem}
input{padding:.3rem .5rem;border-radius:4px;border:1px solid #999;min-width:18rem}
main{padding:1rem}table{border-collapse:collapse;width:100%;background:#fff;margin-bottom:1rem}
th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #e3e6eb;vertical-align:top}
th{background:#eef0f4;font-weight:600}.sev-critical,.sev-emergency,.st-down,.st-open{color:#b3261e;font-weight:600}
.sev-warning,.st-half_open{color:#a86400}.st-up,.st-closed,.st-resolved{color:#1e7b34}
.cards{display:flex;gap:1rem;flex-wrap:wrap}.card{background:#fff;padding:.6rem 1rem;border-radius:6px;box-shadow:0 1px 2px #0002}
.card b{display:block;font-size:1.4rem}#status{color:#b3261e;min-height:1.2em}pre{margin:0;white-space:pre-wrap;max-width:40rem}
`;
