"""The paper's own numbers, and the book's tables that set our results beside them.

Everything in :data:`PAPER_TABLES` and :data:`PAPER_CLAIMS` is **copied from
the paper** (H. Yang, "Music Emotion Recognition Model Integrating Deep
Learning", section 4 and its Tables 1-3); nothing there was measured by this
project. The functions below read a cross-validation record (the
``results.json`` of :func:`mer_core.pipeline.ensure_results`) and return
DataFrames ready to show:

========================  ===================================================
function                  table
========================  ===================================================
:func:`comparison_table`  reproduced metric (mean, 95 % CI) beside the paper's
:func:`reproduced_table`  every model of a run (ablations too), mean and CI
:func:`paired_tests_table` CNN-SVM against each other model (t-test, McNemar)
:func:`ablation_table`    CNN-SVM and its ablations: F1 and the change
:func:`confusion_frame`   a model's confusion matrix summed over folds
:func:`claims_table`      the paper's section 4 sentences checked on its tables
:func:`f1_check`          the paper's F1 against its precision and recall
:func:`architecture_table` layers, output shapes, parameters of the CNN
:func:`training_settings` the training settings of a budget
:func:`training_histories` per-epoch loss / accuracy of a run's networks
========================  ===================================================

plus small helpers for the notebooks (:func:`style_table`,
:func:`table_caption`, :func:`figure_caption`, :func:`example_clip`,
:func:`example_players`). Only :func:`training_histories` and
:func:`example_players` read files; nothing happens at import.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from mer_core.errors import MerError, ParameterError

__all__ = [
    "FIGURE_NUMBERS",
    "FOURQ_NOTE",
    "LAYOUT_COLUMNS",
    "METRICS",
    "MODEL_NAMES",
    "PAPER",
    "PAPER_CLAIMS",
    "PAPER_MODELS",
    "PAPER_TABLES",
    "SCHEME_NAMES",
    "TABLE_COLUMNS",
    "TABLE_NUMBERS",
    "ablation_table",
    "architecture_table",
    "chord_vector_change",
    "claims_table",
    "clip_summary",
    "collapsed",
    "comparison_table",
    "confusion_frame",
    "data_description",
    "dataset_overview",
    "example_clip",
    "example_players",
    "f1_check",
    "figure_caption",
    "ground_truth_table",
    "paired_tests_table",
    "paper_layout",
    "paper_layout_html",
    "paper_table",
    "real_run_note",
    "reproduced_table",
    "results_section",
    "run_description",
    "style_table",
    "table_caption",
    "training_histories",
    "training_settings",
    "verdict",
    "verdicts_table",
]

#: The paper reproduced here.
PAPER = 'H. Yang, "Music Emotion Recognition Model Integrating Deep Learning"'
#: The four models of the paper's tables (keys of :data:`mer_core.experiments.MODELS`).
PAPER_MODELS = ("cnn", "svm", "lstm", "cnn_svm")
#: Row names of the paper's tables.
MODEL_NAMES = {"cnn": "CNN", "svm": "SVM", "lstm": "LSTM", "cnn_svm": "CNN-SVM"}
#: The paper's four metrics (this project: accuracy and macro averages).
METRICS = ("accuracy", "precision", "recall", "f1")
#: Columns of the paper's tables ("training time (s)" is ``training_seconds``).
TABLE_COLUMNS = (*METRICS, "training_seconds")
#: Dataset names as the paper writes them.
SCHEME_NAMES = {"ema": "EMA", "emotion": "Emotion", "4q": "4Q"}
#: The paper's table of each dataset.
TABLE_NUMBERS = {"ema": 1, "emotion": 2, "4q": 3}
#: The paper's figure of each dataset (it has none for 4Q).
FIGURE_NUMBERS = {"ema": 1, "emotion": 2}

# The paper's Tables 1-3, row by row: accuracy, precision, recall, F1, training time (s).
_PAPER_ROWS = {
    "ema": {  # Table 1. Model classification comparison (EMA)
        "CNN": (0.68, 0.70, 0.71, 0.71, 201.05),
        "SVM": (0.50, 0.59, 0.57, 0.58, 185.04),
        "LSTM": (0.77, 0.72, 0.78, 0.81, 316.67),
        "CNN-SVM": (0.85, 0.89, 0.80, 0.81, 305.14),
    },
    "emotion": {  # Table 2. Model classification comparison (Emotion)
        "CNN": (0.66, 0.65, 0.68, 0.69, 204.06),
        "SVM": (0.57, 0.55, 0.59, 0.60, 100.14),
        "LSTM": (0.71, 0.77, 0.76, 0.70, 245.57),
        "CNN-SVM": (0.88, 0.81, 0.85, 0.84, 200.14),
    },
    "4q": {  # Table 3. Model classification comparison (4Q)
        "CNN": (0.74, 0.78, 0.80, 0.76, 162.19),
        "SVM": (0.70, 0.71, 0.75, 0.75, 87.42),
        "LSTM": (0.85, 0.88, 0.84, 0.84, 187.07),
        "CNN-SVM": (0.90, 0.92, 0.90, 0.91, 100.94),
    },
}


def _paper_frame(rows: dict) -> pd.DataFrame:
    df = pd.DataFrame.from_dict(rows, orient="index", columns=list(TABLE_COLUMNS))
    df.index.name = "model"
    df.columns.name = "metric"
    return df


#: The paper's Tables 1-3 (as printed; **the paper's numbers, not ours**): one
#: DataFrame per scheme, rows CNN, SVM, LSTM, CNN-SVM, columns
#: :data:`TABLE_COLUMNS`. Use :func:`paper_table` for a copy.
PAPER_TABLES: dict[str, pd.DataFrame] = {s: _paper_frame(r) for s, r in _PAPER_ROWS.items()}

#: The paper's section 4 statements about its tables, as data: the quoted
#: sentence, the scheme, the two models compared (``baseline`` None: a single
#: value), the metric, the claimed value and how it should relate to the value
#: computed from the tables (``"="`` within ``tolerance``, ``"<"`` smaller).
#: Percentages in the text are percentage points of accuracy.
PAPER_CLAIMS: tuple[dict, ...] = (
    *(
        {
            "scheme": scheme,
            "statement": text,
            "model": "CNN-SVM",
            "baseline": base,
            "metric": "accuracy",
            "claimed": claimed,
            "relation": "=",
            "tolerance": 0.005,
        }
        for scheme, text, base, claimed in (
            ("ema", "the accuracy ... of the EMA dataset reaches 85%", None, 0.85),
            ("ema", "17% higher than CNN", "CNN", 0.17),
            ("ema", "35% higher than SVM", "SVM", 0.35),
            ("ema", "8% higher than LSTM", "LSTM", 0.08),
            (
                "emotion",
                "the classification accuracy ... in the Emotion dataset reaches 88%",
                None,
                0.88,
            ),
            ("emotion", "higher than CNN improves by 22%", "CNN", 0.22),
            ("emotion", "31% better than SVM", "SVM", 0.31),
            ("emotion", "17% better than LSTM", "LSTM", 0.17),
        )
    ),
    *(
        {
            "scheme": scheme,
            "statement": "the CNN-SVM-based model is much more efficient than the "
            "CNN-based model training",
            "model": "CNN-SVM",
            "baseline": "CNN",
            "metric": "training_seconds",
            "claimed": 0.0,
            "relation": "<",
            "tolerance": 0.0,
        }
        for scheme in ("ema", "emotion", "4q")
    ),
    *(
        {
            "scheme": scheme,
            "statement": "the difference between the accuracy of the SVM model and the "
            "CNN model is only about 10%",
            "model": "CNN",
            "baseline": "SVM",
            "metric": "accuracy",
            "claimed": 0.10,
            "relation": "=",
            "tolerance": 0.05,  # our reading of "about": within 5 points
        }
        for scheme in ("ema", "emotion", "4q")
    ),
)


def _check_scheme(scheme) -> str:
    key = str(scheme).lower()
    if key not in PAPER_TABLES:
        raise ParameterError(f"unknown scheme {scheme!r}; expected one of {sorted(PAPER_TABLES)}")
    return key


def paper_table(scheme: str) -> pd.DataFrame:
    """A copy of the paper's table for ``scheme`` (Table 1 EMA, 2 Emotion, 3 4Q).

    Examples
    --------
    >>> paper_table("ema").loc["CNN-SVM", "accuracy"]
    np.float64(0.85)
    >>> paper_table("4q").loc["SVM", "training_seconds"]
    np.float64(87.42)
    """
    return PAPER_TABLES[_check_scheme(scheme)].copy()


def claims_table() -> pd.DataFrame:
    """The paper's section 4 statements (:data:`PAPER_CLAIMS`) checked against its own tables.

    ``from_tables`` is the model's value minus the baseline's (or the model's
    value alone) in the paper's table of that dataset; ``agrees`` says whether
    the statement holds for the printed tables.

    Examples
    --------
    >>> t = claims_table()
    >>> t.loc[t["baseline"].eq("CNN") & t["metric"].eq("accuracy"), "agrees"].all()
    np.True_
    >>> t.loc[t["metric"].eq("training_seconds"), ["scheme", "from_tables", "agrees"]]
         scheme  from_tables  agrees
    8       ema       104.09   False
    9   emotion        -3.92    True
    10       4q       -61.25    True
    """
    rows = []
    for claim in PAPER_CLAIMS:
        table = PAPER_TABLES[claim["scheme"]]
        value = table.loc[claim["model"], claim["metric"]]
        if claim["baseline"] is not None:
            value -= table.loc[claim["baseline"], claim["metric"]]
        value = round(float(value), 4)
        if claim["relation"] == "<":
            agrees = value < claim["claimed"]
        else:
            agrees = abs(value - claim["claimed"]) <= claim["tolerance"] + 1e-9
        rows.append({**claim, "from_tables": value, "agrees": bool(agrees)})
    return pd.DataFrame(rows)


def f1_check(*, rounding: float = 0.005) -> pd.DataFrame:
    """The paper's F1 beside the largest F1 its precision and recall allow.

    A per-class F1 is the harmonic mean of that class's precision and recall,
    and the harmonic mean is concave, so a macro- (or weighted-) averaged F1
    can never exceed the harmonic mean of the averaged precision and recall
    (nor can a mean of such F1s over folds exceed that of the mean precision
    and recall); with micro averaging all three equal the accuracy. Allowing for the
    paper's rounding to two decimals, a printed F1 above
    ``HM(P + rounding, R + rounding) + rounding`` cannot come from one set of
    predictions with any of these averages.

    Returns
    -------
    pandas.DataFrame
        One row per (scheme, model): the paper's ``precision``, ``recall``,
        ``f1``, ``f1_bound`` (the harmonic mean of the rounded-up precision
        and recall) and ``consistent``.

    Examples
    --------
    >>> t = f1_check()
    >>> row = t.loc[("ema", "LSTM")]
    >>> float(row["f1"]), float(row["f1_bound"]), bool(row["consistent"])
    (0.81, 0.754, False)
    >>> int(t["consistent"].sum()), len(t)
    (7, 12)
    """
    rows = []
    for scheme, table in PAPER_TABLES.items():
        for model, r in table.iterrows():
            p, q = r["precision"] + rounding, r["recall"] + rounding
            bound = 2 * p * q / (p + q)
            rows.append(
                {
                    "scheme": scheme,
                    "model": model,
                    "precision": r["precision"],
                    "recall": r["recall"],
                    "f1": r["f1"],
                    "f1_bound": round(bound, 3),
                    "consistent": bool(r["f1"] <= bound + rounding + 1e-9),
                }
            )
    return pd.DataFrame(rows).set_index(["scheme", "model"])


#: How to get the real 4Q data (shown by the notebooks when ``data_4q`` is empty).
FOURQ_NOTE = """\
**No real 4Q data was given** (`data_4q` is empty) and no recorded run of it is
committed yet (`book/recorded/4q-dev/`, made by `make record-4q DATA_4Q=...`), so this
part shows the generated stand-in corpora only. The real counterpart of the paper's
"4Q" dataset is the *4Q audio emotion dataset* of Panda, Malheiro & Paiva (IEEE Transactions on
Affective Computing, 2018): 900 clips of about 30 s, 225 per Russell quadrant,
released at <http://mir.dei.uc.pt>. To use it:

