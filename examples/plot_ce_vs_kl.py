"""
=====================================================
Cross-entropy or KL divergence: one path, two values
=====================================================

Training a classifier by cross-entropy and training it by KL divergence is the
same optimisation problem. On a target :math:`p` and a model :math:`q`,

.. math::

    \\mathrm{KL}(p \\,\\|\\, q) = \\mathrm{CE}(p, q) - H(p),

and the entropy :math:`H(p)` of the targets does not depend on the model. So
both objectives have the same gradient, :math:`q - p` in logit space, the
solver takes the same steps, and the two objective curves are the same curve
shifted by the mean target entropy. This example shows it on soft labels, then
shows where the reputation of KL divergence for producing ``nan`` and ``inf``
comes from, and how :mod:`skdiv` avoids it.
"""

# %%
# Soft labels from annotator votes
# --------------------------------
#
# Each of 600 samples is labelled by five annotators, who draw their votes
# from class probabilities that depend (not quite linearly) on four features.
# The target of a sample is its vote share, :math:`p_{ik} = n_{ik} / 5`. With
# three classes and five votes, many targets have an exact zero somewhere,
# which matters below.
import warnings

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator
from scipy.special import log_softmax, softmax, xlogy
from sklearn.exceptions import ConvergenceWarning

from skdiv import DivergenceClassifier
from skdiv.metrics import cross_entropy, entropy, kl_divergence

rng = np.random.default_rng(0)
n_samples, n_features, n_classes, n_annotators = 600, 4, 3, 5
X = rng.normal(size=(n_samples, n_features))
true_logits = X @ rng.normal(scale=1.5, size=(n_features, n_classes))
true_logits += 0.5 * np.sin(3 * X[:, :n_classes])
votes = rng.multinomial(n_annotators, softmax(true_logits, axis=1))
P = votes / n_annotators

mean_entropy = entropy(P)
print(f"targets with a zero probability: {np.mean((P == 0).any(axis=1)):.0%}")
print(f"mean target entropy H(P):        {mean_entropy:.6f} nats")

# %%
# The two objectives along the solver's path
# -------------------------------------------
#
# L-BFGS is deterministic, so the fit stopped after ``max_iter=k`` iterations
# is the ``k``-th iterate of the full run. Refitting with ``k = 1, 2, ...``
# (from the same starting point, ``warm_start=False``) traces the value of
# ``objective_`` along the path. The early stops warn that the solver did not
# converge, which is the point here, so the warning is silenced.
alpha, tol = 1e-3, 1e-10
losses = ["cross_entropy", "kl_divergence"]
full = {
    loss: DivergenceClassifier(loss, alpha=alpha, solver="lbfgs", tol=tol).fit(X, P)
    for loss in losses
}
n_iter = max(clf.n_iter_ for clf in full.values())
iterations = np.arange(1, n_iter + 1)

path = {loss: [] for loss in losses}
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    for loss in losses:
        for k in iterations:
            clf = DivergenceClassifier(
                loss, alpha=alpha, solver="lbfgs", tol=tol, max_iter=k
            ).fit(X, P)
            path[loss].append(clf.objective_)
path = {loss: np.array(values) for loss, values in path.items()}

gap = path["cross_entropy"] - path["kl_divergence"]
print(f"iterations to converge: {n_iter}")
print(" iter   CE objective   KL objective   CE - KL")
for k in [1, 2, 3, 5, 10, n_iter]:
    print(
        f"{k:5d}   {path['cross_entropy'][k - 1]:.10f}   "
        f"{path['kl_divergence'][k - 1]:.10f}   {gap[k - 1]:.10f}"
    )
max_gap_error = np.max(np.abs(gap - mean_entropy))
print(f"max over iterations of |CE - KL - H(P)|: {max_gap_error:.2e}")

