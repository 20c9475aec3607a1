// The page shell every HTML report shares: one self-contained file (inline CSS and script, no
// network, no external assets) in light and dark colour schemes, usable by keyboard.

/** Text for HTML content and attribute values. */
export const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** JSON inside a <script> element: `<` escaped so no string can close the element. */
export const scriptJson = (value: unknown): string => JSON.stringify(value).replace(/</g, '\\u003c');

const CSS = `
:root { color-scheme: light dark; --bg:#fff; --fg:#1d232a; --muted:#5d6873; --line:#d5dbe1; --panel:#f4f6f8; --accent:#0b63c5;
  --none:#e3e7eb; --none-fg:#38424c; --cleared:#cfe3fb; --cleared-fg:#0b4a8f; --aborted:#ffdf9e; --aborted-fg:#6b4200;
  --sigsegv:#f8b4b4; --sigsegv-fg:#7a1010; --unreached:#ffffff; --heat:#e8590c; --bad:#c92a2a; --warn:#b35c00; --note:#1864ab;
  --t0:#4c8bf5; --t1:#2f9e44; --t2:#ae3ec9; --t3:#e67700; --t4:#0c8599; --t5:#c2255c; --t6:#5f3dc4; --t7:#66a80f; }
@media (prefers-color-scheme: dark) { :root { --bg:#15191e; --fg:#dfe4ea; --muted:#97a2ad; --line:#38414b; --panel:#1e242b; --accent:#6fb0ff;
  --none:#2c333b; --none-fg:#c5ccd3; --cleared:#173a63; --cleared-fg:#b9d8ff; --aborted:#5c4100; --aborted-fg:#ffe3a3;
  --sigsegv:#6b1c1c; --sigsegv-fg:#ffd0d0; --unreached:#15191e; --heat:#ff8a3d; --bad:#ff6b6b; --warn:#ffa94d; --note:#74c0fc;
  --t0:#5c9dff; --t1:#40c057; --t2:#cc5de8; --t3:#ff922b; --t4:#22b8cf; --t5:#f06595; --t6:#9775fa; --t7:#94d82d; } }
* { box-sizing: border-box; }
body { margin: 0; padding: 1.2rem 1.6rem 3rem; background: var(--bg); color: var(--fg); font: 14px/1.45 system-ui, sans-serif; }
h1 { font-size: 1.35rem; margin: 0 0 .3rem; } h2 { font-size: 1.1rem; margin: 1.8rem 0 .5rem; border-bottom: 1px solid var(--line); padding-bottom: .2rem; }
h3 { font-size: 1rem; margin: 1.2rem 0 .4rem; }
code, .mono, td.mono, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
.muted { color: var(--muted); } .summary { display: flex; flex-wrap: wrap; gap: .4rem 1.4rem; margin: .6rem 0; }
.summary div { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: .35rem .7rem; }
.summary b { display: block; font-size: 1.05rem; }
.verdict-fail b, .sev-error { color: var(--bad); } .verdict-pass b { color: var(--t1); } .sev-warning { color: var(--warn); } .sev-note { color: var(--note); }
table { border-collapse: collapse; margin: .4rem 0 1rem; }
th, td { border: 1px solid var(--line); padding: 2px 7px; text-align: left; vertical-align: top; }
th { background: var(--panel); font-weight: 600; position: sticky; top: 0; }
.scroll { overflow-x: auto; max-width: 100%; }
td.cell { min-width: 7.5em; white-space: nowrap; font-size: 12.5px; } table.outcome-map td { white-space: nowrap; } table.outcome-map td.label { white-space: normal; min-width: 12em; }
tr.context td { opacity: .75; border-top: 2px dashed var(--line); } tr.in-cycle td:first-child { box-shadow: inset 3px 0 var(--bad); }
.cell.none { background: var(--none); color: var(--none-fg); } .cell.cleared { background: var(--cleared); color: var(--cleared-fg); }
.cell.aborted { background: var(--aborted); color: var(--aborted-fg); } .cell.sigsegv { background: var(--sigsegv); color: var(--sigsegv-fg); font-weight: 600; }
.cell.unreached, .cell.na { background: var(--unreached); color: var(--muted); font-style: italic; }
.legend { display: flex; flex-wrap: wrap; gap: .8rem; margin: .3rem 0 .6rem; font-size: 12.5px; }
.legend span.sw { display: inline-block; width: 1.1em; height: 1.1em; vertical-align: -2px; margin-right: .3em; border: 1px solid var(--line); }
.marks { color: var(--accent); white-space: nowrap; } .labels { color: var(--muted); }
.heatbar { display: inline-block; height: .8em; background: var(--heat); vertical-align: middle; margin-right: .4em; min-width: 1px; }
.heatbar.bad { background: var(--bad); }
tr.finding td { background: var(--panel); } tr.has-finding td.mono:first-child { box-shadow: inset 3px 0 var(--bad); }
.desc { margin: .2rem 0 .4rem; } .desc code { white-space: nowrap; }
button { font: inherit; color: inherit; background: var(--panel); border: 1px solid var(--line); border-radius: 5px; padding: .25rem .6rem; cursor: pointer; }
button:focus-visible, .block:focus-visible, a:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }
button[aria-expanded="true"], button[aria-pressed="true"] { border-color: var(--accent); box-shadow: inset 3px 0 var(--accent); }
ol.violations { padding-left: 2.2rem; max-height: 13.5em; overflow-y: auto; border: 1px solid var(--line); border-radius: 6px; margin: .4rem 0; padding-top: .2rem; padding-bottom: .2rem; } ol.violations li { margin: .25rem 0; } ol.violations button { text-align: left; }
.violation { border: 1px solid var(--line); border-radius: 8px; padding: .6rem .9rem; margin: .8rem 0; background: var(--bg); }
.replay { display: flex; gap: .5rem; align-items: center; } .replay input { flex: 1; font: 12.5px ui-monospace, monospace; color: var(--fg); background: var(--panel); border: 1px solid var(--line); padding: .25rem .4rem; }
svg.timeline { display: block; background: var(--panel); border: 1px solid var(--line); border-radius: 6px; }
svg.timeline text { fill: var(--fg); font: 11px ui-monospace, monospace; } svg.timeline .lane-bg { fill: var(--bg); }
svg.timeline .block rect { stroke: var(--bg); stroke-width: 1; cursor: pointer; } svg.timeline .block text { fill: #fff; pointer-events: none; }
svg.timeline .block:hover rect, svg.timeline .block.selected rect { stroke: var(--fg); stroke-width: 2; }
${[0, 1, 2, 3, 4, 5, 6, 7].map((i) => `.th${i} rect { fill: var(--t${i}); } .sw.th${i} { background: var(--t${i}); }`).join(' ')}
svg.timeline .marker line { stroke: var(--fg); stroke-width: 1.5; } svg.timeline .marker.abort line, svg.timeline .marker.sigsegv line { stroke: var(--bad); stroke-width: 2.5; }
svg.timeline .marker path { fill: var(--fg); } svg.timeline .marker.abort path, svg.timeline .marker.sigsegv path { fill: var(--bad); }
svg.timeline .marker.syscall path { fill: var(--accent); } svg.timeline text.glyph { font-weight: 700; } svg.timeline .axis { stroke: var(--line); }
.block-detail { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: .4rem .7rem; margin: .4rem 0; min-height: 2.2em; white-space: pre; overflow-x: auto; }
footer { margin-top: 2.5rem; color: var(--muted); font-size: 12px; }
`;

