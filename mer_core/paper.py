"""The paper's own numbers and claims, copied from the paper and checked on themselves.

Everything here is **copied from the paper** (H. Yang, "Music Emotion
Recognition Model Integrating Deep Learning", section 4 and its Tables 1-3);
nothing was measured by this project:

=======================  =====================================================
name                     what
=======================  =====================================================
:data:`PAPER`            the paper reproduced
:data:`PAPER_TABLES`     Tables 1-3 as printed (one DataFrame per scheme)
:data:`TABLE_NUMBERS`    the paper's table of each dataset
:data:`FIGURE_NUMBERS`   the paper's figure of each dataset (none for 4Q)
:data:`PAPER_CLAIMS`     the section 4 sentences about the tables, as data
:func:`paper_table`      a copy of one of Tables 1-3
:func:`claims_table`     the section 4 sentences checked on the paper's tables
:func:`f1_check`         the paper's F1 against its precision and recall
=======================  =====================================================

The tables that set a run's results beside these numbers are in
:mod:`mer_core.evaluation.tables` (and their display in
:mod:`mer_core.evaluation.pages`); the names of models, metrics and schemes
are in :mod:`mer_core.names`. Nothing happens at import.
"""

from __future__ import annotations

import pandas as pd

from mer_core.names import MODEL_TITLES, SCHEME_IDS, TABLE_COLUMNS
from mer_core.schemes import get_scheme

__all__ = [
    "FIGURE_NUMBERS",
    "PAPER",
    "PAPER_CLAIMS",
    "PAPER_TABLES",
    "TABLE_NUMBERS",
    "claims_table",
    "f1_check",
    "paper_table",
]

#: The paper reproduced here.
PAPER = 'H. Yang, "Music Emotion Recognition Model Integrating Deep Learning"'
#: The paper's table of each dataset.
TABLE_NUMBERS = {"ema": 1, "emotion": 2, "4q": 3}
#: The paper's figure of each dataset (it has none for 4Q).
FIGURE_NUMBERS = {"ema": 1, "emotion": 2}

# The paper's Tables 1-3, row by row (model ids of mer_core.names, in table order):
# accuracy, precision, recall, F1, training time (s).
_PAPER_ROWS = {
    "ema": {  # Table 1. Model classification comparison (EMA)
        "cnn": (0.68, 0.70, 0.71, 0.71, 201.05),
        "svm": (0.50, 0.59, 0.57, 0.58, 185.04),
        "lstm": (0.77, 0.72, 0.78, 0.81, 316.67),
        "cnn_svm": (0.85, 0.89, 0.80, 0.81, 305.14),
    },
    "emotion": {  # Table 2. Model classification comparison (Emotion)
        "cnn": (0.66, 0.65, 0.68, 0.69, 204.06),
        "svm": (0.57, 0.55, 0.59, 0.60, 100.14),
        "lstm": (0.71, 0.77, 0.76, 0.70, 245.57),
        "cnn_svm": (0.88, 0.81, 0.85, 0.84, 200.14),
    },
    "4q": {  # Table 3. Model classification comparison (4Q)
        "cnn": (0.74, 0.78, 0.80, 0.76, 162.19),
        "svm": (0.70, 0.71, 0.75, 0.75, 87.42),
        "lstm": (0.85, 0.88, 0.84, 0.84, 187.07),
        "cnn_svm": (0.90, 0.92, 0.90, 0.91, 100.94),
    },
}


def _paper_frame(rows: dict) -> pd.DataFrame:
    df = pd.DataFrame.from_dict(rows, orient="index", columns=list(TABLE_COLUMNS))
    df.index = pd.Index([MODEL_TITLES[m] for m in df.index], name="model")
    df.columns.name = "metric"
    return df


#: The paper's Tables 1-3 (as printed; **the paper's numbers, not ours**): one
#: DataFrame per scheme, rows the titles of :data:`~mer_core.names.PAPER_MODELS`
#: (CNN, SVM, LSTM, CNN-SVM), columns :data:`~mer_core.names.TABLE_COLUMNS`. Use
#: :func:`paper_table` for a copy.
PAPER_TABLES: dict[str, pd.DataFrame] = {s: _paper_frame(r) for s, r in _PAPER_ROWS.items()}

#: The paper's section 4 statements about its tables, as data: the quoted
#: sentence, the scheme, the two models compared (``baseline`` None: a single
#: value; model ids), the metric, the claimed value and how it should relate to the value
#: computed from the tables (``"="`` within ``tolerance``, ``"<"`` smaller).
#: Percentages in the text are percentage points of accuracy.
PAPER_CLAIMS: tuple[dict, ...] = (
    *(
        {
            "scheme": scheme,
            "statement": text,
            "model": "cnn_svm",
            "baseline": base,
            "metric": "accuracy",
            "claimed": claimed,
            "relation": "=",
            "tolerance": 0.005,
        }
        for scheme, text, base, claimed in (
            ("ema", "the accuracy ... of the EMA dataset reaches 85%", None, 0.85),
            ("ema", "17% higher than CNN", "cnn", 0.17),
            ("ema", "35% higher than SVM", "svm", 0.35),
            ("ema", "8% higher than LSTM", "lstm", 0.08),
            (
                "emotion",
                "the classification accuracy ... in the Emotion dataset reaches 88%",
                None,
                0.88,
            ),
            ("emotion", "higher than CNN improves by 22%", "cnn", 0.22),
            ("emotion", "31% better than SVM", "svm", 0.31),
            ("emotion", "17% better than LSTM", "lstm", 0.17),
        )
    ),
    *(
        {
            "scheme": scheme,
            "statement": "the CNN-SVM-based model is much more efficient than the "
            "CNN-based model training",
            "model": "cnn_svm",
            "baseline": "cnn",
            "metric": "training_seconds",
            "claimed": 0.0,
            "relation": "<",
            "tolerance": 0.0,
        }
        for scheme in SCHEME_IDS
    ),
    *(
        {
            "scheme": scheme,
            "statement": "the difference between the accuracy of the SVM model and the "
            "CNN model is only about 10%",
            "model": "cnn",
            "baseline": "svm",
            "metric": "accuracy",
            "claimed": 0.10,
            "relation": "=",
            "tolerance": 0.05,  # our reading of "about": within 5 points
        }
        for scheme in SCHEME_IDS
    ),
)


def _check_scheme(scheme) -> str:
    return get_scheme(scheme).name


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
    the statement holds for the printed tables. Models are named by their titles.

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
        model, base = claim["model"], claim["baseline"]
        value = table.loc[MODEL_TITLES[model], claim["metric"]]
        if base is not None:
            value -= table.loc[MODEL_TITLES[base], claim["metric"]]
        value = round(float(value), 4)
        if claim["relation"] == "<":
            agrees = value < claim["claimed"]
        else:
            agrees = abs(value - claim["claimed"]) <= claim["tolerance"] + 1e-9
        titles = {"model": MODEL_TITLES[model], "baseline": base and MODEL_TITLES[base]}
        rows.append({**claim, **titles, "from_tables": value, "agrees": bool(agrees)})
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
