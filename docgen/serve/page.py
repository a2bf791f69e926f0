"""``GET /``: a plain server-rendered page for a clinic without an integration team (no front-end
build). The key is entered once and kept for the browser session (``sessionStorage``); record files
(JSON, YAML, JSONL, CSV) are sent to ``POST /v1/page/results``, which answers an HTML fragment made
here: each record's verdict and findings in plain language, and buttons that fetch its DOCX and PDF
from ``POST /v1/render``. Everything a client sent (file names, ids, messages) is HTML-escaped: it is
data, never markup.
"""
from __future__ import annotations

import json
from html import escape

VERDICT = {
    "complete": ("ready", "Complete: nothing is missing. It can be rendered final (and is then locked)."),
    "incomplete": ("missing", "Incomplete: fix what is listed below before it can be rendered final."),
    "invalid": ("invalid", "Cannot be read as a record: fix what is listed below."),
}

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>docgen</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
fieldset { margin-bottom: 1rem; }
.record { border: 1px solid #ccc; border-radius: 4px; padding: .5rem 1rem; margin: .75rem 0; }
.ready { border-left: 6px solid #2a7; } .missing { border-left: 6px solid #d90; }
.invalid { border-left: 6px solid #c33; }
.blocker { color: #a00; } .warning { color: #850; }
code { background: #f3f3f3; padding: 0 .2rem; }
#status { min-height: 1.5rem; }
</style>
</head>
<body>
<h1>docgen</h1>
<p>Check treatment plans and progress notes, and download their DOCX and PDF. Version __VERSION__.</p>
<form id="key-form">
<fieldset><legend>Your key</legend>
<label for="key">API key (kept for this browser session only)</label>
<input id="key" type="password" autocomplete="off" size="50">
<button type="submit" id="key-save">Use this key</button>
<span id="key-state"></span>
</fieldset>
</form>
<form id="upload-form">
<fieldset><legend>Records</legend>
<label for="files">Record files (JSON, YAML, JSONL, CSV)</label>
<input id="files" name="files" type="file" multiple accept=".json,.jsonl,.yaml,.yml,.csv">
<label><input id="as-of" type="date"> judge review dates as of (default: today)</label>
<button type="submit" id="check">Check</button>
</fieldset>
</form>
<div id="status" role="status"></div>
<div id="results"></div>
<script>
"use strict";
const keyInput = document.getElementById("key");
const keyState = document.getElementById("key-state");
const statusBox = document.getElementById("status");
function key() { return sessionStorage.getItem("docgen-key") || ""; }
function showKey() { keyState.textContent = key() ? "key set for this session" : "no key yet"; }
showKey();
document.getElementById("key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem("docgen-key", keyInput.value.trim());
  keyInput.value = "";
  showKey();
});
async function problem(response) {
  try { return (await response.json()).error || response.statusText; } catch (e) { return response.statusText; }
}
document.getElementById("upload-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const files = document.getElementById("files").files;
  if (!files.length) { statusBox.textContent = "Choose one or more record files first."; return; }
  const form = new FormData();
  for (const file of files) form.append("files", file, file.name);
  const asOf = document.getElementById("as-of").value;
  statusBox.textContent = "Checking...";
  const response = await fetch("/v1/page/results" + (asOf ? "?as_of=" + encodeURIComponent(asOf) : ""),
    {method: "POST", body: form, headers: {"Authorization": "Bearer " + key()}});
  if (!response.ok) { statusBox.textContent = "Not checked: " + await problem(response); return; }
  document.getElementById("results").innerHTML = await response.text();  // made by the server, data escaped
  statusBox.textContent = "Checked.";
});
document.getElementById("results").addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-format]");
  if (!button) return;
  const format = button.dataset.format;
  const holder = button.closest(".record");
  const asOf = document.getElementById("as-of").value;
  const query = "?format=" + format + (holder.dataset.draft === "true" ? "&allow_draft=true" : "")
    + (asOf ? "&as_of=" + encodeURIComponent(asOf) : "");
  statusBox.textContent = "Rendering...";
  const response = await fetch("/v1/render" + query, {method: "POST", body: holder.dataset.record,
    headers: {"Authorization": "Bearer " + key(), "Content-Type": "application/json"}});
  if (!response.ok) { statusBox.textContent = "Not rendered: " + await problem(response); return; }
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = holder.dataset.file + "." + format;
  document.body.appendChild(link);
  link.click();
  link.remove();
  statusBox.textContent = "Downloaded " + link.download + ".";
});
</script>
</body>
</html>
"""


def page(version: str) -> str:
    return PAGE.replace("__VERSION__", escape(version))


def _finding(f: dict) -> str:
    """A finding as a reader says it: where (the field path in words, the path itself kept small for
    whoever fixes the export), what, and the rule."""
    from ..compose.wording import where as in_words  # noqa: PLC0415

    place = (f"{escape(in_words(f['path']))} <small><code>{escape(f['path'])}</code></small>"
             if f.get("path") else "the record")
    severity = {"blocker": "To fix", "warning": "Warning"}.get(f["severity"], f["severity"].capitalize())
    return (f'<li class="{escape(f["severity"])}"><strong>{escape(severity)}</strong> in {place}: '
            f'{escape(f["message"])} <small>(rule <code>{escape(f["rule"])}</code>)</small></li>')


def results(rows: list[dict]) -> str:
    """The fragment for the records of an upload: verdict, findings, download buttons."""
    from ..write import safe_name  # noqa: PLC0415

    if not rows:
        return '<p>No records found in these files.</p>'
    from ..compose.wording import plural  # noqa: PLC0415

    parts = [f"<h2>{plural(len(rows), 'record')}</h2>"]
    for row in rows:
        css, verdict = VERDICT.get(row["status"], ("invalid", row["status"]))
        blockers = sum(1 for f in row["findings"] if f["severity"] == "blocker")
        warnings = len(row["findings"]) - blockers
        kind = {"treatment_plan": "treatment plan", "progress_note": "progress note"}.get(row.get("kind") or "",
                                                                                           row.get("kind") or "record")
        data = row.get("data")
        attrs = ""
        buttons = ""
        if data is not None and row["status"] != "invalid":
            draft = "true" if row["status"] == "incomplete" else "false"
            attrs = (f' data-record="{escape(json.dumps(data, ensure_ascii=False), quote=True)}"'
                     f' data-file="{escape(safe_name(row.get("id") or "record"), quote=True)}" data-draft="{draft}"')
            label = "draft " if draft == "true" else ""
            buttons = (f'<p><button type="button" data-format="pdf">Download {label}PDF</button> '
                       f'<button type="button" data-format="docx">Download {label}DOCX</button></p>')
        elif row.get("alone"):
            buttons = ('<p class="alone">Not offered for download here: rendered on its own it would be judged '
                       f'{escape(row["alone"])}, as another record of these files (its plan) or a lock decides its '
                       'verdict. Render it with its plan: <code>docgen render</code>, or a batch.</p>')
        parts.append(
            f'<section class="record {css}"{attrs}>'
            f'<h3>{escape(kind.capitalize())} {escape(row.get("id") or "(no id)")}</h3>'
            f'<p>From <code>{escape(row["source"])}</code>; client {escape(row.get("client") or "?")}'
            f'{"; profile " + escape(row["profile"]) if row.get("profile") else ""}.</p>'
            f'<p class="verdict"><strong>{escape(verdict)}</strong> '
            f'({plural(blockers, "thing") + " to fix" if blockers else "nothing to fix"}, '
            f'{plural(warnings, "warning")})</p>'
            + (f'<ul>{"".join(_finding(f) for f in row["findings"])}</ul>' if row["findings"] else "")
            + buttons + "</section>")
    return "\n".join(parts)


__all__ = ["page", "results"]
