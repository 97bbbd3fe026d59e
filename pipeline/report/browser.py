"""The topic browser: pyLDAvis's intertopic distance map and relevance slider as one offline HTML page.

:func:`browser_data` turns the topic model and the per-paragraph topic shares into pyLDAvis's
prepared data, :func:`build_browser` renders the page and :func:`write_browser` writes it; the
``report`` stage writes it as ``report.browser`` beside the report.

- **Offline.** pyLDAvis's ``prepared_data_to_html`` takes the URLs of d3, LDAvis's script and its
  CSS; they are given as ``data:`` URLs of the copies pyLDAvis ships (``pyLDAvis.urls.D3_LOCAL``,
  ``LDAVIS_LOCAL``, ``LDAVIS_CSS_LOCAL``), so opening the page makes no network request.
- **Topic numbers.** Topics keep the model's order (``sort_topics=False``): topic N in the map is
  topic N-1 of the report's table; the page's header line says so.
- **Topic sizes.** pyLDAvis sizes topics by ``doc_lengths @ doc_topic_dists``. Instead of one row
  per paragraph (415,000 x K floats) it is given one pseudo-document per topic: the identity matrix
  with the topic's word count ``N_k = sum(n_words * share_k)`` over the paragraphs, which gives
  pyLDAvis the same topic sizes without the copy. Paragraphs without a vocabulary word
  (``n_words`` 0) add nothing.
- **Term frequency.** pyLDAvis (3.4) recomputes each term's corpus frequency as
  ``sum_k p(word | topic k) * N_k`` and uses only that for the bars, saliency and lift; the
  ``term_frequency`` it is given only has to match the vocabulary. It gets the fitted word counts:
  the column sums of ``components_ - eta_`` (for tomotopy exactly the word's count in the fitting
  paragraphs; for gensim its expected count).
- **The distance map** is pyLDAvis's default: principal coordinates of the topics' Jensen-Shannon
  divergences. It is computed with scipy's compiled ``jensenshannon`` distance and
  scikit-learn's ``ClassicalMDS`` (5x faster than pyLDAvis's ``js_PCoA`` at 100,000 words, the
  same coordinates to 1e-12 up to the axes' signs, which ``ClassicalMDS`` fixes); coordinates
  are rounded to 6 decimals so that the page does not depend on the last bits of an eigensolver.
- **Start state.** LDAvis reads its start state from the URL fragment (``#topic=0&lambda=0.6&term=``);
  a line of script sets that fragment, with ``relevance_lambda``, when the page is opened without one.
- **Same inputs, same bytes**: a fixed element id, no timestamp, and pyLDAvis's own JSON.
"""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError
from ..io import write_text

log = logging.getLogger(__name__)

