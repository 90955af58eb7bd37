"""A tiny Sphinx extension for the mer book.

sphinx-thebe (loaded by Jupyter Book 1.x) registers its inline configuration
script twice, so every page declared ``const THEBE_JS_URL`` twice and the
browser logged a SyntaxError. This drops exact duplicate scripts from each
page's context before it is rendered.
"""


def _dedupe_scripts(app, pagename, templatename, context, doctree):
    seen, kept = set(), []
    for js in context.get("script_files", []):
        attrs = getattr(js, "attributes", {}) or {}
        name = getattr(js, "filename", js) or ""  # inline scripts: None or ""
        key = (str(name), tuple(sorted((k, str(v)) for k, v in attrs.items())))
        if key not in seen:
            seen.add(key)
            kept.append(js)
    context["script_files"] = kept


def setup(app):
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
