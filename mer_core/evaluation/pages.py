"""What the book's pages show: tables styled for reading, a run's results section.

:func:`style_table` formats any DataFrame for a page; :func:`paper_layout_html`
prints a run's table as the paper does, each cell ``mean [95 % CI]`` over the
paper's value; :func:`collapsed` hides a long table behind a ``<details>``;
:func:`results_section` gives everything a results chapter shows for one run
(finding, description, table, figure, tests, confusion matrices). They return
pandas Stylers or IPython display objects built from
:mod:`mer_core.evaluation.tables`; nothing here reads a file.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mer_core.evaluation.tables import (
    _fmt,
    comparison_table,
    figure_caption,
    paired_tests_table,
    paper_layout,
    run_description,
    table_caption,
    verdict,
)
from mer_core.names import METRIC_TITLES, PAPER_MODELS, SCHEME_TITLES, TABLE_COLUMNS
from mer_core.paper import PAPER_TABLES
from mer_core.schemes import get_scheme

__all__ = ["collapsed", "paper_layout_html", "results_section", "style_table"]


def style_table(df: pd.DataFrame, *, caption: str = "", precision: int = 3):
    """A pandas Styler for the book, formatted for reading.

    Numeric cells to ``precision`` decimals; counts (integer columns, and float
    columns holding whole numbers only) without decimals; NaN as an en dash;
    snake_case column names in words; a default 0, 1, 2 ... index hidden;
    cells padded so neighbours never run together; a fixed table id, so an
    executed notebook does not change between runs.

    Examples
    --------
    >>> from mer_core.paper import paper_table
    >>> html = style_table(paper_table("ema"), caption="Table 1 (paper)").to_html()
    >>> "Table 1 (paper)" in html, "0.850" in html
    (True, True)
    >>> html = style_table(pd.DataFrame({"n_clips": [14188.0, 3.0]})).to_html()
    >>> "14,188" in html, "14188.0" in html, "n clips" in html, ">0<" in html
    (True, False, True, False)
    """
    import hashlib

    df = df.rename(columns=lambda c: c.replace("_", " ") if isinstance(c, str) else c)
    styler = df.style.format(precision=precision, na_rep="–", thousands=",")
    # a fixed id (not pandas' random one), so an executed notebook does not drift
    key = caption + "|" + "|".join(map(str, df.columns))
    styler = styler.set_uuid("t" + hashlib.sha1(key.encode()).hexdigest()[:8])
    counts = []
    for c in df.columns:
        col = df[c]
        if pd.api.types.is_bool_dtype(col):
            continue
        if pd.api.types.is_integer_dtype(col):
            counts.append(c)
        elif pd.api.types.is_float_dtype(col):
            v = col.dropna()
            if len(v) and bool(np.all(v == np.round(v))) and bool((v.abs() >= 2).any()):
                counts.append(c)
    if counts:
        styler = styler.format("{:,.0f}", subset=counts, na_rep="–")
    if isinstance(df.index, pd.RangeIndex) and df.index.start == 0 and df.index.name is None:
        styler = styler.hide(axis="index")
    styles = [
        {"selector": "td, th", "props": "padding: 0.25em 0.7em;"},
    ]
    if caption:
        styler = styler.set_caption(caption)
        styles.append(
            {
                "selector": "caption",
                "props": "caption-side: top; font-weight: bold; text-align: left;",
            }
        )
    return styler.set_table_styles(styles)


def collapsed(obj, summary: str):
    """An HTML ``<details>`` block (closed) around a table or Styler: the long form, hidden.

    Examples
    --------
    >>> collapsed(pd.DataFrame({"a": [1]}), "Long form").data[:36]
    '<details><summary>Long form</summary'
    """
    from IPython.display import HTML

    html = obj.to_html() if hasattr(obj, "to_html") else str(obj)
    return HTML(f"<details><summary>{summary}</summary>\n{html}\n</details>")


def paper_layout_html(
    record: dict, scheme: str | None = None, *, caption: str = "", models=PAPER_MODELS
):
    """The run's table as the paper prints it, each cell ``mean [95 % CI]`` over ``paper x``.

    Returns
    -------
    IPython.display.HTML

    Examples
    --------
    >>> rec = {"scheme": "4q", "summary": [
    ...     {"model": "svm", "f1": 0.61, "f1_ci_low": 0.55, "f1_ci_high": 0.67}]}
    >>> html = paper_layout_html(rec, caption="Table 3").data
    >>> "0.61 [0.55, 0.67]" in html, "paper 0.75" in html, "Table 3" in html
    (True, True, True)
    """
    from IPython.display import HTML

    df = paper_layout(record, scheme, models=models)
    labels = [METRIC_TITLES[metric] for metric in TABLE_COLUMNS]
    head = "".join(f"<th>{label}</th>" for label in labels)
    body = []
    for name, row in df.iterrows():
        cells = []
        for label in labels:
            d = 0 if label.startswith("Training") else 2
            mean, low, high, ref = (
                row[(label, p)] for p in ("mean", "ci_low", "ci_high", "paper")
            )
            ci = "" if not np.isfinite(low) else f" [{_fmt(low, d)}, {_fmt(high, d)}]"
            cells.append(
                f'<td><span class="mer-ours">{_fmt(mean, d)}{ci}</span><br>'
                f'<span class="mer-paper">paper {_fmt(ref, d)}</span></td>'
            )
        body.append(f"<tr><th>{name}</th>{''.join(cells)}</tr>")
    cap = f"<caption>{caption}</caption>" if caption else ""
    return HTML(
        f'<table class="mer-layout">{cap}<thead><tr><th>model</th>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
        '<p class="mer-note">Each cell: this run\'s mean over folds [95 % interval] and, '
        "below it, the value printed in the paper (<i>paper</i>). Training time: seconds "
        "per fold on this machine; the paper's hardware is unknown.</p>"
    )


def results_section(
    record: dict,
    scheme: str | None = None,
    *,
    heading: str = "###",
    title: str | None = None,
    tests_models=PAPER_MODELS,
) -> list:
    """What a results chapter shows for one run, findings first, as display objects.

    The heading and the computed :func:`verdict`, what the run evaluated, the
    table in the paper's layout (:func:`paper_layout_html`), the figure, the
    paired tests, the confusion matrices, and the long form of the table
    (collapsed).
    """
    from IPython.display import Markdown

    from mer_core import plots

    scheme = get_scheme(scheme or record["scheme"]).name
    name = title or SCHEME_TITLES[scheme]
    caption = table_caption(record, scheme)
    long_form = style_table(comparison_table(record, scheme, long=True), caption=caption)
    tests = paired_tests_table(record, models=tests_models, scheme=scheme)
    return [
        Markdown(f"{heading} {name}\n\n{verdict(record)}\n\n{run_description(record)}"),
        paper_layout_html(record, scheme, caption=caption),
        plots.plot_model_comparison(
            record, paper=PAPER_TABLES[scheme], title=figure_caption(record, scheme)
        ),
        style_table(tests, caption="CNN-SVM against each other model, on the same folds"),
        plots.plot_confusion_matrices(
            record, models=[m for m in PAPER_MODELS if m in (record.get("confusion") or {})]
        ),
        collapsed(long_form, "Long form: every value, its interval and the gap to the paper"),
    ]
