"""scikit-learn's own estimator checks, with no expected failures."""

import pytest
from _estimator_checks import parametrize_with_checks

from skdiv import DivergenceClassifier, GaussianRegressor

ESTIMATORS = [
    DivergenceClassifier(),
    DivergenceClassifier(loss="kl_divergence"),
    DivergenceClassifier(class_weight="balanced", label_smoothing=0.1),
    GaussianRegressor(),
    GaussianRegressor(variance="constant"),
    GaussianRegressor(loss="squared_error"),
    GaussianRegressor(beta=0.5),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize(
    "estimator",
    [DivergenceClassifier(), GaussianRegressor()],
    ids=lambda est: type(est).__name__,
)
def test_html_repr_links_to_the_api_page(estimator, monkeypatch):
    # As scikit-learn's estimators do (_doc_link_module, _doc_link_template);
    # tests/test_docs.py checks that the pages exist in the built docs.
    from sklearn.utils import estimator_html_repr

    from skdiv._version import docs_url

    monkeypatch.delenv("SKDIV_DOCS_URL", raising=False)
    name = type(estimator).__name__
    expected = f"{docs_url()}generated/skdiv.{name}.html"
    assert expected.startswith("https://skdiv.readthedocs.io/en/")
    assert estimator._get_doc_link() == expected
    assert f'href="{expected}"' in estimator_html_repr(estimator)
    monkeypatch.setenv("SKDIV_DOCS_URL", "file:///tmp/skdiv-docs")
    assert estimator._get_doc_link() == (
        f"file:///tmp/skdiv-docs/generated/skdiv.{name}.html"
    )
