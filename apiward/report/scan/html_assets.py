"""The HTML report's stylesheet and its one small script, inlined into every report.

The script only adds "copy" buttons to the curl commands; the report reads the
same without it. Its hash goes into the page's Content-Security-Policy, so no
other script can run in a report, even one that slipped past the escaping.
"""

from __future__ import annotations

import base64
import hashlib

__all__ = ["CSP", "SCRIPT", "STYLE"]

STYLE = """
:root {
  --bg: #f6f7f9; --card: #fff; --ink: #1c2430; --muted: #5d6978; --line: #dde2e8;
  --code: #f1f3f6; --link: #1d5fbf;
  --critical: #8b1020; --high: #d1302f; --medium: #d47b00; --low: #2f6fd0; --info: #7a8594;
  --pass: #18794e; --fail: #c62828; --warn: #b26a00; --ok: #18794e;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #12161c; --card: #1a2029; --ink: #e3e8ef; --muted: #98a3b3; --line: #2c3542;
    --code: #222a35; --link: #7fb0ff; --critical: #c0263f; --high: #f0625a; --medium: #f0a43a;
    --low: #6aa2ff; --info: #9aa5b4; --ok: #4cc38a;
  }
}
* { box-sizing: border-box; }
html { scroll-behavior: smooth; }
body {
  margin: 0; background: var(--bg); color: var(--ink); line-height: 1.5;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
a { color: var(--link); }
code, pre, .mono {
  font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
  font-size: 13px;
}
.wrap { max-width: 1180px; margin: 0 auto; padding: 0 24px; }
header.top { background: var(--card); border-bottom: 1px solid var(--line); padding: 22px 0 18px; }
.brand { color: var(--muted); font-size: 13px; letter-spacing: .06em; text-transform: uppercase; }
h1 { margin: 4px 0 12px; font-size: 26px; line-height: 1.25; word-break: break-word; }
h2 { font-size: 19px; margin: 34px 0 12px; }
h3 { font-size: 17px; margin: 0; line-height: 1.35; word-break: break-word; }
h4 { font-size: 13px; margin: 16px 0 6px; color: var(--muted); text-transform: uppercase;
     letter-spacing: .05em; }
.verdict { display: inline-flex; gap: 10px; align-items: baseline; padding: 6px 14px;
           border-radius: 6px; font-weight: 700; color: #fff; }
.verdict span { font-weight: 400; }
.verdict-PASS { background: var(--pass); }
.verdict-FAIL { background: var(--fail); }
.verdict-INCOMPLETE { background: var(--warn); }
.notes { color: var(--muted); margin: 6px 0 0; font-size: 14px; }
.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(240px, 1fr));
         gap: 6px 24px; margin: 16px 0 0; }
.facts div { min-width: 0; }
.facts dt { color: var(--muted); font-size: 12px; text-transform: uppercase;
            letter-spacing: .05em; }
.facts dd { margin: 0; overflow-wrap: anywhere; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px;
        padding: 18px 20px; }
.tiles { display: grid; grid-template-columns: repeat(5, 1fr); gap: 12px; margin-bottom: 16px; }
.tile { background: var(--card); border: 1px solid var(--line); border-radius: 8px;
        padding: 12px 14px; border-top: 4px solid var(--sev); }
.tile b { display: block; font-size: 28px; line-height: 1.1; }
.tile small { color: var(--muted); }
.tile.zero b { color: var(--muted); font-weight: 400; }
.gate { display: inline-block; font-size: 11px; color: var(--fail); border: 1px solid var(--fail);
        border-radius: 10px; padding: 0 6px; margin-left: 4px; vertical-align: 2px; }
.chart .row { display: grid; grid-template-columns: 38% 1fr 44px; column-gap: 14px;
              grid-template-areas: "label bar n"; align-items: center; padding: 3px 0; }
.chart .label { grid-area: label; font-size: 14px; white-space: nowrap; overflow: hidden;
                text-overflow: ellipsis; }
.chart .bar, .chart .untested { grid-area: bar; }
.chart .label b { display: inline-block; min-width: 52px; }
.bar { display: flex; height: 16px; background: var(--code); border-radius: 4px;
       overflow: hidden; }
.bar span { display: block; height: 100%; background: var(--sev); }
.chart .n { grid-area: n; text-align: right; font-variant-numeric: tabular-nums; }
.untested { color: var(--muted); font-size: 13px; font-style: italic; }
.untested.clean { color: var(--ok); font-style: normal; }
.legend { display: flex; gap: 16px; flex-wrap: wrap; margin-top: 14px; font-size: 13px;
          color: var(--muted); }
.legend i { display: inline-block; width: 11px; height: 11px; border-radius: 2px;
            background: var(--sev); margin-right: 5px; vertical-align: -1px; }
.sev-critical { --sev: var(--critical); }
.sev-high { --sev: var(--high); }
.sev-medium { --sev: var(--medium); }
.sev-low { --sev: var(--low); }
.sev-info { --sev: var(--info); }
.badge { display: inline-block; min-width: 72px; text-align: center; padding: 1px 8px;
         border-radius: 4px; background: var(--sev); color: #fff; font-size: 12px;
         font-weight: 700; letter-spacing: .04em; }
table { width: 100%; border-collapse: collapse; background: var(--card);
        border: 1px solid var(--line); border-radius: 8px; overflow: hidden; }
th, td { text-align: left; padding: 8px 12px; border-bottom: 1px solid var(--line);
         vertical-align: top; }
th { font-size: 12px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted);
     background: var(--code); }
tr:last-child td { border-bottom: 0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td .mono { word-break: break-all; }
.finding { background: var(--card); border: 1px solid var(--line);
           border-left: 5px solid var(--sev); border-radius: 8px; padding: 16px 20px;
           margin: 0 0 18px; scroll-margin-top: 12px; }
.finding:target { box-shadow: 0 0 0 3px var(--link); }
.finding header { display: flex; gap: 12px; align-items: baseline; flex-wrap: wrap; }
.finding header a.anchor { margin-left: auto; color: var(--muted); text-decoration: none; }
.message { font-size: 15px; margin: 10px 0 4px; white-space: pre-wrap; word-break: break-word; }
.meta { display: grid; grid-template-columns: max-content 1fr max-content 1fr; gap: 3px 16px;
        margin: 12px 0 0; font-size: 14px; }
.meta dt { color: var(--muted); }
.meta dd { margin: 0; min-width: 0; word-break: break-word; }
pre { background: var(--code); border: 1px solid var(--line); border-radius: 6px; margin: 0;
      padding: 10px 12px; overflow: auto; max-height: 420px; white-space: pre-wrap;
      word-break: break-all; }
.curlbox { position: relative; }
.curlbox pre { padding-right: 70px; }
.curlbox button { position: absolute; top: 6px; right: 6px; font: inherit; font-size: 12px;
                  padding: 2px 10px; border: 1px solid var(--line); border-radius: 4px;
                  background: var(--card); color: var(--ink); cursor: pointer; }
details { margin: 8px 0 0; }
summary { cursor: pointer; color: var(--link); }
.exchange { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; margin-top: 8px; }
.exchange h5 { margin: 0 0 4px; font-size: 12px; color: var(--muted); text-transform: uppercase; }
.problems li { margin: 4px 0; }
.problem-error { color: var(--fail); }
.muted { color: var(--muted); }
footer { color: var(--muted); font-size: 13px; padding: 30px 0 40px; }
@media (max-width: 820px) {
  .tiles { grid-template-columns: repeat(2, 1fr); }
  .chart .row { grid-template-columns: 1fr 44px; grid-template-areas: "label n" "bar bar"; }
  .exchange { grid-template-columns: 1fr; }
  .meta { grid-template-columns: max-content 1fr; }
  .hide-narrow { display: none; }
}
@media print {
  body { background: #fff; }
  .curlbox button { display: none; }
  pre { max-height: none; }
}
"""

SCRIPT = """
document.querySelectorAll(".curlbox").forEach(function (box) {
  var pre = box.querySelector("pre");
  var button = document.createElement("button");
  button.type = "button";
  button.textContent = "Copy";
  button.addEventListener("click", function () {
    navigator.clipboard.writeText(pre.textContent).then(function () {
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = "Copy"; }, 1500);
    });
  });
  box.appendChild(button);
});
"""

_HASH = base64.b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode()
# nothing is fetched; only our own script, by its hash, and inline styles run
CSP = (
    f"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{_HASH}'; "
    "img-src data:; base-uri 'none'; form-action 'none'"
)
