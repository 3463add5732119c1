"""
======================================
Model selection with divergence scores
======================================

:class:`~sklearn.model_selection.GridSearchCV` picks the penalty ``alpha`` of
a pipeline (:class:`~sklearn.preprocessing.StandardScaler` followed by a skdiv
estimator) with skdiv's scorers:

* :data:`~skdiv.metrics.neg_kl_divergence_scorer` for a
  :class:`~skdiv.DivergenceClassifier` trained on soft labels, which
  scikit-learn's ``"neg_log_loss"`` cannot score;
* :data:`~skdiv.metrics.neg_gaussian_nll_scorer` for a
  :class:`~skdiv.GaussianRegressor`, which scores the predicted standard
  deviation as well as the mean; scikit-learn's scorers only ever see the
  mean.

Every scorer is a negated loss, so greater is better, as for scikit-learn's
``neg_*`` scorers.
"""

# %%
# A classifier on soft labels
# ---------------------------
#
# 150 training samples with 50 features, of which 4 matter. Each sample's
# target is the vote share of five annotators, drawn from the true class
# probabilities. With that many features for that few samples, the penalty
# matters.
#
# ``cv=5`` would not stratify here: a matrix of probabilities is not a class
# label, and scikit-learn falls back to an unshuffled
# :class:`~sklearn.model_selection.KFold`. A shuffled ``KFold`` is the safe
# choice.
#
# The search scores two metrics; ``refit="KL"`` selects by the KL divergence.
# The cross-entropy scorer is looked up by name with
# :func:`skdiv.metrics.get_scorer`.
import warnings

import matplotlib.pyplot as plt
import numpy as np
from scipy.special import softmax
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdiv import DivergenceClassifier, GaussianRegressor
from skdiv.metrics import (
    entropy,
    gaussian_nll,
    get_scorer,
    kl_divergence,
    neg_gaussian_crps_scorer,
    neg_gaussian_nll_scorer,
    neg_kl_divergence_scorer,
)

rng = np.random.default_rng(0)
n_train, n_test, n_features, n_classes = 150, 2000, 50, 3
X = rng.normal(size=(n_train + n_test, n_features))
weights = np.zeros((n_features, n_classes))
weights[:4] = rng.normal(size=(4, n_classes))
true_proba = softmax(X @ weights, axis=1)
P = rng.multinomial(5, true_proba) / 5
X_train, X_test, P_train, P_test = X[:n_train], X[n_train:], P[:n_train], P[n_train:]

cv = KFold(5, shuffle=True, random_state=0)
alphas = np.logspace(-4, 1, 11)
classifier_search = GridSearchCV(
    make_pipeline(StandardScaler(), DivergenceClassifier("kl_divergence")),
    {"divergenceclassifier__alpha": alphas},
    scoring={"KL": neg_kl_divergence_scorer, "CE": get_scorer("neg_cross_entropy")},
    refit="KL",
    cv=cv,
).fit(X_train, P_train)

results = classifier_search.cv_results_
best_alpha = classifier_search.best_params_["divergenceclassifier__alpha"]
best_by_ce = alphas[np.argmax(results["mean_test_CE"])]
print(f"selected alpha (KL):             {best_alpha:.2g}")
print(f"selected alpha (cross-entropy):  {best_by_ce:.2g}")
print(f"best cross-validated KL:         {-classifier_search.best_score_:.4f} nats")

# %%
# Cross-entropy and KL divergence rank the candidates identically. In each
# test fold the two differ by the mean entropy of that fold's targets, which
# does not depend on the model, so the mean curves are parallel.
ce_minus_kl = results["mean_test_KL"] - results["mean_test_CE"]
fold_entropy = np.mean([entropy(P_train[test]) for _, test in cv.split(X_train)])
print(
    f"mean CE - mean KL over the grid: {ce_minus_kl.min():.6f} to "
    f"{ce_minus_kl.max():.6f} nats; mean test-fold entropy {fold_entropy:.6f}"
)