# %%
# Same minimiser
# --------------
#
# The fitted coefficients agree to rounding error, and so do the predicted
# probabilities. The metrics tell the same story as the objectives: the
# cross-entropy of the fitted model is its KL divergence plus :math:`H(P)`.
coef_diff = np.max(np.abs(full["cross_entropy"].coef_ - full["kl_divergence"].coef_))
intercept_diff = np.max(
    np.abs(full["cross_entropy"].intercept_ - full["kl_divergence"].intercept_)
)
proba = full["kl_divergence"].predict_proba(X)
ce_value, kl_value = cross_entropy(P, proba), kl_divergence(P, proba)
print(f"max |coef_CE - coef_KL|:           {coef_diff:.2e}")
print(f"max |intercept_CE - intercept_KL|: {intercept_diff:.2e}")
print(f"cross_entropy(P, q) = {ce_value:.6f}, kl_divergence(P, q) = {kl_value:.6f}")
print(f"difference = {ce_value - kl_value:.6f} = H(P) = {mean_entropy:.6f}")

# %%
# The left panel shows the two objective values: the CE curve lies exactly
# :math:`H(P)` above the KL curve, which tends to a small positive number (the
# model is linear, the vote shares are not). The right panel shows the
# distance of each iterate to the optimum on a log scale: the two curves are
# indistinguishable, because the iterates are the same.
optimum = {loss: clf.objective_ for loss, clf in full.items()}
fig, (ax_value, ax_sub) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
ax_value.plot(iterations, path["cross_entropy"], "o-", label="cross-entropy")
ax_value.plot(iterations, path["kl_divergence"], "s-", label="KL divergence")
ax_value.plot(
    iterations,
    path["kl_divergence"] + mean_entropy,
    "k:",
    label=r"KL divergence $+\ H(P)$",
)
ax_value.axhline(mean_entropy, color="grey", lw=1, ls="--")
ax_value.annotate(
    f"$H(P)$ = {mean_entropy:.3f}: lower bound of CE",
    (n_iter, mean_entropy),
    xytext=(0, 4),
    textcoords="offset points",
    ha="right",
    va="bottom",
    color="grey",
)
ax_value.axhline(0, color="grey", lw=1, ls="--")
ax_value.set(
    xlabel="L-BFGS iteration",
    ylabel="objective_ (nats, penalty included)",
    title="Objective values: offset by the target entropy",
)
ax_value.legend()

styles = {
    "cross_entropy": dict(marker="o", ls="-", label="cross-entropy"),
    "kl_divergence": dict(marker="x", ls="--", label="KL divergence"),
}
for loss, style in styles.items():
    # The last iterates reach the optimum exactly; keep them on the log axis.
    ax_sub.semilogy(iterations, np.maximum(path[loss] - optimum[loss], 1e-17), **style)
ax_sub.set(
    xlabel="L-BFGS iteration",
    ylabel="objective - optimum (nats)",
    title="Distance to the optimum: one path",
)
ax_sub.legend()
for ax in (ax_value, ax_sub):
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))

# %%
# Where ``nan`` and ``inf`` come from
# -----------------------------------
#
# The divergence itself is finite whenever the model gives positive
# probability to every class the target uses. Naive code is not. Three small
# cases, computed first the naive way (``np.errstate`` only hides the
# ``RuntimeWarning`` messages numpy would print):
#
# * a **zero in the target**: :math:`0 \log 0` should be 0, but
#   ``0 * np.log(0)`` is ``0 * -inf = nan``;
# * a **zero in the model**: :math:`p_k \log(p_k / 0) = +\infty`, correct
#   mathematically, useless as a training signal;
# * a **zero produced by the softmax**: a finite logit far below the others
#   underflows to probability 0, so ``np.log(softmax(z))`` is ``-inf`` although
#   :math:`\log q_k = z_k - \log\sum_j e^{z_j}` is an ordinary number.
target_with_zero, model = np.array([0.5, 0.5, 0.0]), np.array([0.2, 0.3, 0.5])
target, model_with_zero = np.array([0.2, 0.3, 0.5]), np.array([0.6, 0.4, 0.0])
z = np.array([0.0, 10.0, -800.0])  # logits; the third probability underflows
with np.errstate(divide="ignore", invalid="ignore"):
    naive_target_zero = np.sum(target_with_zero * np.log(target_with_zero / model))
    naive_model_zero = np.sum(target * np.log(target / model_with_zero))
    naive_log_q = np.log(softmax(z))

