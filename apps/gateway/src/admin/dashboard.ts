// The admin listener's live page: polls /readyz, /upstreams and /metrics every two seconds. No build
// step, no dependencies, no external requests.
export const dashboardHtml = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>proxykit gateway</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2rem;color:#222}h1{font-size:1.3rem}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{border:1px solid #ccc;padding:.25rem .6rem;text-align:left}
.ok{color:#070}.bad{color:#b00}
</style></head><body>
<h1>proxykit gateway</h1>
<h2>Readiness</h2><table id="ready"></table>
<h2>Requests</h2><table id="requests"><tr><th>listener</th><th>route</th><th>status</th><th>count</th></tr></table>
<h2>Cache</h2><table id="cache"></table>
<h2>Upstreams</h2><table id="upstreams"><tr><th>route</th><th>url</th><th>weight</th><th>state</th><th>in flight</th></tr></table>
<p id="updated"></p>
<script>
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c])
const row = (cells, tag = 'td') => '<tr>' + cells.map((c) => '<' + tag + '>' + esc(c) + '</' + tag + '>').join('') + '</tr>'
function parse(text) {
  const out = []
  for (const line of text.split('\\n')) {
    const m = /^(\\w+)(?:\\{(.*)\\})? (\\S+)$/.exec(line)
    if (!m) continue
    const labels = {}
    for (const l of (m[2] || '').matchAll(/(\\w+)="((?:[^"\\\\]|\\\\.)*)"/g)) labels[l[1]] = l[2]
    out.push({ name: m[1], labels, value: Number(m[3]) })
  }
  return out
}
async function refresh() {
  try {
    const ready = await (await fetch('readyz')).json()
    document.getElementById('ready').innerHTML = Object.entries(ready.checks)
      .map(([k, v]) => '<tr><td>' + esc(k) + '</td><td class="' + (v ? 'ok">up' : 'bad">down') + '</td></tr>').join('')
    const samples = parse(await (await fetch('metrics')).text())
    const req = samples.filter((s) => s.name === 'proxykit_requests_total')
    document.getElementById('requests').innerHTML = row(['listener', 'route', 'status', 'count'], 'th') +
      req.map((s) => row([s.labels.listener, s.labels.route, s.labels.status, s.value])).join('')
    const cache = samples.filter((s) => s.name.startsWith('proxykit_cache_') || s.name === 'proxykit_tunnels_open')
    document.getElementById('cache').innerHTML = cache
      .map((s) => row([s.name + (s.labels.result ? ' ' + s.labels.result : ''), s.value])).join('')
    const ups = await fetch('upstreams')
    if (ups.ok) {
      const { upstreams } = await ups.json()
      document.getElementById('upstreams').innerHTML = row(['route', 'url', 'weight', 'state', 'in flight'], 'th') +
        upstreams.map((u) => row([u.route, u.url, u.weight, u.state, u.inFlight])).join('')
    }
    document.getElementById('updated').textContent = 'updated ' + new Date().toLocaleTimeString()
  } catch (err) {
    document.getElementById('updated').textContent = 'admin listener unreachable: ' + err
  }
}
refresh()
setInterval(refresh, 2000)
</script></body></html>
`