```bash
.venv/bin/mer data fetch 4q data/4q       # download, verify, unpack; prints the dataset folder
make reproduce DATA_4Q=data/4q/MER_audio_taffc_dataset   # evaluate on it, rebuild the book
```

(or run this notebook with the parameter `data_4q` set to the folder holding
`Q1` ... `Q4`). The data are for research use only; they are never copied into
this repository.
"""


# ----------------------------------------------------------------------------- records


def _summary(record: dict) -> dict:
    try:
        return {row["model"]: row for row in record["summary"]}
    except (KeyError, TypeError):
        raise MerError("not a results record (no 'summary'); see mer_core.pipeline") from None


def _title(record: dict, model: str) -> str:
    return record.get("titles", {}).get(model) or MODEL_NAMES.get(model, model)


def data_description(record: dict) -> str:
    """What a run was evaluated on, for captions.

    Examples
    --------
    >>> data_description({"dataset": "generated ema (tiny)"})
    'generated stand-in data (generated ema (tiny))'
    >>> data_description({"dataset": "4q-dev"})
    'real audio (4q-dev)'
    """
    name = str(record.get("dataset", ""))
    kind = "generated stand-in data" if name.startswith("generated") else "real audio"
    return f"{kind} ({name})" if name else kind


def run_description(record: dict) -> str:
    """One paragraph (Markdown) saying what a run evaluated and how.

    Examples
    --------
    >>> run_description({"dataset": "generated ema (tiny)", "n_clips": 24, "n_splits": 3,
    ...                  "grouped_by_artist": True, "n_artists": 11, "budget": "tiny",
    ...                  "seed": 0, "feature_config": {"duration": 5.0}})[:60]
    '24 clips of generated stand-in data (generated ema (tiny)); '
    """
    cfg = record.get("feature_config") or {}
    if record.get("grouped_by_artist"):
        split = f"grouped by artist ({record.get('n_artists')} artists, none in two folds)"
    else:
        split = "stratified by class (no artist information)"
    failures = record.get("failures") or []
    text = (
        f"{record.get('n_clips')} clips of {data_description(record)}; "
        f"{record.get('n_splits')}-fold cross-validation {split}; "
        f"features of the first {cfg.get('duration', '?')} s of each clip; "
        f"network budget `{record.get('budget')}`, seed {record.get('seed')}."
    )
    if failures:
        text += f" {len(failures)} clip(s) could not be read and were left out."
    return text


def table_caption(record: dict, scheme: str | None = None) -> str:
    """Caption of the reproduced Table N of a run.

    Examples
    --------
    >>> table_caption({"scheme": "emotion", "dataset": "4q-dev"}).split(" — ")
    ['Table 2. Model classification comparison (Emotion)', 'reproduced on real audio (4q-dev)']
    """
    scheme = _check_scheme(scheme or record["scheme"])
    return (
        f"Table {TABLE_NUMBERS[scheme]}. Model classification comparison "
        f"({SCHEME_NAMES[scheme]}) — reproduced on {data_description(record)}"
    )


def figure_caption(record: dict, scheme: str | None = None) -> str:
    """Caption of the model comparison figure of a run (the paper's Figure 1 or 2).

    Examples
    --------
    >>> figure_caption({"scheme": "ema", "dataset": "generated ema (tiny)"})[:53]
    'Figure 1. Model comparison results in the EMA dataset'
    >>> figure_caption({"scheme": "4q", "dataset": "4q-dev"})[:44]
    'Figure for Table 3 (4Q; not in the paper). M'
    """
    scheme = _check_scheme(scheme or record["scheme"])
    name = SCHEME_NAMES[scheme]
    if scheme in FIGURE_NUMBERS:
        head = f"Figure {FIGURE_NUMBERS[scheme]}."
    else:
        head = f"Figure for Table {TABLE_NUMBERS[scheme]} ({name}; not in the paper)."
    return (
        f"{head} Model comparison results in the {name} dataset — reproduced on "
        f"{data_description(record)}"
    )


def comparison_table(
    record: dict, scheme: str | None = None, *, long: bool = False
) -> pd.DataFrame:
    """Each reproduced metric (mean and 95 % CI over folds) beside the paper's value.

    Parameters
    ----------
    record : dict
        A run's ``results.json`` record.
    scheme : str, optional
        Whose paper table to compare with (default: the record's scheme).
    long : bool
        One row per (model, metric) and the five values as columns (20 rows
        by 5 columns, easier to read on a page than 4 rows by 25 columns).

    Returns
    -------
    pandas.DataFrame
        Rows CNN, SVM, LSTM, CNN-SVM (the paper's names); columns a
        two-level index (metric, value) with metrics :data:`TABLE_COLUMNS`
        and values ``reproduced`` (mean over folds), ``ci_low``, ``ci_high``
        (Student-t 95 % interval), ``paper`` and ``difference``
        (reproduced minus paper). A model missing from the run has NaN.

    Examples
    --------
    >>> rec = {"scheme": "ema", "summary": [
    ...     {"model": "cnn_svm", "accuracy": 0.80, "accuracy_ci_low": 0.75,
    ...      "accuracy_ci_high": 0.85}]}
    >>> t = comparison_table(rec)
    >>> t.loc["CNN-SVM", "accuracy"].round(2).to_dict()
    {'reproduced': 0.8, 'ci_low': 0.75, 'ci_high': 0.85, 'paper': 0.85, 'difference': -0.05}
    >>> list(t.index), bool(np.isnan(t.loc["CNN", ("f1", "reproduced")]))
    (['CNN', 'SVM', 'LSTM', 'CNN-SVM'], True)
    >>> comparison_table(rec, long=True).loc[("CNN-SVM", "accuracy"), "paper"]
    np.float64(0.85)
    """
    scheme = _check_scheme(scheme or record.get("scheme", ""))
    summary = _summary(record)
    paper = PAPER_TABLES[scheme]
    rows = {}
    for model in PAPER_MODELS:
        name = MODEL_NAMES[model]
        s = summary.get(model, {})
        row = {}
        for metric in TABLE_COLUMNS:
            mean = float(s.get(metric, np.nan))
            row[(metric, "reproduced")] = mean
            row[(metric, "ci_low")] = float(s.get(f"{metric}_ci_low", np.nan))
            row[(metric, "ci_high")] = float(s.get(f"{metric}_ci_high", np.nan))
            row[(metric, "paper")] = float(paper.loc[name, metric])
            row[(metric, "difference")] = mean - float(paper.loc[name, metric])
        rows[name] = row
    df = pd.DataFrame.from_dict(rows, orient="index")
    df.columns = pd.MultiIndex.from_tuples(df.columns, names=["metric", "value"])
    df.index.name = "model"
    if long:
        df = df.stack("metric", future_stack=True).reindex(
            pd.MultiIndex.from_product([df.index, TABLE_COLUMNS], names=["model", "metric"])
        )
        df.columns.name = None
    return df


def reproduced_table(record: dict, models=None) -> pd.DataFrame:
    """Every model of a run (the paper's four and the ablations): mean and 95 % CI.

    Returns
    -------
    pandas.DataFrame
        Rows: model titles (``"CNN-SVM w/o chord vector"``, ...); columns
        (metric, ``mean`` / ``ci_low`` / ``ci_high``) for :data:`TABLE_COLUMNS`.

    Examples
    --------
    >>> rec = {"summary": [{"model": "cnn_svm_no_chords", "f1": 0.5, "f1_ci_low": 0.4,
    ...                     "f1_ci_high": 0.6}],
    ...        "titles": {"cnn_svm_no_chords": "CNN-SVM w/o chord vector"}}
    >>> reproduced_table(rec).loc[:, "f1"]
    value                     mean  ci_low  ci_high
    model
    CNN-SVM w/o chord vector   0.5     0.4      0.6
    """
    summary = _summary(record)
    models = list(models) if models is not None else list(record.get("models") or summary)
    rows = {}
    for model in models:
        s = summary.get(model, {})
        rows[_title(record, model)] = {
            (metric, part): float(s.get(metric + suffix, np.nan))
            for metric in TABLE_COLUMNS
            for part, suffix in (("mean", ""), ("ci_low", "_ci_low"), ("ci_high", "_ci_high"))
        }
    df = pd.DataFrame.from_dict(rows, orient="index")
    df.columns = pd.MultiIndex.from_tuples(df.columns, names=["metric", "value"])
    df.index.name = "model"
    return df


def paired_tests_table(record: dict, models=None, *, scheme: str | None = None) -> pd.DataFrame:
    """CNN-SVM against each other model of a run, on the same folds.

    Rows ``vs <model>`` (the index is named after the reference, CNN-SVM).
    Columns: the mean F1 and accuracy differences (CNN-SVM minus the other)
    with the p-values of the Nadeau-Bengio corrected resampled t-test over
    folds; McNemar's exact test on the pooled out-of-fold predictions (clips
    only CNN-SVM got right, clips only the other got right, p); and, for the
    paper's models, the accuracy gap printed in the paper's table.

    Parameters
    ----------
    models : sequence of str, optional
        Which comparisons (default: every model in the record's tests).
    scheme : str, optional
        Whose paper table gives ``paper accuracy diff`` (default: the record's).

    Examples
    --------
    >>> rec = {"scheme": "ema", "titles": {"cnn_svm": "CNN-SVM", "svm": "SVM"},
    ...        "paired_tests": [{"reference": "cnn_svm", "model": "svm", "accuracy_diff": 0.1,
    ...                          "accuracy_p": 0.04, "f1_diff": 0.12, "f1_p": 0.03,
    ...                          "mcnemar_ref_only": 9, "mcnemar_other_only": 2,
    ...                          "mcnemar_p": 0.07}]}
    >>> t = paired_tests_table(rec)
    >>> t.index.tolist(), float(t.iloc[0]["paper: acc. diff"]), t.iloc[0, 4]
    (['vs SVM'], 0.35, '9 / 2')
    """
    tests = record.get("paired_tests") or []
    if models is not None:
        tests = [t for t in tests if t["model"] in set(models)]
    key = scheme or record.get("scheme")
    paper = PAPER_TABLES.get(str(key).lower()) if key else None
    rows = {}
    for t in tests:
        ref, other = t["reference"], t["model"]
        gap = np.nan
        if paper is not None and ref in MODEL_NAMES and other in MODEL_NAMES:
            gap = (
                paper.loc[MODEL_NAMES[ref], "accuracy"] - paper.loc[MODEL_NAMES[other], "accuracy"]
            )
        rows[f"vs {_title(record, other)}"] = {
            "F1 diff": t["f1_diff"],
            "F1 p": t["f1_p"],
            "acc. diff": t["accuracy_diff"],
            "acc. p": t["accuracy_p"],
            "McNemar: clips only CNN-SVM / only the other got right": (
                f"{int(t['mcnemar_ref_only'])} / {int(t['mcnemar_other_only'])}"
            ),
            "McNemar p": t["mcnemar_p"],
            "paper: acc. diff": round(float(gap), 4),
        }
    df = pd.DataFrame.from_dict(rows, orient="index")
    df.index.name = f"{_title(record, tests[0]['reference'])}" if tests else "comparison"
    return df


def ablation_table(
    record: dict, *, reference: str = "cnn_svm", metric: str = "f1"
) -> pd.DataFrame:
    """CNN-SVM and its ablations: the metric (mean, CI), its change and the paired p-value.

    Rows are the reference and every model of the run whose name starts with
    ``"cnn_svm_"`` or is ``"cnn_embedding_svm"``; ``change`` is the ablation
    minus the reference, ``p (corrected t)`` the test of that difference.

    Examples
    --------
    >>> rec = {"models": ["cnn_svm", "cnn_svm_no_chords"],
    ...        "titles": {"cnn_svm": "CNN-SVM", "cnn_svm_no_chords": "w/o chords"},
    ...        "summary": [{"model": "cnn_svm", "f1": 0.7}, {"model": "cnn_svm_no_chords",
    ...                     "f1": 0.6}],
    ...        "paired_tests": [{"reference": "cnn_svm", "model": "cnn_svm_no_chords",
    ...                          "f1_p": 0.2}]}
    >>> ablation_table(rec)[["f1", "change", "p (corrected t)"]].round(2)
                 f1  change  p (corrected t)
    model
    CNN-SVM     0.7     NaN              NaN
    w/o chords  0.6    -0.1              0.2
    """
    summary = _summary(record)
    models = list(record.get("models") or summary)
    keep = [reference] + [
        m
        for m in models
        if m != reference and (m.startswith("cnn_svm_") or m == "cnn_embedding_svm")
    ]
    p = {t["model"]: t.get(f"{metric}_p", np.nan) for t in record.get("paired_tests") or []}
    ref = float(summary.get(reference, {}).get(metric, np.nan))
    rows = {}
    for m in keep:
        s = summary.get(m, {})
        value = float(s.get(metric, np.nan))
        rows[_title(record, m)] = {
            metric: value,
            "ci_low": float(s.get(f"{metric}_ci_low", np.nan)),
            "ci_high": float(s.get(f"{metric}_ci_high", np.nan)),
            "change": np.nan if m == reference else value - ref,
            "p (corrected t)": np.nan if m == reference else float(p.get(m, np.nan)),
        }
    df = pd.DataFrame.from_dict(rows, orient="index")
    df.index.name = "model"
    return df


#: Column names of the paper's tables, in its order.
LAYOUT_COLUMNS = {
    "accuracy": "Accuracy",
    "precision": "Precision",
    "recall": "Recall",
    "f1": "F1",
    "training_seconds": "Training time (s)",
}


def paper_layout(record: dict, scheme: str | None = None, *, models=PAPER_MODELS) -> pd.DataFrame:
    """A run in the paper's table layout: one row per model, the paper's five columns.

    Returns
    -------
    pandas.DataFrame
        Rows CNN, SVM, LSTM, CNN-SVM; columns (``Accuracy`` ... ``Training
        time (s)``, part) with parts ``mean``, ``ci_low``, ``ci_high`` (the
        95 % interval over folds; scores clipped to [0, 1]) and ``paper``
        (the paper's printed value).

    Examples
    --------
    >>> rec = {"scheme": "ema", "summary": [
    ...     {"model": "cnn_svm", "accuracy": 0.80, "accuracy_ci_low": 0.75,
    ...      "accuracy_ci_high": 1.05}]}
    >>> paper_layout(rec).loc["CNN-SVM", "Accuracy"].round(2).to_dict()
    {'mean': 0.8, 'ci_low': 0.75, 'ci_high': 1.0, 'paper': 0.85}
    """
    scheme = _check_scheme(scheme or record.get("scheme", ""))
    summary = _summary(record)
    table = PAPER_TABLES[scheme]
    rows = {}
    for model in models:
        name = MODEL_NAMES.get(model, _title(record, model))
        s = summary.get(model, {})
        row = {}
        for metric, label in LAYOUT_COLUMNS.items():
            low = float(s.get(f"{metric}_ci_low", np.nan))
            high = float(s.get(f"{metric}_ci_high", np.nan))
            if metric != "training_seconds":
                low, high = max(low, 0.0), min(high, 1.0)
            elif not np.isnan(low):
                low = max(low, 0.0)
            row[(label, "mean")] = float(s.get(metric, np.nan))
            row[(label, "ci_low")] = low
            row[(label, "ci_high")] = high
            row[(label, "paper")] = (
                float(table.loc[name, metric]) if name in table.index else np.nan
            )
        rows[name] = row
    df = pd.DataFrame.from_dict(rows, orient="index")
    df.columns = pd.MultiIndex.from_tuples(df.columns, names=["column", "part"])
    df.index.name = "model"
    return df


def _fmt(value: float, digits: int) -> str:
    return "–" if value is None or not np.isfinite(value) else f"{value:.{digits}f}"


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
    head = "".join(f"<th>{label}</th>" for label in LAYOUT_COLUMNS.values())
    body = []
    for name, row in df.iterrows():
        cells = []
        for label in LAYOUT_COLUMNS.values():
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


def collapsed(obj, summary: str):
    """An HTML ``<details>`` block (closed) around a table or Styler: the long form, hidden.

    Examples
    --------
    >>> collapsed(style_table(paper_table("ema")), "Long form").data[:36]
    '<details><summary>Long form</summary'
    """
    from IPython.display import HTML

    html = obj.to_html() if hasattr(obj, "to_html") else str(obj)
    return HTML(f"<details><summary>{summary}</summary>\n{html}\n</details>")


def _p_text(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _paper_gap(scheme: str | None, ref: str, other: str, metric: str = "f1") -> float:
    table = PAPER_TABLES.get(str(scheme).lower()) if scheme else None
    if table is None or MODEL_NAMES.get(ref) not in table.index:
        return np.nan
    if MODEL_NAMES.get(other) not in table.index:
        return np.nan
    return float(table.loc[MODEL_NAMES[ref], metric] - table.loc[MODEL_NAMES[other], metric])


def _comparisons(record: dict, *, alpha: float = 0.05, models=PAPER_MODELS):
    """CNN-SVM against each other paper model: (model, F1 diff, p, significant, paper gap)."""
    tests = {t["model"]: t for t in record.get("paired_tests") or []}
    out = []
    for model in models:
        if model == "cnn_svm" or model not in tests:
            continue
        t = tests[model]
        diff, p = float(t["f1_diff"]), float(t["f1_p"])
        gap = _paper_gap(record.get("scheme"), "cnn_svm", model)
        out.append((model, diff, p, bool(np.isfinite(p) and p < alpha), gap))
    return out


def verdict(record: dict, *, alpha: float = 0.05) -> str:
    """The run's finding in plain words (Markdown), computed from its results.

    Which model has the best mean F1, and for CNN-SVM against each baseline the
    F1 difference, the corrected resampled t-test's p-value (significant below
    ``alpha``) and the gap the paper's table prints.

    Examples
    --------
    >>> rec = {"scheme": "emotion", "dataset": "generated emotion (tiny)",
    ...        "summary": [{"model": "cnn", "f1": 0.60}, {"model": "cnn_svm", "f1": 0.66}],
    ...        "paired_tests": [{"reference": "cnn_svm", "model": "cnn", "f1_diff": 0.06,
    ...                          "f1_p": 0.19}]}
    >>> print(verdict(rec))  # doctest: +NORMALIZE_WHITESPACE
    **Finding.** On generated stand-in data (generated emotion (tiny)) the best mean F1 is
    CNN-SVM's (0.66); the paper's claim that CNN-SVM beats every baseline is **not
    shown**: CNN-SVM leads CNN by 0.06 F1, not significant (corrected t p = 0.190; the
    paper reports +0.15).
    """
    summary = _summary(record)
    present = [
        m for m in PAPER_MODELS if m in summary and np.isfinite(summary[m].get("f1", np.nan))
    ]
    if not present:
        return "**Finding.** No model of the paper was evaluated in this run."
    best = max(present, key=lambda m: summary[m]["f1"])
    comps = _comparisons(record, alpha=alpha)
    beats = all(d > 0 and sig for _, d, _, sig, _ in comps) and bool(comps)
    claim = "**holds** here" if beats else "is **not shown**"
    parts = []
    for model, diff, p, sig, gap in comps:
        word = "leads" if diff >= 0 else "trails"
        paper_part = "" if not np.isfinite(gap) else f"; the paper reports {gap:+.2f}"
        parts.append(
            f"{word} {MODEL_NAMES[model]} by {abs(diff):.2f} F1, "
            f"{'significant' if sig else 'not significant'} (corrected t {_p_text(p)}"
            f"{paper_part})"
        )
    text = (
        f"**Finding.** On {data_description(record)} the best mean F1 is "
        f"{_title(record, best)}'s ({summary[best]['f1']:.2f}); the paper's claim that "
        f"CNN-SVM beats every baseline {claim}"
    )
    return text + (": CNN-SVM " + "; ".join(parts) + "." if parts else ".")


def verdicts_table(runs: dict, *, alpha: float = 0.05) -> pd.DataFrame:
    """One row per run (name -> record): best model, CNN-SVM's F1, and each comparison.

    Examples
    --------
    >>> rec = {"scheme": "ema", "summary": [{"model": "cnn", "f1": 0.5},
    ...        {"model": "cnn_svm", "f1": 0.7}], "paired_tests": [{"reference": "cnn_svm",
    ...        "model": "cnn", "f1_diff": 0.2, "f1_p": 0.01}]}
    >>> verdicts_table({"EMA": rec}).loc["EMA"].tolist()
    ['CNN-SVM', '0.70', '+0.20 (p = 0.010) *', '–', '–', 'yes']
    """
    rows = {}
    for name, record in runs.items():
        summary = _summary(record)
        present = [m for m in PAPER_MODELS if m in summary]
        best = max(present, key=lambda m: summary[m].get("f1", -1)) if present else None
        comps = {m: (d, p, sig) for m, d, p, sig, _ in _comparisons(record, alpha=alpha)}
        row = {
            "best F1": _title(record, best) if best else "–",
            "CNN-SVM F1": _fmt(summary.get("cnn_svm", {}).get("f1", np.nan), 2),
        }
        for m in ("cnn", "svm", "lstm"):
            if m in comps:
                d, p, sig = comps[m]
                row[f"CNN-SVM vs {MODEL_NAMES[m]}"] = f"{d:+.2f} ({_p_text(p)})" + (
                    " *" if sig else ""
                )
            else:
                row[f"CNN-SVM vs {MODEL_NAMES[m]}"] = "–"
        row["CNN-SVM significantly best"] = (
            "yes" if comps and all(d > 0 and s for d, _, s in comps.values()) else "no"
        )
        rows[name] = row
    df = pd.DataFrame.from_dict(rows, orient="index")
    df.index.name = "run"
    return df


def confusion_frame(record: dict, model: str) -> pd.DataFrame:
    """A model's confusion matrix summed over folds (rows true, columns predicted).

    Examples
    --------
    >>> rec = {"labels": ["a", "b"], "confusion": {"svm": [[3, 1], [0, 4]]}}
    >>> confusion_frame(rec, "svm")
    predicted  a  b
    true
    a          3  1
    b          0  4
    """
    try:
        matrix = record["confusion"][model]
    except KeyError:
        raise MerError(f"no confusion matrix for model {model!r} in this record") from None
    labels = list(record["labels"])
    return pd.DataFrame(
        np.asarray(matrix, dtype=int),
        index=pd.Index(labels, name="true"),
        columns=pd.Index(labels, name="predicted"),
    )


# ----------------------------------------------------------------------------- display


def style_table(df: pd.DataFrame, *, caption: str = "", precision: int = 3):
    """A pandas Styler for the book, formatted for reading.

    Numeric cells to ``precision`` decimals; counts (integer columns, and float
    columns holding whole numbers only) without decimals; NaN as an en dash;
    snake_case column names in words; a default 0, 1, 2 ... index hidden;
    cells padded so neighbours never run together; a fixed table id, so an
    executed notebook does not change between runs.

    Examples
    --------
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


# ----------------------------------------------------------------------------- models


def architecture_table(n_mels: int = 128, n_frames: int = 108, n_classes: int = 4) -> pd.DataFrame:
    """Layers, output shapes and parameter counts of the paper's CNN (:func:`yang_cnn`).

    Shapes are traced with one forward pass on a zero input of ``n_mels``
    bands and ``n_frames`` frames (108 = a 10 s training crop of 432 STFT
    frames averaged by 4, the classifier's defaults).

    Examples
    --------
    >>> t = architecture_table(32, 20)
    >>> t["output shape"].iloc[[0, 2, 3, -1]].tolist()
    ['1 x 32 x 20', '16 x 32 x 20', '16 x 16 x 10', '4']
    >>> int(t["parameters"].sum())
    130804
    """
    import torch

    from mer_core.models.networks import count_parameters, yang_cnn

    net = yang_cnn(n_mels, n_classes).eval()
    shapes: dict[str, tuple] = {}
    hooks = []
    for name, module in net.named_modules():
        if name and not list(module.children()):
            hooks.append(
                module.register_forward_hook(
                    lambda mod, inp, out, name=name: shapes.__setitem__(name, tuple(out.shape[1:]))
                )
            )
    with torch.no_grad():
        net(torch.zeros(1, n_mels, n_frames))
    for h in hooks:
        h.remove()

    def fmt(shape) -> str:
        return " x ".join(str(int(s)) for s in shape)

    rows = [("input: log-Mel map (dB)", fmt((1, n_mels, n_frames)), 0)]
    rows.append(("band normalisation (training-set statistics)", fmt((1, n_mels, n_frames)), 0))
    for i, block in enumerate(net.blocks):
        k, c = block.conv.kernel_size[0], block.conv.out_channels
        params = count_parameters(block.conv) + count_parameters(block.bn)
        rows.append(
            (
                f"conv {k}x{k}, {c} maps (eq. 1) + batch-norm + ReLU",
                fmt(shapes[f"blocks.{i}.bn"]),
                params,
            )
        )
        p = block.pool.kernel_size
        rows.append((f"max-pool {p}x{p}", fmt(shapes[f"blocks.{i}.pool"]), 0))
    rows.append(("time pooling (mean + max over frames)", str(net.fc.in_features), 0))
    rows.append(
        (
            "dropout, fully connected + ReLU: the embedding (CNN-SVM's input)",
            fmt(shapes["fc"]),
            count_parameters(net.fc),
        )
    )
    rows.append(
        (
            "dropout, fully connected (softmax: the CNN's output)",
            fmt(shapes["head"]),
            count_parameters(net.head),
        )
    )
    df = pd.DataFrame(rows, columns=["layer", "output shape", "parameters"])
    df.index = pd.RangeIndex(1, len(df) + 1, name="#")
    return df


def training_settings(budget: str = "quick") -> pd.DataFrame:
    """The training settings of the networks and SVMs under a budget (rows: settings).

    Examples
    --------
    >>> t = training_settings("tiny")
    >>> t.loc["epochs", "CNN"], t.loc["optimizer", "LSTM"], t.loc["SVM kernel", "CNN-SVM"]
    (2, 'adam', 'linear (LinearSVC)')
    """
    from mer_core.experiments import build_estimator

    keys = {
        "optimizer": "optimizer",
        "learning rate": "lr",
        "momentum": "momentum",
        "weight decay": "weight_decay",
        "epochs": "epochs",
        "batch size": "batch_size",
        "training crop (STFT frames)": "crop_frames",
        "frames averaged (time_pool)": "time_pool",
        "SVM C": "C",
        "low-level features kept (screening)": "n_screened",
    }
    table = {}
    for model in PAPER_MODELS:
        params = build_estimator(model, budget=budget).get_params()
        col = {name: params.get(key, "–") for name, key in keys.items()}
        if model in ("cnn", "lstm"):
            col["SVM C"] = col["low-level features kept (screening)"] = "–"
        col["SVM kernel"] = {
            "svm": f"{params.get('kernel')} (SVC)",
            "cnn_svm": "linear (LinearSVC)",
        }.get(model, "–")
        table[MODEL_NAMES[model]] = col
    df = pd.DataFrame(table).astype(object)
    df.index.name = "setting"
    return df


def training_histories(run_dir, model: str = "cnn") -> pd.DataFrame:
    """Per-epoch training history of the networks a run trained for ``model``.

    A run keeps each trained network in ``networks/<key>/meta.json`` (with
    its ``history``) and each fold's result in ``folds/<model>/fold<k>.json``
    with the ``network_key`` of the network that fold used (see
    :func:`mer_core.models.base.network_key`); the two are matched on that key.

    Parameters
    ----------
    run_dir : path
        A run folder (:func:`mer_core.pipeline.results_dir`).
    model : str
        ``"cnn"``, ``"lstm"``, ``"cnn_svm"``, ...

    Returns
    -------
    pandas.DataFrame
        Columns ``model``, ``fold``, ``epoch``, ``loss`` (training
        cross-entropy), ``accuracy`` (on the training crops), ``lr``,
        ``seconds`` (and ``val_loss``, ``val_accuracy`` with validation);
        empty when nothing matches.

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> run = pathlib.Path(tempfile.mkdtemp())
    >>> (run / "networks" / "k1").mkdir(parents=True)
    >>> (run / "folds" / "cnn").mkdir(parents=True)
    >>> hist = [{"epoch": 1, "loss": 1.4, "accuracy": 0.3, "lr": 0.01, "seconds": 1.0}]
    >>> _ = (run / "networks" / "k1" / "meta.json").write_text(
    ...     json.dumps({"history": hist, "seconds": 1.25}))
    >>> _ = (run / "folds" / "cnn" / "fold0.json").write_text(
    ...     json.dumps({"fold": 0, "network_key": "k1"}))
    >>> training_histories(run)[["fold", "epoch", "loss"]].values.tolist()
    [[0.0, 1.0, 1.4]]
    """
    run = Path(run_dir)
    rows = []
    for path in sorted(run.glob(f"folds/{model}/fold*.json")):
        try:
            rec = json.loads(path.read_text())
            key = rec.get("network_key")
            history = None
            if isinstance(key, str) and key.isalnum():
                meta = json.loads((run / "networks" / key / "meta.json").read_text())
                history = meta.get("history")
        except (OSError, ValueError, AttributeError):
            continue
        for epoch in history or []:
            rows.append({"model": model, "fold": rec.get("fold"), **epoch})
    columns = ["model", "fold", "epoch", "loss", "accuracy", "lr", "seconds"]
    df = pd.DataFrame(rows)
    return df.reindex(columns=columns + [c for c in df.columns if c not in columns])


# ----------------------------------------------------------------------------- audio


def example_clip(
    scheme: str = "emotion",
    label: str | None = None,
    *,
    mode: str | None = None,
    seed: int = 0,
    profile: str = "quick",
    max_index: int = 20,
):
    """The first generated clip of a class (index 0, 1, ...) whose drawn mode is ``mode``.

    Parameters
    ----------
    scheme, label :
        The class (see :func:`mer_core.synth.synthesize_clip`).
    mode : {"major", "minor"}, optional
        Wanted mode of the clip's key (None: the first clip).
    profile : str
        A reproduction profile (``tiny``, ``quick``, ``paper``): the clip has
        the length that profile's corpus gives it.
    max_index : int
        Clips tried before giving up.

    Returns
    -------
    mer_core.synth.Clip

    Examples
    --------
    >>> clip = example_clip("emotion", "sadness", mode="minor", profile="tiny")
    >>> clip.cues["mode"], clip.cues["label"]
    ('minor', 'sadness')
    """
    from mer_core.pipeline import get_run_profile
    from mer_core.synth import synthesize_clip

    if mode not in (None, "major", "minor"):
        raise ParameterError(f"mode must be 'major', 'minor' or None, got {mode!r}")
    corpus = get_run_profile(profile).corpus_profile
    for index in range(max_index):
        clip = synthesize_clip(scheme=scheme, label=label, index=index, seed=seed, profile=corpus)
        if mode is None or clip.cues["mode"] == mode:
            return clip
    raise MerError(f"no {mode} clip among the first {max_index} of {scheme}/{label}")


def example_players(manifest: pd.DataFrame, *, seconds: float = 8.0, per_class: int = 1):
    """An HTML table with an audio player for the first clip(s) of every class.

    Each clip is read (mono, its first ``seconds``) and embedded once, as a
    16-bit WAV at its own level (not normalised), so an executed notebook
    plays without the data.

    Returns
    -------
    IPython.display.HTML

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np, pandas as pd
    >>> from mer_core.audio import write_wav
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> paths = [write_wav(d / f"{q}.wav", np.zeros(8000, np.float32), sr=8000) for q in "ab"]
    >>> html = example_players(pd.DataFrame({"path": paths, "label": ["Q1", "Q2"]}), seconds=0.5)
    >>> html.data.count("<audio"), "<b>Q2</b>" in html.data
    (2, True)
    """
    from IPython.display import HTML, Audio

    from mer_core.audio import audio_info, load_audio

    if not math.isfinite(seconds) or seconds <= 0:
        raise ParameterError(f"seconds must be positive, got {seconds!r}")
    cells = []
    for label, rows in manifest.groupby("label", sort=False):
        for _, row in rows.head(per_class).iterrows():
            sr = int(audio_info(row["path"])["samplerate"])
            y = load_audio(row["path"], sr=sr, duration=seconds, pad=False)
            # not normalised: the clips keep their relative loudness (an emotion cue)
            player = Audio(np.clip(y, -1.0, 1.0), rate=sr, normalize=False)._repr_html_()
            artist = row.get("artist")
            who = "" if not isinstance(artist, str) else f" — {artist}"
            cells.append(
                f"<tr><td><b>{label}</b></td><td>{Path(row['path']).name}{who}</td>"
                f"<td>{player}</td></tr>"
            )
    head = f"<tr><th>class</th><th>clip</th><th>first {seconds:g} s</th></tr>"
    return HTML(f"<table>{head}{''.join(cells)}</table>")


def clip_summary(clip) -> str:
    """One line (Markdown) describing a generated clip: id, length, key, tempo, instruments.

    Examples
    --------
    >>> clip = example_clip("emotion", "sadness", profile="tiny")
    >>> clip_summary(clip)[:38]
    '`emotion_sadness_0000` (sadness): 5.0 '
    """
    c = clip.cues
    return (
        f"`{c['clip_id']}` ({c['label']}): {len(clip.audio) / clip.sr:.1f} s at {clip.sr} Hz, "
        f"written in {c['key_name']}, {c['tempo_bpm']:.0f} BPM, progression "
        f"{c['progression']}; instruments: {', '.join(c['instruments'])}."
    )


def ground_truth_table(clips: dict) -> pd.DataFrame:
    """What the generator wrote for some clips (columns: the given names; rows: what).

    Examples
    --------
    >>> t = ground_truth_table({"sad": example_clip("emotion", "sadness", profile="tiny")})
    >>> list(t.index)[:3], list(t.columns)
    (['clip', 'class', 'key'], ['sad'])
    """
    rows = {}
    for name, clip in clips.items():
        c = clip.cues
        rows[name] = {
            "clip": c["clip_id"],
            "class": c["label"],
            "key": c["key_name"],
            "progression": c["progression"],
            "chords written": " ".join(c["chords"]),
            "tempo (BPM)": round(float(c["tempo_bpm"]), 1),
            "instruments": ", ".join(c["instruments"]),
        }
    # one column per clip: the long chord lists wrap in a narrow page
    return pd.DataFrame.from_dict(rows, orient="columns").astype(str)


def chord_vector_change(a, b) -> pd.DataFrame:
    """How much each part of two chord vectors differs (sum of absolute differences).

    Examples
    --------
    >>> import numpy as np
    >>> a = np.zeros(58); b = a.copy(); b[0] = 0.5
    >>> chord_vector_change(a, b)["sum |difference|"].tolist()
    [0.5, 0.0, 0.0, 0.0]
    """
    from mer_core.plots import chord_vector_parts

    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    rows = {
        part: {"elements": sl.stop - sl.start, "sum |difference|": float(np.abs(a - b)[sl].sum())}
        for part, sl in chord_vector_parts().items()
    }
    df = pd.DataFrame.from_dict(rows, orient="index")
    df.index.name = "part"
    return df


def dataset_overview(summaries: dict) -> pd.DataFrame:
    """The corpora of :func:`mer_core.datasets.summarize` beside the paper's datasets.

    Parameters
    ----------
    summaries : dict
        Scheme -> :func:`~mer_core.datasets.summarize` result.

    Returns
    -------
    pandas.DataFrame
        Rows: schemes; the paper's clip count and window, and the corpus's
        clips, hours, median clip length and artists.

    Examples
    --------
    >>> per_class = pd.DataFrame({"duration_median": [5.0, 4.0]}, index=["Q1", "Q2"])
    >>> s = {"n_clips": 12, "total_duration_s": 54.0, "per_class": per_class, "n_artists": 3}
    >>> dataset_overview({"4q": s}).loc["4Q", ["paper: clips", "here: clips"]].tolist()
    [1471, 12]
    """
    from mer_core.schemes import get_scheme

    rows = {}
    for scheme, s in summaries.items():
        sch = get_scheme(scheme)
        per_class = s["per_class"]
        rows[SCHEME_NAMES.get(scheme, scheme)] = {
            "classes": ", ".join(sch.labels),
            "paper: clips": sch.paper_size,
            "paper: window (s)": sch.duration,
            "here: clips": s["n_clips"],
            "here: hours": round(s["total_duration_s"] / 3600, 2),
            "here: median length (s)": float(per_class["duration_median"].median()),
            "here: artists": s["n_artists"] if s["n_artists"] is not None else "–",
        }
    df = pd.DataFrame.from_dict(rows, orient="index")
    df.index.name = "dataset"
    return df


# ----------------------------------------------------------------------------- sections


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

    scheme = _check_scheme(scheme or record["scheme"])
    name = title or SCHEME_NAMES[scheme]
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


def real_run_note(record: dict | None) -> str:
    """Markdown saying what the real-4Q result shown is: a live run, a recording, or none.

    Examples
    --------
    >>> real_run_note(None)[:30]
    '**No real 4Q data was given** '
    >>> rec = {"dataset": "4q-dev", "n_clips": 600, "recorded": {"date": "2026-12-01 10:00 UTC",
    ...        "command": "make record-4q DATA_4Q=../shared/data/4q-dev", "data": "4q-dev",
    ...        "data_fingerprint": {"cnn": "abc123def456"}},
    ...        "environment": {"versions": {"mer-core": "0.1.0", "torch": "2.13.0"}}}
    >>> real_run_note(rec)[:60]
    '**A recorded run, not executed by this build.** It was made '
    """
    if record is None:
        return FOURQ_NOTE
    description = run_description(record)
    rec = record.get("recorded")
    if not rec:
        return f"**A live run of this build** on the real 4Q data. {description}"
    versions = (record.get("environment") or {}).get("versions") or {}
    shown = ", ".join(f"{k} {v}" for k, v in versions.items() if v)
    prints = sorted({str(v)[:12] for v in (rec.get("data_fingerprint") or {}).values()})
    return (
        f"**A recorded run, not executed by this build.** It was made on {rec.get('date')} "
        f"with `{rec.get('command')}` on the folder `{rec.get('data')}` "
        f"(data fingerprint {', '.join(prints) or 'unknown'}; {shown}), and is committed in "
        "`book/recorded/4q-dev/` (results and small tables only: no audio, no file names "
        "beyond the public song ids). A build given the data (`make reproduce DATA_4Q=...`) "
        f"shows its own live run instead; `make record-4q` records anew.\n\n{description}"
    )