#: the id of the LDAvis element (pyLDAvis makes a random one unless given one)
VISID = "ldavis_topics"
#: LDAvis's script shows at most 30 terms per bar chart, whatever it is given
MAX_TERMS = 30
#: decimals of the map's coordinates
COORDINATE_DECIMALS = 6

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 1rem 1.5rem; color: #222; }
h1 { font-size: 1.3rem; margin: 0 0 .3rem; } .meta { color: #555; font-size: .88rem; margin: 0 0 .8rem; }
"""


def topic_columns(num_topics: int) -> list[str]:
    """``topic_0`` .. ``topic_{K-1}``: the share columns of the topic output."""
    return [f"topic_{k}" for k in range(num_topics)]


def topic_sizes(doc_topics: pd.DataFrame, num_topics: int, source: str = "topic output") -> np.ndarray:
    """``N_k``: each topic's expected number of words, ``sum(n_words * topic_k)`` over the paragraphs.

    Raises
    ------
    DataError
        If ``doc_topics`` lacks ``n_words`` or a ``topic_k`` column of the model's K topics, has
        more topic columns than the model (another model's output), or no paragraph has a word.
    """
    columns = topic_columns(num_topics)
    missing = [c for c in ["n_words", *columns] if c not in doc_topics.columns]
    if missing:
        raise DataError(f"{source}: missing column(s) {', '.join(missing)} (the topic model has {num_topics} "
                        "topics; run `pipeline topics` again)")
    extra = [c for c in doc_topics.columns if c.startswith("topic_") and c not in set(columns)]
    if extra:
        raise DataError(f"{source}: topic column(s) {', '.join(extra[:3])} beyond the model's {num_topics} topics "
                        "(the output of another model; run `pipeline topics` again)")
    words = pd.to_numeric(doc_topics["n_words"], errors="coerce").fillna(0).to_numpy(dtype=np.float64)
    used = words > 0
    if not used.any():
        raise DataError(f"{source}: no paragraph has a word of the model's vocabulary (n_words is 0 everywhere)")
    words = words[used]
    sizes = np.empty(num_topics, dtype=np.float64)
    for k, column in enumerate(columns):  # one column at a time: no K-wide float64 copy of the table
        shares = doc_topics[column].to_numpy(dtype=np.float64)[used]
        sizes[k] = float(np.sum(shares * words))
    if not np.isfinite(sizes).all():
        raise DataError(f"{source}: topic shares are not all finite numbers")
    return sizes


def intertopic_map(topic_term: np.ndarray) -> np.ndarray:
    """(K, 2) principal coordinates of the topics' pairwise Jensen-Shannon divergences (pyLDAvis's map)."""
    from scipy.spatial.distance import pdist, squareform
    from sklearn.manifold import ClassicalMDS

    divergence = squareform(pdist(np.asarray(topic_term, dtype=np.float64), "jensenshannon")) ** 2
    with np.errstate(invalid="ignore"):  # a zero eigenvalue a hair below 0 (K=2): a zero axis, as in pyLDAvis
        coords = ClassicalMDS(n_components=2, metric="precomputed").fit_transform(divergence)
    coords = np.nan_to_num(coords, nan=0.0)
    return np.round(coords, COORDINATE_DECIMALS) + 0.0  # + 0.0: no "-0.0"


def browser_data(model: Any, doc_topics: pd.DataFrame, terms: int = MAX_TERMS, source: str = "topic output") -> Any:
    """pyLDAvis's prepared data for ``model`` and its topic output ``doc_topics``.

    Parameters
    ----------
    model : TopicModel
        A fitted topic model (:func:`~pipeline.topics.model.load_topics`).
    doc_topics : DataFrame
        The ``topics`` stage's output: ``n_words`` and ``topic_0`` .. ``topic_{K-1}`` are read.
    terms : int
        Terms in each bar chart (at most :data:`MAX_TERMS`, what LDAvis shows).
    source : str
        The name of ``doc_topics`` in error messages (its path).

    Returns
    -------
    pyLDAvis.PreparedData
        Topics in the model's order, numbered from 1.
    """
    import pyLDAvis

    phi = np.asarray(model.topic_word(), dtype=np.float64)
    sizes = topic_sizes(doc_topics, phi.shape[0], source)
    counts = (np.asarray(model.components_, dtype=np.float64) - np.asarray(model.eta_, dtype=np.float64)).sum(axis=0)
    return pyLDAvis.prepare(
        topic_term_dists=phi,
        doc_topic_dists=np.eye(phi.shape[0]),
        doc_lengths=sizes,
        vocab=list(model.vocabulary_),
        term_frequency=np.clip(counts, 0.0, None),
        R=min(int(terms), MAX_TERMS),
        lambda_step=0.01,
        mds=intertopic_map,
        n_jobs=1,  # joblib processes only add pickling here (measured); the result is the same either way
        sort_topics=False,
        start_index=1,
    )


def _data_url(path: str, mime: str) -> str:
    return f"data:{mime};base64," + base64.b64encode(Path(path).read_bytes()).decode("ascii")


def build_browser(model: Any, doc_topics: pd.DataFrame, relevance_lambda: float = 0.6, terms: int = MAX_TERMS,
                  source: str = "topic output", labels: list[str] | None = None) -> str:
    """The topic browser page: pyLDAvis's view of ``model`` with every script and style inline.

    Parameters
    ----------
    model, doc_topics, terms, source
        See :func:`browser_data`.
    relevance_lambda : float
        The relevance slider's start value (``topics.relevance_lambda``).
    labels : list of str, optional
        The topics' labels (the topic table's ``label``), listed under the header as "N: label".

    Returns
    -------
    str
        A complete HTML document; no resource is fetched from the network when it loads.

    Raises
    ------
    DataError
        If ``doc_topics`` lacks a column the page needs or does not match the model.
    """
    import pyLDAvis
    from pyLDAvis import urls

    data = browser_data(model, doc_topics, terms, source)
    visual = pyLDAvis.prepared_data_to_html(
        data,
        d3_url=_data_url(urls.D3_LOCAL, "text/javascript"),
        ldavis_url=_data_url(urls.LDAVIS_LOCAL, "text/javascript"),
        ldavis_css_url=_data_url(urls.LDAVIS_CSS_LOCAL, "text/css"),
        template_type="simple",
        visid=VISID,
    )
    k = data.topic_coordinates.shape[0]
    words = pd.to_numeric(doc_topics["n_words"], errors="coerce").fillna(0)
    start = f"#topic=0&lambda={float(relevance_lambda):g}&term="
    header = (f'<p class="meta">{len(doc_topics):,} paragraphs, {int(words.sum()):,} words of the '
              f"{len(model.vocabulary_):,}-word vocabulary &middot; {k} topics &middot; "
              "topic N in the map = topic N-1 in the report's table &middot; "
              f"relevance &lambda; starts at {float(relevance_lambda):g} "
              "(1: terms ranked by their probability in the topic; 0: by their lift, that probability over "
              "their probability in the corpus)</p>")
    if labels:
        from html import escape

        header += ('<p class="meta">' + " &middot; ".join(f"<b>{i + 1}</b>: {escape(str(label))}"
                                                        for i, label in enumerate(labels)) + "</p>")
    return "\n".join([
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<link rel="icon" href="data:,">',
        f"<title>Topic browser</title><style>{STYLE}</style></head><body>",
        "<h1>Topic browser</h1>",
        header,
        # LDAvis takes its start state from the fragment; set it (without a history entry) when there is none
        f'<script>if (location.hash.split("&").length < 3) location.replace({json.dumps(start)});'
        "</script>",
        visual.strip(),
        "</body></html>\n",
    ])


def write_browser(path: Path | str, model: Any, doc_topics: pd.DataFrame, relevance_lambda: float = 0.6,
                  terms: int = MAX_TERMS, source: str = "topic output") -> Path:
    """Build the page (:func:`build_browser`) and write it atomically to ``path``; returns ``path``."""
    page = build_browser(model, doc_topics, relevance_lambda, terms, source)
    write_text(path, page)
    log.info("topic browser: %s (%d topics, %d kB)", path, model.num_topics, len(page) // 1024)
    return Path(path)
