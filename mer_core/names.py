"""The names every part of the package shares, each defined once.

=======================  ===========================================================
name                     what it holds
=======================  ===========================================================
:data:`SCHEME_IDS`       the three label schemes (the paper's datasets), table order
:data:`SCHEME_TITLES`    each scheme as the paper writes it (EMA, Emotion, 4Q)
:data:`PAPER_MODELS`     the four models of the paper's Tables 1-3, table order
:data:`MODEL_TITLES`     every named model (:data:`mer_core.experiments.MODELS`): title
:data:`METRICS`          the paper's four scores (this project: accuracy, macro P/R/F1)
:data:`TABLE_COLUMNS`    the columns of the paper's tables: the four scores and time
:data:`METRIC_TITLES`    each column's heading as the paper prints it
:func:`model_title`      a model's title, as a run record names it or as above
=======================  ===========================================================

The command line (``choices=``), the Makefile (``SCHEMES``, checked by
``tests/test_makefile.py``), the tables, the figures and the experiments read
these; nothing else spells them out. The three size notions that share the
words ``tiny`` / ``quick`` / ``paper`` live in their topic modules, each under
its own name: a *run profile* (:data:`mer_core.pipeline.RUN_PROFILES`) picks a
*corpus size* (:data:`mer_core.synth.sizes.CORPUS_SIZES`) and a *training
budget* (:data:`mer_core.experiments.TRAINING_BUDGETS`).

Importing this module imports nothing else.
"""

from __future__ import annotations

__all__ = [
    "METRICS",
    "METRIC_TITLES",
    "MODEL_TITLES",
    "PAPER_MODELS",
    "SCHEME_IDS",
    "SCHEME_TITLES",
    "TABLE_COLUMNS",
    "model_title",
]

#: The three label schemes (the paper's datasets), in the paper's table order.
SCHEME_IDS = ("ema", "emotion", "4q")
#: Scheme names as the paper writes them.
SCHEME_TITLES = {"ema": "EMA", "emotion": "Emotion", "4q": "4Q"}

#: The four models of the paper's Tables 1-3, in table order.
PAPER_MODELS = ("cnn", "svm", "lstm", "cnn_svm")
#: The title of every named model (rows of the book's tables; the paper's four
#: as its tables name them), in the order of :data:`mer_core.experiments.MODELS`.
MODEL_TITLES = {
    "cnn": "CNN",
    "svm": "SVM",
    "lstm": "LSTM",
    "cnn_svm": "CNN-SVM",
    "lstm_real_crops": "LSTM with crops inside the real audio",
    "lstm_mel": "LSTM on log-Mel frames",
    "cnn_full_network": "CNN, full network only",
    "cnn_all_networks": "CNN, all six networks always",
    "cnn_paper": "CNN (paper recipe)",
    "svm_paper": "SVM (paper recipe)",
    "lstm_paper": "LSTM (paper recipe)",
    "cnn_svm_paper": "CNN-SVM (paper recipe)",
    "cnn_svm_embedding": "CNN-SVM with embeddings, not logits",
    "cnn_svm_select": "CNN-SVM, ensemble chosen on inner folds",
    "cnn_svm_svm_scores": "CNN-SVM + RBF-SVM scores of the hand-made block",
    "cnn_svm_no_texture": "CNN-SVM w/o texture statistics",
    "cnn_svm_no_chords": "CNN-SVM w/o chord vector",
    "cnn_svm_musical": "CNN-SVM, musical descriptors always",
    "cnn_svm_no_musical": "CNN-SVM, musical descriptors never",
    "cnn_svm_in_sample": "CNN-SVM on in-sample CNN outputs",
    "svm_musical": "SVM, musical descriptors always",
    "svm_no_musical": "SVM, musical descriptors never",
    "cnn_svm_no_lowlevel": "CNN-SVM w/o low-level",
    "cnn_svm_no_preemphasis": "CNN-SVM w/o pre-emphasis",
    "cnn_embedding_svm": "CNN outputs + SVM",
}

#: The paper's four scores, in table order (this project: accuracy and macro averages).
METRICS = ("accuracy", "precision", "recall", "f1")
#: The columns of the paper's tables ("training time (s)" is ``training_seconds``).
TABLE_COLUMNS = (*METRICS, "training_seconds")
#: Column headings of the paper's tables (and axis names of the figures).
METRIC_TITLES = {
    "accuracy": "Accuracy",
    "precision": "Precision",
    "recall": "Recall",
    "f1": "F1",
    "training_seconds": "Training time (s)",
}


def model_title(model: str, record: dict | None = None) -> str:
    """The title of a model: as a run's record names it, else :data:`MODEL_TITLES`, else its id.

    Examples
    --------
    >>> model_title("cnn_svm"), model_title("mine"), model_title("x", {"titles": {"x": "X"}})
    ('CNN-SVM', 'mine', 'X')
    """
    titles = (record or {}).get("titles") or {}
    return titles.get(model) or MODEL_TITLES.get(model, model)