/** Violation picking, block details on hover, click and keyboard, and the SARIF download. */
const SCRIPT = `
(() => {
  const picks = [...document.querySelectorAll('button.violation-pick')];
  const show = (id) => {
    for (const b of picks) {
      const on = b.getAttribute('aria-controls') === id;
      b.setAttribute('aria-expanded', String(on));
      document.getElementById(b.getAttribute('aria-controls')).hidden = !on;
    }
  };
  for (const b of picks) b.addEventListener('click', () => show(b.getAttribute('aria-controls')));
  for (const svg of document.querySelectorAll('svg.timeline')) {
    const data = JSON.parse(document.getElementById(svg.dataset.blocks).textContent);
    const panel = document.getElementById(svg.dataset.detail);
    const describe = (g) => {
      const b = data[Number(g.dataset.block)];
      panel.textContent = b.head + '\\n' + b.lines.join('\\n') + (b.omitted ? '\\n… ' + b.omitted + ' instructions not shown in the middle' : '');
    };
    const select = (g) => {
      for (const o of svg.querySelectorAll('.block.selected')) o.classList.remove('selected');
      g.classList.add('selected');
      describe(g);
    };
    for (const g of svg.querySelectorAll('.block')) {
      g.addEventListener('mouseenter', () => describe(g));
      g.addEventListener('focus', () => describe(g));
      g.addEventListener('click', () => select(g));
      g.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); select(g); } });
    }
  }
  for (const b of document.querySelectorAll('button.copy')) b.addEventListener('click', () => {
    const input = document.getElementById(b.dataset.target);
    input.select();
    navigator.clipboard?.writeText(input.value).catch(() => {});
  });
  const sarif = document.getElementById('sarif-log');
  const get = document.getElementById('sarif-download');
  if (sarif && get) get.addEventListener('click', () => {
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([sarif.textContent], { type: 'application/sarif+json' }));
    a.download = 'rseq-emu.sarif';
    a.click();
  });
})();
`;

export function htmlPage(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
${body}
<footer>Made by rseq-emu. Every colour in the outcome maps is what the kernel model did; nothing in this page is fetched from the network.</footer>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
