/** The ops console's style sheet (served as /console/console.css; the CSP allows no inline style). */
export const CONSOLE_CSS = String.raw`
:root{--bg:#f4f6fa;--panel:#fff;--ink:#1b2232;--ink2:#5b6478;--line:#e4e8f0;--side:#151c2e;--side2:#1f2940;--accent:#4f7cff;
--ok:#1f9d6b;--ok-bg:#e3f6ee;--bad:#d64545;--bad-bg:#fde8e8;--warn:#b7791f;--warn-bg:#fdf3dc;--info:#3563d8;--info-bg:#e7eefe;--muted:#6b7385;--muted-bg:#eef0f5;
--mono:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
*{box-sizing:border-box}
html,body{margin:0;height:100%}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);background:var(--bg)}
[hidden]{display:none!important}
a{color:var(--accent);text-decoration:none}a:hover{text-decoration:underline}
code,.mono{font-family:var(--mono);font-size:12.5px}
#app{display:flex;min-height:100vh;background:linear-gradient(90deg,var(--side) 220px,var(--bg) 220px)}
#sidebar{width:220px;flex:none;background:var(--side);color:#c9d1e4;display:flex;flex-direction:column;padding:16px 12px;position:sticky;top:0;height:100vh}
.brand{display:flex;align-items:center;gap:10px;font-weight:700;font-size:17px;color:#fff;padding:4px 8px 18px}
#nav{display:flex;flex-direction:column;gap:2px}
#nav a{display:flex;align-items:center;gap:10px;color:#c9d1e4;padding:8px 10px;border-radius:8px;font-weight:500}
#nav a:hover{background:var(--side2);text-decoration:none;color:#fff}
#nav a.active{background:var(--accent);color:#fff}
#nav .count{margin-left:auto;background:var(--bad);color:#fff;border-radius:10px;font-size:11px;padding:0 7px;line-height:18px}
#who{margin-top:auto;border-top:1px solid var(--side2);padding:12px 8px 0;font-size:12.5px}
#who .who-tenant{color:#fff;font-weight:600;margin-bottom:6px;word-break:break-all}
#who .muted{word-break:break-all}
#who .chips{margin:6px 0 10px}#who .chip{background:var(--side2);color:#c9d1e4}
#who button{width:100%}
#main{flex:1;min-width:0;padding:0 28px 40px}
.topbar{display:flex;align-items:center;gap:16px;padding:18px 0 14px;position:sticky;top:0;background:var(--bg);z-index:5}
.topbar h1{font-size:21px;margin:0;font-weight:650}
#tools{margin-left:auto;display:flex;gap:8px;align-items:center}
.live{font-size:12px;padding:3px 10px 3px 22px;border-radius:12px;position:relative;background:var(--muted-bg);color:var(--muted)}
.live::before{content:"";position:absolute;left:9px;top:8px;width:7px;height:7px;border-radius:50%;background:var(--muted)}
.live.on{background:var(--ok-bg);color:var(--ok)}.live.on::before{background:var(--ok);animation:pulse 2s infinite}
@keyframes pulse{0%{opacity:1}50%{opacity:.35}100%{opacity:1}}
.grid{display:grid;gap:16px;grid-template-columns:repeat(auto-fill,minmax(440px,1fr));margin-bottom:16px}
.stats{display:grid;gap:12px;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));margin-bottom:16px}
.stat{background:var(--panel);border:1px solid var(--line);border-radius:12px;padding:14px 16px}
.stat-value{font-size:24px;font-weight:650;line-height:1.2}
.stat-label{color:var(--ink2);font-size:12.5px;margin-top:2px}
.stat-sub{color:var(--muted);font-size:12px;margin-top:6px}
.stat.tone-bad .stat-value{color:var(--bad)}.stat.tone-warn .stat-value{color:var(--warn)}.stat.tone-ok .stat-value{color:var(--ok)}
.card{background:var(--panel);border:1px solid var(--line);border-radius:12px;margin-bottom:16px;min-width:0}
.card-head{display:flex;align-items:center;gap:10px;padding:12px 16px;border-bottom:1px solid var(--line)}
.card-head h2{font-size:14.5px;margin:0;font-weight:650}
.card-head .help{color:var(--muted);font-size:12px;font-weight:400}
.card-head .tools{margin-left:auto;display:flex;gap:8px;align-items:center}
.card-body{padding:14px 16px}
.card-body.flush{padding:0}
.chart-host{min-height:200px}
.chart-empty{display:flex;align-items:center;justify-content:center;height:200px;color:var(--muted)}
.table-wrap{overflow-x:auto}
table.data{border-collapse:collapse;width:100%}
table.data th{text-align:left;font-size:11.5px;text-transform:uppercase;letter-spacing:.04em;color:var(--ink2);font-weight:600;padding:9px 12px;border-bottom:1px solid var(--line);background:#fafbfd;white-space:nowrap}
table.data td{padding:9px 12px;border-bottom:1px solid var(--line);vertical-align:top}
table.data tr:last-child td{border-bottom:0}
table.data tr.clickable{cursor:pointer}table.data tr.clickable:hover td{background:#f7f9fd}
table.data tr.fresh td{animation:fresh 2.5s ease-out}
table.data tr.selected td{background:#eef3ff}
table.data tr.expanded td{background:#fafbfd;padding:14px 24px}
@keyframes fresh{from{background:#fff6d6}to{background:transparent}}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.nowrap{white-space:nowrap}
.sub{display:block;color:var(--muted);font-size:12px}
.strong{font-weight:600}
.muted{color:var(--muted)}
.empty{padding:28px 16px;text-align:center;color:var(--muted)}
.badge{display:inline-block;font-size:11.5px;font-weight:600;padding:2px 8px;border-radius:10px;white-space:nowrap}
.badge::first-letter{text-transform:uppercase}
.tone-ok.badge{background:var(--ok-bg);color:var(--ok)}.tone-bad.badge{background:var(--bad-bg);color:var(--bad)}
.tone-warn.badge{background:var(--warn-bg);color:var(--warn)}.tone-info.badge{background:var(--info-bg);color:var(--info)}
.tone-muted.badge{background:var(--muted-bg);color:var(--muted)}
.chips{display:inline-flex;flex-wrap:wrap;gap:4px}
.chip{display:inline-block;font-size:12px;padding:1px 8px;border-radius:6px;background:var(--muted-bg);color:var(--ink2);white-space:nowrap}
.chip.kv{padding:0;overflow:hidden;display:inline-flex}.chip.kv .k{padding:1px 6px;background:#e2e6ef}.chip.kv .v{padding:1px 7px}
.gap{display:inline-flex;gap:6px;align-items:center;flex-wrap:wrap}
.gap.nowrap{flex-wrap:nowrap}
.feed{max-height:360px;overflow:auto}
.feed thead th{position:sticky;top:0;z-index:1}
.meter{height:6px;background:var(--muted-bg);border-radius:4px;overflow:hidden;min-width:70px;margin-top:5px}
.meter>span{display:block;height:100%;background:var(--accent);border-radius:4px}
.meter.tone-warn>span{background:var(--warn)}.meter.tone-bad>span{background:var(--bad)}.meter.tone-ok>span{background:var(--ok)}
.score{display:inline-block;min-width:38px;text-align:center;font-weight:650;border-radius:8px;padding:1px 6px}
.score.tone-ok{background:var(--ok-bg);color:var(--ok)}.score.tone-warn{background:var(--warn-bg);color:var(--warn)}.score.tone-bad{background:var(--bad-bg);color:var(--bad)}
button{font:inherit;font-size:13px;border:1px solid var(--line);background:var(--panel);color:var(--ink);padding:6px 12px;border-radius:8px;cursor:pointer;white-space:nowrap}
button:hover{border-color:#c5cde0;background:#f7f9fd}
button:disabled{opacity:.55;cursor:default}
button.primary{background:var(--accent);border-color:var(--accent);color:#fff}button.primary:hover{background:#3f6bec}
button.danger{color:var(--bad)}button.danger.armed{background:var(--bad);border-color:var(--bad);color:#fff}
button.small{padding:3px 9px;font-size:12px}
#who button{background:var(--side2);border-color:var(--side2);color:#c9d1e4}
.seg{display:inline-flex;border:1px solid var(--line);border-radius:8px;overflow:hidden;background:var(--panel)}
.seg button{border:0;border-radius:0;padding:5px 11px}.seg button+button{border-left:1px solid var(--line)}
.seg button.on{background:var(--accent);color:#fff}
input,select,textarea{font:inherit;font-size:13px;padding:6px 9px;border:1px solid #cfd6e4;border-radius:8px;background:#fff;color:var(--ink)}
textarea{font-family:var(--mono);font-size:12.5px;resize:vertical}
input:focus,select:focus,textarea:focus{outline:2px solid #c9d7ff;border-color:var(--accent)}
form.row{display:flex;flex-wrap:wrap;gap:10px;align-items:flex-end}
form.row label{display:flex;flex-direction:column;gap:4px;font-size:12px;color:var(--ink2);font-weight:500}
form.row label.grow{flex:1;min-width:220px}
form.row textarea{min-height:38px;height:38px}
.banner{border-radius:10px;padding:10px 14px;margin-bottom:16px;display:flex;gap:10px;align-items:center;flex-wrap:wrap}
.banner.tone-warn{background:var(--warn-bg);color:#7a5312}.banner.tone-bad{background:var(--bad-bg);color:#8f2323}
pre.json{margin:0;font-family:var(--mono);font-size:12.5px;background:#f6f8fc;border:1px solid var(--line);border-radius:8px;padding:10px 12px;max-height:320px;overflow:auto;white-space:pre-wrap;word-break:break-word}
dl.fields{display:grid;grid-template-columns:repeat(auto-fill,minmax(190px,1fr));gap:12px 20px;margin:0}
dl.fields div{min-width:0}dl.fields dt{font-size:11.5px;color:var(--ink2);text-transform:uppercase;letter-spacing:.04em}
dl.fields dd{margin:2px 0 0;word-break:break-word}
.detail-head{display:flex;align-items:center;gap:12px;flex-wrap:wrap;margin-bottom:14px}
.detail-head h2{margin:0;font-size:17px;font-family:var(--mono)}
.two{display:grid;grid-template-columns:repeat(auto-fit,minmax(380px,1fr));gap:16px}
.errorbox{background:var(--bad-bg);color:#8f2323;border-radius:8px;padding:10px 12px}
.errorbox .strong{color:var(--bad)}
ol.timeline{list-style:none;margin:0;padding:0 0 0 4px}
ol.timeline li{position:relative;padding:0 0 14px 22px;border-left:2px solid var(--line);margin-left:6px}
ol.timeline li:last-child{border-left-color:transparent;padding-bottom:0}
ol.timeline li::before{content:"";position:absolute;left:-7px;top:3px;width:12px;height:12px;border-radius:50%;background:var(--muted);border:2px solid #fff}
ol.timeline li.tone-ok::before{background:var(--ok)}ol.timeline li.tone-bad::before{background:var(--bad)}
ol.timeline li.tone-warn::before{background:var(--warn)}ol.timeline li.tone-info::before{background:var(--info)}
ol.timeline .when{color:var(--muted);font-size:12px;margin-left:6px}
.wf{position:relative}
.wf-axis{display:grid;grid-template-columns:300px 1fr 90px;font-size:11px;color:var(--muted);padding:0 0 6px}
.wf-ticks{position:relative;height:14px}
.wf-ticks span{position:absolute;transform:translateX(-50%);white-space:nowrap}
.wf-ticks span:first-child{transform:none}.wf-ticks span:last-child{transform:translateX(-100%)}
.wf-row{display:grid;grid-template-columns:300px 1fr 90px;align-items:center;min-height:30px;border-top:1px solid var(--line)}
.wf-label{padding:4px 10px 4px 0;min-width:0;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.wf-label .sub{display:inline;margin-left:6px}
.wf-track{position:relative;height:30px;background:repeating-linear-gradient(90deg,transparent 0,transparent calc(25% - 1px),#eef1f6 calc(25% - 1px),#eef1f6 25%)}
.wf-bar{position:absolute;top:8px;height:14px;border-radius:4px;background:#8aa6ff;min-width:3px}
.wf-bar.kind-server{background:#4f7cff}.wf-bar.kind-producer{background:#9b6cff}.wf-bar.kind-consumer{background:#22b07d}
.wf-bar.status-error{background:var(--bad)}
.wf-bar.critical{top:6px;height:18px}
.wf-label .strong{font-family:var(--mono);font-size:12.5px}
.wf-gap{position:absolute;top:12px;height:6px;background:repeating-linear-gradient(45deg,#f0c36d 0,#f0c36d 3px,transparent 3px,transparent 6px);border-radius:3px}
.wf-dur{text-align:right;font-variant-numeric:tabular-nums;color:var(--ink2);font-size:12.5px;white-space:nowrap}
.legend{display:flex;gap:14px;flex-wrap:wrap;font-size:12px;color:var(--ink2);margin-top:10px}
.legend i{display:inline-block;width:12px;height:8px;border-radius:2px;margin-right:5px;vertical-align:middle;background:#8aa6ff}
.legend i.kind-server{background:#4f7cff}.legend i.kind-consumer{background:#22b07d}.legend i.kind-producer{background:#9b6cff}
.legend i.status-error{background:var(--bad)}.legend i.gap{background:#f0c36d}.legend i.critical{height:12px;background:#8aa6ff}
#toasts{position:fixed;right:20px;bottom:20px;display:flex;flex-direction:column;gap:8px;z-index:20}
.toast{background:var(--side);color:#fff;padding:10px 14px;border-radius:10px;box-shadow:0 6px 20px #0003;max-width:420px;display:flex;gap:10px;align-items:center}
.toast.tone-bad{background:var(--bad)}.toast a{color:#bcd0ff}
#login{position:fixed;inset:0;display:flex;align-items:center;justify-content:center;background:linear-gradient(135deg,#151c2e,#2a3658)}
.login-card{background:#fff;border-radius:16px;padding:28px 30px;width:400px;display:flex;flex-direction:column;gap:12px;box-shadow:0 20px 60px #0006}
.login-card .brand{color:var(--ink);padding:0}.login-card h2{margin:0;font-size:18px}.login-card p{margin:0;color:var(--ink2)}
#login-error{color:var(--bad);min-height:1.2em}
.uplot{font-family:inherit}.u-legend{font-size:12px}.u-legend .u-marker{border-radius:2px}
`;