print("naive np.sum(p * np.log(p / q)):")
print(f"  p = {target_with_zero}, q = {model}: {naive_target_zero}")
print(f"  p = {target}, q = {model_with_zero}: {naive_model_zero}")
print(f"naive np.log(softmax(z)), z = {z}: {naive_log_q}")

# %%
# skdiv never evaluates those expressions:
#
# * terms with a target probability are computed with
#   :func:`scipy.special.xlogy`, :math:`x \log y` with the convention
#   :math:`0 \log y = 0`;
# * the training objectives work on logits, with the log-softmax
#   :math:`\log q_k = z_k - m - \log \sum_j e^{z_j - m}`, :math:`m = \max_j
#   z_j`, and never take the logarithm of a probability;
#   :meth:`~skdiv.DivergenceClassifier.predict_log_proba` returns that;
# * the metric functions, which only see probabilities, clip them to
#   :math:`[\epsilon, 1 - \epsilon]` as :func:`sklearn.metrics.log_loss` does,
#   so a class predicted with probability 0 costs :math:`-\log\epsilon
#   \approx 36` nats (times its target probability) instead of infinity.
xlogy_target_zero = np.sum(
    xlogy(target_with_zero, target_with_zero) - xlogy(target_with_zero, model)
)
metric_target_zero = kl_divergence([target_with_zero], [model])
metric_model_zero = kl_divergence([target], [model_with_zero])
clip_cost = -np.log(np.finfo(np.float64).eps)
print(f"p = {target_with_zero}, q = {model}:")
print(f"  with xlogy:          {xlogy_target_zero:.6f}")
print(f"  skdiv kl_divergence: {metric_target_zero:.6f}")
print(f"p = {target}, q = {model_with_zero}:")
print(
    f"  skdiv kl_divergence: {metric_model_zero:.6f}"
    f"  (the zero costs 0.5 * (log 0.5 + {clip_cost:.2f}) nats)"
)
print(f"log_softmax(z), z = {z}: {log_softmax(z)}")

# %%
# The fitted classifier shows the same on its own predictions. Far from the
# training data the logits are thousands apart: ``predict_proba`` rounds the
# small probabilities to exactly 0, whose logarithm is ``-inf``, while
# ``predict_log_proba`` stays finite.
X_far = 400 * X[:3]
with np.errstate(divide="ignore"):
    log_of_proba = np.log(full["kl_divergence"].predict_proba(X_far))
log_proba = full["kl_divergence"].predict_log_proba(X_far)
print("np.log(predict_proba(X_far)):\n", log_of_proba.round(1))
print("predict_log_proba(X_far):\n", log_proba.round(1))
print("all finite:", bool(np.isfinite(log_proba).all()))

# %%
# The logarithm of the smallest softmax probability as the gap between the
# logits grows: the naive ``np.log(softmax(z))`` follows the exact line until
# :math:`e^{-\text{gap}}` underflows (at a gap of about 745 in float64), then
# jumps to :math:`-\infty`; the log-softmax is exact at every gap.
gaps = np.linspace(0, 1000, 1001)
logits = np.column_stack([np.zeros_like(gaps), -gaps])
with np.errstate(divide="ignore"):
    naive_curve = np.log(softmax(logits, axis=1))[:, 1]
stable_curve = log_softmax(logits, axis=1)[:, 1]
underflow_gap = gaps[np.argmax(~np.isfinite(naive_curve))]
print(f"np.log(softmax) is -inf from a logit gap of {underflow_gap:.0f}")

fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
ax.plot(gaps, stable_curve, lw=3, alpha=0.5, label="log_softmax(z) (exact)")
finite = np.isfinite(naive_curve)
ax.plot(gaps[finite], naive_curve[finite], "k--", label="np.log(softmax(z))")
ax.axvline(underflow_gap, color="C3", ls=":")
ax.annotate(
    f"softmax underflows\nto 0 at gap {underflow_gap:.0f}:\nnp.log gives -inf",
    (underflow_gap, -100),
    xytext=(6, 0),
    textcoords="offset points",
    ha="left",
    va="top",
    color="C3",
)
ax.set(
    xlabel=r"logit gap $z_1 - z_2$",
    ylabel=r"$\log q_2$ (nats)",
    title="Log-probability of the unlikely class",
)
ax.legend(loc="lower left")

plt.show()
