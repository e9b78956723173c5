"""Sphinx extension: drop exact duplicate <script> entries from every page.

Under Jupyter Book 1.x, sphinx-thebe's set-up runs twice and adds its inline
configuration (``const THEBE_JS_URL = ...``) twice; the second copy throws
"Identifier 'THEBE_JS_URL' has already been declared" in every reader's browser.
Keeping the first of identical entries removes the error and changes nothing else.
"""

from __future__ import annotations


def _key(script) -> tuple:
    # The two copies differ only in an empty filename: None in one, "" in the other.
    filename = getattr(script, "filename", script) or ""
    attributes = getattr(script, "attributes", {}) or {}
    return (str(filename), tuple(sorted((k, str(v)) for k, v in attributes.items())))


def _unique_scripts(app, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        key = _key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique


def setup(app):
    # Late priority: run after the themes and extensions have added their scripts.
    app.connect("html-page-context", _unique_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
