"""Per-model statistics and the verdict of ``skdiv compare``.

Every model is scored on the same folds, so two models are compared by their
fold-by-fold differences. Those differences are not independent: any two
training folds of a K-fold split share a fraction (K - 2) / (K - 1) of their
rows. The naive standard error of their mean, ``s / sqrt(J)`` over the ``J``
folds, is then too small, and Nadeau and Bengio's corrected resampled t-test
replaces it.
"""

import numpy as np

from .._targets import power_of_two_below
from ._common import KL_TO_TEACHER

# Below this p-value a model is "worse" than the best; at or above it, "within
# noise".
ALPHA = 0.05
# Paired differences all below this (relative to the score's size) are a tie:
# two fits of the same model (cross_entropy and kl_divergence on hard labels)
# differ by solver tolerance, and a t-test of rounding errors means nothing.
_TIE = 1e-6


def corrected_ttest(differences, n_train, n_test):
    r"""Corrected resampled t-test of paired per-fold differences.

    Parameters
    ----------
    differences : ndarray of shape (n_folds,)
        Score of a model minus the score of the reference, fold by fold, over
        ``n_folds = n_splits * n_repeats`` folds of a (repeated) K-fold split.
    n_train, n_test : float
        The (mean) size of a training fold and of a test fold.

    Returns
    -------
    mean, se, p_value : float
        The mean difference, its corrected standard error and the two-sided
        p-value of a Student t with ``n_folds - 1`` degrees of freedom.

    Notes
    -----
    With :math:`d_1, \dots, d_J` the differences and :math:`s^2` their
    sample variance (``ddof=1``),

    .. math::

        \mathrm{se} = \sqrt{\Big(\frac{1}{J} + \frac{n_\text{test}}
        {n_\text{train}}\Big)\, s^2}, \qquad
        t = \frac{\bar d}{\mathrm{se}},

    the variance correction of Nadeau and Bengio (2003), "Inference for the
    generalization error", Machine Learning 52, 239-281.
    """
    from scipy.stats import t as student

    d = np.asarray(differences, dtype=np.float64)
    # On d / scale: squaring differences of ~1e155 or more would overflow
    # float64, although the mean and the standard error are finite.
    scale = power_of_two_below(_largest(d))
    u = d / scale
    mean = float(scale * u.mean())
    variance = float(u.var(ddof=1)) if d.size > 1 else 0.0
    se_scaled = float(np.sqrt((1.0 / d.size + n_test / n_train) * variance))
    se = scale * se_scaled
    if se_scaled == 0.0:
        return mean, se, 1.0 if mean == 0.0 else 0.0
    p_value = float(2.0 * student.sf(abs(u.mean()) / se_scaled, df=d.size - 1))
    return mean, se, p_value


def _number(x):
    return None if not np.isfinite(x) else float(x)


def _stats(values):
    """Mean, std (ddof=0) and folds of one score; NaN marks a failed fold.

    A fold is NaN where its fit or its scorer failed; then the mean and the
    std are None, and ``failed_folds`` lists those folds (from 1). A fold
    may also be an infinite score, such as the RMSE of targets of ~1e200,
    whose squares overflow: that is a score, not a failure, and the mean is
    then infinite and the std None. The folds keep their infinities here;
    the JSON output writes them as null (see ``_report.to_json``).
    """
    failed = np.isnan(values)
    stats = {
        "mean": None,
        "std": None,
        "folds": [None if f else float(v) for v, f in zip(values, failed,
                                                           strict=True)],
        "failed_folds": [k + 1 for k in np.flatnonzero(failed).tolist()],
    }
    if failed.any() or not values.size:
        return stats
    if not np.all(np.isfinite(values)):
        # +inf and -inf together have no mean: NaN, shown as n/a.
        stats["mean"] = float(np.mean(values))
        return stats
    # On values / scale: np.std squares the deviations, which overflows for
    # scores of ~1e155 or more although the std itself is finite.
    scale = power_of_two_below(_largest(values))
    u = values / scale
    stats["mean"] = _number(scale * u.mean())
    stats["std"] = _number(scale * u.std())
    return stats


