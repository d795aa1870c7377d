// The admin listener's live dashboard: one self-contained page (inline CSS, inline script, SVG charts
// drawn by the script). It reads /live/stream (Server-Sent Events, one point a second) and falls back to
// polling /live every second if the stream fails. No external requests, no build step.
export const dashboardPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>proxykit gateway</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
:root{--bg:#f6f7f9;--card:#fff;--ink:#1d2330;--mute:#6b7385;--line:#e3e6ec}
*{box-sizing:border-box}body{margin:0;background:var(--bg);color:var(--ink);font:13px/1.4 system-ui,-apple-system,Segoe UI,sans-serif}
header{display:flex;gap:1.5rem;align-items:baseline;padding:.8rem 1.2rem;background:#1d2330;color:#fff}
header h1{font-size:1.05rem;margin:0}header span{color:#aab3c5}#state.ok,#redis.ok{color:#7ee08a}#state.bad,#redis.bad{color:#ff8a80}
main{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:12px;padding:12px}
section{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:.6rem .8rem}
h2{font-size:.8rem;text-transform:uppercase;letter-spacing:.04em;color:var(--mute);margin:0 0 .3rem;display:flex;justify-content:space-between}
h2 b{color:var(--ink);text-transform:none;letter-spacing:0;font-size:.95rem}
svg{width:100%;height:150px;display:block}.legend{display:flex;gap:.8rem;flex-wrap:wrap;color:var(--mute);font-size:.75rem}
.legend i{display:inline-block;width:10px;height:3px;margin-right:4px;vertical-align:middle}
table{width:100%;border-collapse:collapse}td,th{padding:.2rem .4rem;border-bottom:1px solid var(--line);text-align:left;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;max-width:260px}
.scroll{max-height:340px;overflow:auto}th{color:var(--mute);font-weight:500}td.n{text-align:right;font-variant-numeric:tabular-nums}
.up{color:#1a7f37;font-weight:600}.down{color:#c62828;font-weight:600}.empty{color:var(--mute)}
.big{font-size:1.6rem;font-weight:600;font-variant-numeric:tabular-nums}
.kpis{display:flex;gap:1.6rem}.kpis div span{display:block;color:var(--mute);font-size:.75rem}
</style></head><body>
<header><h1>proxykit gateway</h1><span id="workers"></span><span id="uptime"></span><span id="state">connecting…</span><span id="redis"></span></header>
<main>
<section><h2>Requests per second <b id="rps-now">–</b></h2><svg id="rps" role="img" aria-label="requests per second by listener"></svg><div class="legend" id="rps-legend"></div></section>
<section><h2>Status classes (req/s) <b id="status-now">–</b></h2><svg id="status" role="img" aria-label="status classes"></svg><div class="legend" id="status-legend"></div></section>
<section><h2>Latency (ms) <b id="lat-now">–</b></h2><svg id="latency" role="img" aria-label="latency p50 and p99"></svg><div class="legend" id="latency-legend"></div></section>
<section><h2>Cache hit ratio <b id="hit-now">–</b></h2><svg id="hits" role="img" aria-label="cache hit ratio"></svg><div class="legend" id="hits-legend"></div></section>
<section><h2>Upstreams <b id="up-count">–</b></h2><table id="upstreams"><thead><tr><th>route</th><th>upstream</th><th>health</th><th>in flight</th></tr></thead><tbody></tbody></table></section>
<section><h2>Tunnels and denials</h2>
<div class="kpis"><div><span>open tunnels</span><b class="big" id="tunnels">0</b></div><div><span>denials/s</span><b class="big" id="denial-rate">0</b></div><div><span>requests total</span><b class="big" id="total">0</b></div></div>
<h2 style="margin-top:.6rem">Recent denials</h2><div class="scroll"><table id="denials"><thead><tr><th>time</th><th>listener</th><th>status</th><th>rule</th><th>client</th><th>target</th></tr></thead><tbody></tbody></table></div></section>
</main>
<script>
'use strict'
const COLORS = { forward: '#6f42c1', reverse: '#0b6bcb', admin: '#9aa3b5', '2xx': '#1a7f37', '3xx': '#0b6bcb', '4xx': '#d97706', '5xx': '#c62828', p50: '#0b6bcb', p99: '#c62828', hit: '#1a7f37' }
const $ = (id) => document.getElementById(id)
const esc = (s) => String(s ?? '').replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c])
const fmt = (n, d = 1) => n == null ? '–' : n >= 100 ? Math.round(n).toLocaleString() : n.toFixed(d)
let history = []
const WINDOW = 120

function chart(svg, series, opts = {}) {
  const w = svg.clientWidth || 400, h = svg.clientHeight || 150, pad = { l: 42, r: 8, t: 8, b: 18 }
  svg.setAttribute('viewBox', '0 0 ' + w + ' ' + h)
  const pts = history.slice(-WINDOW)
  let max = opts.max ?? 0
  if (opts.max == null) for (const s of series) for (const p of pts) { const v = s.get(p); if (v != null && v > max) max = v }
  if (!(max > 0)) max = 1
  if (opts.max == null) { const m = Math.pow(10, Math.floor(Math.log10(max))); max = Math.ceil(max / m * 1.1) * m }
  const t1 = pts.length ? pts[pts.length - 1].t : Date.now(), t0 = t1 - (WINDOW - 1) * 1000
  const x = (t) => pad.l + (w - pad.l - pad.r) * Math.max(0, (t - t0)) / ((WINDOW - 1) * 1000)
  const y = (v) => pad.t + (h - pad.t - pad.b) * (1 - v / max)
  let out = ''
  for (let i = 0; i <= 4; i++) {
    const v = max * i / 4, yy = y(v)
    out += '<line x1="' + pad.l + '" x2="' + (w - pad.r) + '" y1="' + yy + '" y2="' + yy + '" stroke="#eef0f4"/>'
    out += '<text x="' + (pad.l - 4) + '" y="' + (yy + 4) + '" font-size="10" text-anchor="end" fill="#6b7385">' + (opts.pct ? Math.round(v * 100) + '%' : fmt(v, v < 10 ? 1 : 0)) + '</text>'
  }
  out += '<text x="' + pad.l + '" y="' + (h - 4) + '" font-size="10" fill="#6b7385">−' + (WINDOW - 1) + ' s</text><text x="' + (w - pad.r) + '" y="' + (h - 4) + '" font-size="10" text-anchor="end" fill="#6b7385">now</text>'
  for (const s of series) {
    let d = '', pen = false, last = null
    for (const p of pts) {
      const v = s.get(p)
      if (v == null) { pen = false; continue }
      last = [x(p.t), y(Math.min(v, max))]
      d += (pen ? 'L' : 'M') + last[0].toFixed(1) + ' ' + last[1].toFixed(1)
      pen = true
    }
    if (d) out += '<path d="' + d + '" fill="none" stroke="' + s.color + '" stroke-width="2" stroke-linejoin="round" data-series="' + esc(s.name) + '"/>'
    if (last) out += '<circle cx="' + last[0].toFixed(1) + '" cy="' + last[1].toFixed(1) + '" r="2.5" fill="' + s.color + '"/>'
  }
  svg.innerHTML = out
}

function legend(id, series) {
  $(id).innerHTML = series.map((s) => '<span><i style="background:' + s.color + '"></i>' + esc(s.name) + '</span>').join('')
}

function listeners() {
  const names = new Set()
  for (const p of history) for (const k in p.rps) names.add(k)
  return [...names].sort()
}

function renderCharts() {
  const ls = listeners()
  const rps = ls.map((l) => ({ name: l, color: COLORS[l] || '#888', get: (p) => p.rps[l] ?? 0 }))
  chart($('rps'), rps); legend('rps-legend', rps)
  const st = ['2xx', '3xx', '4xx', '5xx'].map((c) => ({ name: c, color: COLORS[c], get: (p) => p.status[c] ?? 0 }))
  chart($('status'), st); legend('status-legend', st)
  const lat = [{ name: 'p50', color: COLORS.p50, get: (p) => p.p50 }, { name: 'p99', color: COLORS.p99, get: (p) => p.p99 }]
  chart($('latency'), lat); legend('latency-legend', lat)
  const hit = [{ name: 'hit ratio', color: COLORS.hit, get: (p) => p.hitRatio }]
  chart($('hits'), hit, { max: 1, pct: true }); legend('hits-legend', hit)
  const now = history[history.length - 1]
  if (!now) return
  const dataRps = (now.rps.forward ?? 0) + (now.rps.reverse ?? 0)
  $('rps-now').textContent = fmt(dataRps) + ' req/s'
  const s = now.status
  $('status-now').textContent = ['2xx', '4xx', '5xx'].map((c) => c + ' ' + fmt(s[c] ?? 0)).join(' · ')
  $('lat-now').textContent = 'p50 ' + fmt(now.p50, 2) + ' · p99 ' + fmt(now.p99, 2)
  $('hit-now').textContent = now.hitRatio == null ? 'no lookups' : Math.round(now.hitRatio * 100) + '% of ' + fmt(now.lookups) + '/s'
  const redis = $('redis')
  redis.className = now.redis === false ? 'bad' : 'ok'
  redis.textContent = now.redis == null ? '' : now.redis ? 'redis ok' : 'redis degraded: serving without it'
  $('tunnels').textContent = now.tunnels
  $('denial-rate').textContent = fmt(now.denials)
}

function renderTables(d) {
  const ups = d.upstreams || []
  $('up-count').textContent = ups.filter((u) => u.healthy).length + ' / ' + ups.length + ' healthy'
  $('upstreams').tBodies[0].innerHTML = ups.length === 0 ? '<tr><td colspan="4" class="empty">no reverse routes</td></tr>' :
    ups.map((u) => '<tr><td>' + esc(u.route) + '</td><td>' + esc(u.upstream) + '</td><td class="' + (u.healthy ? 'up">up' : 'down">down') + '</td><td class="n">' + u.inFlight + '</td></tr>').join('')
  const den = d.denials || []
  $('denials').tBodies[0].innerHTML = den.length === 0 ? '<tr><td colspan="6" class="empty">none yet</td></tr>' :
    den.map((e) => '<tr><td>' + new Date(e.at).toLocaleTimeString() + '</td><td>' + esc(e.listener) + '</td><td class="n">' + e.status + '</td><td>' + esc(e.rule ?? '') + '</td><td>' + esc(e.remote ?? '') + '</td><td title="' + esc(e.target) + '">' + esc((e.method ?? '') + ' ' + (e.target ?? '')) + '</td></tr>').join('')
  const total = Object.entries(d.totals?.requests || {}).filter(([l]) => l !== 'admin').reduce((a, [, n]) => a + n, 0)
  $('total').textContent = total.toLocaleString()
  $('workers').textContent = d.workers > 1 ? d.workers + ' workers' : '1 process'
}

function addPoint(p) {
  if (!p) return
  if (history.length && history[history.length - 1].t >= p.t) return
  history.push(p)
  if (history.length > 300) history.shift()
}

let started = Date.now()
function tick() { $('uptime').textContent = 'up ' + Math.round((Date.now() - started) / 1000) + ' s' }
setInterval(tick, 1000)

function state(ok, text) { const el = $('state'); el.className = ok ? 'ok' : 'bad'; el.textContent = text }

function onSnapshot(d) {
  started = d.startedAt; history = []; for (const p of d.history) addPoint(p)
  renderCharts(); renderTables(d); tick()
}

let polling = null
function poll() {
  if (polling) return
  state(false, 'polling')
  polling = setInterval(async () => {
    try { const d = await (await fetch('live', { cache: 'no-store' })).json(); onSnapshot(d); state(true, 'live (polling)') }
    catch (err) { state(false, 'admin listener unreachable') }
  }, 1000)
}

if (typeof EventSource === 'function') {
  const es = new EventSource('live/stream')
  es.addEventListener('snapshot', (e) => { onSnapshot(JSON.parse(e.data)); state(true, 'live') })
  es.addEventListener('point', (e) => { const d = JSON.parse(e.data); addPoint(d.now); renderCharts(); renderTables(d); state(true, 'live') })
  es.onerror = () => { state(false, 'reconnecting…'); if (es.readyState === EventSource.CLOSED) poll() }
} else poll()
window.addEventListener('resize', renderCharts)
</script></body></html>
`