# %%
# On held-out data, the selected model is closer to the targets than the
# least penalised one. Even the true class probabilities do not reach a KL of
# 0: the targets are five votes, a noisy sample of those probabilities.
least_penalised = make_pipeline(
    StandardScaler(), DivergenceClassifier("kl_divergence", alpha=alphas[0])
).fit(X_train, P_train)
test_kl = {
    "selected": kl_divergence(P_test, classifier_search.predict_proba(X_test)),
    f"alpha={alphas[0]:g}": kl_divergence(
        P_test, least_penalised.predict_proba(X_test)
    ),
    "true probabilities": kl_divergence(P_test, true_proba[n_train:]),
}
for name, value in test_kl.items():
    print(f"test KL, {name:20s} {value:.4f}")

# %%
# The cross-validation curves, mean and one standard deviation over the five
# folds, with the scores turned back into losses (lower is better).


def plot_curve(ax, scores, std, label, color, marker="o"):
    ax.plot(alphas, scores, marker=marker, color=color, label=label)
    ax.fill_between(alphas, scores - std, scores + std, color=color, alpha=0.2)


fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
plot_curve(ax, -results["mean_test_KL"], results["std_test_KL"], "KL divergence", "C0")
plot_curve(
    ax, -results["mean_test_CE"], results["std_test_CE"], "cross-entropy", "C1", "s"
)
ax.axvline(
    best_alpha, color="grey", ls="--", label=f"selected alpha = {best_alpha:.2g}"
)
ax.set(
    xscale="log",
    xlabel="alpha",
    ylabel="cross-validated loss (nats)",
    title="DivergenceClassifier on soft labels",
)
ax.legend()

# %%
# A regressor with a predicted standard deviation
# -----------------------------------------------
#
# 200 training samples with 25 features. The mean depends on two of them,
# the noise level on the first. The grid covers ``alpha`` and the
# ``variance`` model; the search scores the Gaussian NLL (used to select),
# the CRPS and, for comparison, scikit-learn's :math:`R^2`, which only judges
# the mean.
n_train, n_test, n_features = 200, 4000, 25
X = rng.normal(size=(n_train + n_test, n_features))
y = (
    1
    + X[:, 0]
    - 0.5 * X[:, 1]
    + np.exp(0.5 * X[:, 0] - 0.2) * rng.normal(size=n_train + n_test)
)
X_train, X_test, y_train, y_test = X[:n_train], X[n_train:], y[:n_train], y[n_train:]

# At the smallest penalties a few heteroscedastic fits stop at ``max_iter``
# with a ConvergenceWarning: the predicted variance of some training samples
# keeps shrinking. That is the overfitting this search is about to detect, so
# the warnings are silenced here.
variances = ["constant", "heteroscedastic"]
regressor_search = GridSearchCV(
    make_pipeline(StandardScaler(), GaussianRegressor()),
    {"gaussianregressor__alpha": alphas, "gaussianregressor__variance": variances},
    scoring={
        "NLL": neg_gaussian_nll_scorer,
        "CRPS": neg_gaussian_crps_scorer,
        "R2": "r2",
    },
    refit="NLL",
    cv=cv,
)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    regressor_search.fit(X_train, y_train)

results = regressor_search.cv_results_
params = results["params"]
best = regressor_search.best_params_
best_by_r2 = params[np.argmax(results["mean_test_R2"])]
best_by_crps = params[np.argmax(results["mean_test_CRPS"])]


def describe(p):
    return (
        f"alpha={p['gaussianregressor__alpha']:.2g}, "
        f"variance={p['gaussianregressor__variance']}"
    )


print(f"selected by NLL (refit): {describe(best)}")
print(f"best by CRPS:            {describe(best_by_crps)}")
print(f"best by R2:              {describe(best_by_r2)}")

