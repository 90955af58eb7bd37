"""A tiny Sphinx extension for the mer book.

* sphinx-thebe (loaded by Jupyter Book 1.x) registers its inline configuration
  script twice, so every page declared ``const THEBE_JS_URL`` twice and the
  browser logged a SyntaxError. This drops exact duplicate scripts from each
  page's context before it is rendered.
* The book's root ``index.html`` is Jupyter Book's bare redirect to the first
  page, without a ``<link rel="icon">``: a browser opening it asks for
  ``/favicon.ico`` and logs a 404. The build writes that file (the book's
  favicon.svg drawn at 32 x 32 pixels) beside the pages.
"""

from pathlib import Path


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


def _write_favicon_ico(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    from PIL import Image, ImageDraw

    scale = 4  # drawn large, then reduced: smooth edges
    img = Image.new("RGBA", (32 * scale, 32 * scale), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)

    def s(*xy):
        return [v * scale for v in xy]

    d.rounded_rectangle(s(0, 0, 31, 31), radius=6 * scale, fill="#0072B2")
    d.line(s(11, 23, 11, 9, 23, 6, 23, 20), fill="white", width=int(2.5 * scale))
    for cx, cy in ((8.5, 23), (20.5, 20)):
        d.ellipse(s(cx - 3, cy - 3, cx + 3, cy + 3), fill="white")
    img = img.resize((32, 32), Image.LANCZOS)
    img.save(Path(app.outdir) / "favicon.ico", sizes=[(32, 32), (16, 16)])


def setup(app):
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    app.connect("build-finished", _write_favicon_ico)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