def summarise(candidates, scoring, fold_scores, n_folds):
    """Per-row statistics; a score is None where it does not apply."""
    names = scoring + ([KL_TO_TEACHER] if any(c.soft for c in candidates) else [])
    rows = []
    for i, candidate in enumerate(candidates):
        per_fold = [fold_scores[i, k] for k in range(n_folds)]
        done = [f[0] for f in per_fold if f is not None]
        scores = {}
        for name in names:
            if done and all(name not in s for s in done):
                scores[name] = None
                continue
            values = np.array([np.nan if f is None else f[0][name] for f in per_fold])
            scores[name] = _stats(values)
        times = np.array([np.nan if f is None else f[1] for f in per_fold])
        rows.append({
            "model": candidate.model,
            "objective": candidate.objective,
            "label": candidate.label,
            "targets": candidate.targets,
            "scores": scores,
            "fit_time": _stats(times),
        })
    return names, rows


def verdict(names, rows, n_train, n_test):
    """Rank the rows per score and test each against the best.

    Adds ``row["verdict"][name] = {"rank", "status", "diff_to_best", "se",
    "p_value", "folds_ahead_of_best"}`` (None for a score that failed, is
    not finite or does not apply) and returns one summary line per score.
    """
    lines = []
    for row in rows:
        row["verdict"] = {}
    for name in names:
        scored = [r for r in rows if r["scores"][name] is not None
                  and r["scores"][name]["mean"] is not None]
        # An infinite mean (a score that overflowed) has no paired
        # difference to test: it is named, not ranked.
        ranked = [r for r in scored if np.isfinite(r["scores"][name]["mean"])]
        unranked = [r["label"] for r in scored
                    if not np.isfinite(r["scores"][name]["mean"])]
        for row in rows:
            row["verdict"][name] = None
        if unranked:
            verb = "is" if len(unranked) == 1 else "are"
            infinite = (f"{', '.join(unranked)} {verb} not ranked: the score is not "
                        "a finite number")
        if not ranked:
            if unranked:
                lines.append(f"{name}: {infinite}.")
            continue
        # sorted() is stable: equal means keep the table's order.
        ranked.sort(key=lambda r: -r["scores"][name]["mean"])
        best = np.array(ranked[0]["scores"][name]["folds"])
        scale = max(1.0, float(np.max(np.abs(best))))
        within, worse = [], []
        for rank, row in enumerate(ranked, start=1):
            entry = {"rank": rank, "status": "best", "diff_to_best": 0.0,
                     "se": 0.0, "p_value": None, "folds_ahead_of_best": 0}
            if rank > 1:
                d = np.array(row["scores"][name]["folds"]) - best
                mean, se, p_value = corrected_ttest(d, n_train, n_test)
                if np.max(np.abs(d)) <= _TIE * scale:
                    status = "tied"
                else:
                    status = "within noise" if p_value >= ALPHA else "worse"
                entry.update(status=status, diff_to_best=mean, se=se, p_value=p_value,
                             folds_ahead_of_best=int(np.count_nonzero(d > 0)))
                (worse if status == "worse" else within).append(row["label"])
            row["verdict"][name] = entry
        line = f"best by {name}: {ranked[0]['label']}"
        if within:
            verb = "is" if len(within) == 1 else "are"
            line += f"; {', '.join(within)} {verb} within noise of it"
        if worse:
            line += "; the others are worse" if len(worse) > 1 \
                else f"; {worse[0]} is worse"
        if unranked:
            line += f"; {infinite}"
        lines.append(line + ".")
    return lines


def _largest(values):
    """``max |values|`` (0 for none)."""
    return float(np.max(np.abs(values))) if np.size(values) else 0.0