# %%
# :math:`R^2` judges the mean only. Below ``alpha = 0.1`` it hardly changes,
# and it does not rank the heteroscedastic model below the constant one. The
# NLL does, by far: with 25 features and 200 samples (160 per training fold)
# the log-variance is overfitted at small ``alpha``, some predicted widths
# collapse, and the observations that fall outside them cost a lot. The
# unpenalised heteroscedastic model scores *worse* than a constant variance,
# and the search selects a penalty that tames the variance head. The test
# set confirms it. One ``alpha`` penalises the mean and the log-variance
# coefficients alike, so the selected model pays for its better variance
# with a somewhat shrunk mean, and an :math:`R^2` no better than the others.
variance_of = np.array([p["gaussianregressor__variance"] for p in params])
alpha_of = np.array([p["gaussianregressor__alpha"] for p in params])
cv_scores = {}
for variance in variances:
    row = np.flatnonzero((variance_of == variance) & (alpha_of == alphas[0]))[0]
    name = f"{variance}, smallest alpha"
    cv_scores[name] = (-results["mean_test_NLL"][row], results["mean_test_R2"][row])
    print(f"CV, {name:31s} NLL {cv_scores[name][0]:.3f}, R2 {cv_scores[name][1]:.3f}")

candidates = {
    "selected by NLL": regressor_search.best_estimator_,
    "heteroscedastic, smallest alpha": make_pipeline(
        StandardScaler(), GaussianRegressor(alpha=alphas[0])
    ),
    "constant, smallest alpha": make_pipeline(
        StandardScaler(), GaussianRegressor(variance="constant", alpha=alphas[0])
    ),
}
test_scores = {}
for name, model in candidates.items():
    if name != "selected by NLL":
        model.fit(X_train, y_train)
    mean, std = model.predict(X_test, return_std=True)
    test_scores[name] = (gaussian_nll(y_test, mean, std), model.score(X_test, y_test))
    print(
        f"test, {name:31s} NLL {test_scores[name][0]:.3f}, "
        f"R2 {test_scores[name][1]:.3f}"
    )

# %%
# The cross-validation curves of both variance models. The left panel is
# what the search optimises, the right one what an :math:`R^2`-based search
# would see: the two criteria disagree where the variance is overfitted.
fig, (ax_nll, ax_r2) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
for variance, color in zip(variances, ["C0", "C2"], strict=True):
    rows = variance_of == variance
    plot_curve(
        ax_nll,
        -results["mean_test_NLL"][rows],
        results["std_test_NLL"][rows],
        f"variance={variance!r}",
        color,
    )
    plot_curve(
        ax_r2,
        results["mean_test_R2"][rows],
        results["std_test_R2"][rows],
        f"variance={variance!r}",
        color,
    )
ax_nll.axvline(
    best["gaussianregressor__alpha"], color="grey", ls="--", label="selected by NLL"
)
ax_r2.axvline(
    best_by_r2["gaussianregressor__alpha"], color="grey", ls=":", label="best by R2"
)
# The overfitted fits are far off the top of the NLL axis, which is cut so
# that the differences near the optimum stay readable.
worst_nll = -results["mean_test_NLL"].min()
ax_nll.set_ylim(0.9 * -results["mean_test_NLL"].max(), 2.2)
ax_nll.annotate(
    f"off the chart:\nCV NLL up to {worst_nll:.3g}",
    xy=(alphas[0], 2.2),
    xytext=(5, -8),
    textcoords="offset points",
    va="top",
    color="C2",
)
ax_nll.set(
    xscale="log",
    xlabel="alpha",
    ylabel="cross-validated Gaussian NLL",
    title="Gaussian NLL, what the search minimises",
)
ax_r2.set(
    xscale="log",
    xlabel="alpha",
    ylabel=r"cross-validated $R^2$",
    title=r"scikit-learn's $R^2$ (higher is better), mean only",
)
ax_nll.legend(loc="upper right")
ax_r2.legend()

plt.show()
