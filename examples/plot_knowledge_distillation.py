"""
=============================================
Knowledge distillation into a linear student
=============================================

A gradient-boosting "teacher" is trained on labelled data; a linear "student"
is then trained on the teacher's predicted class probabilities instead of the
labels (Hinton et al., 2015). With soft targets :math:`p_i`, the student
minimises

.. math::

    \\frac1n \\sum_i \\mathrm{KL}(p_i \\,\\|\\, q_i)
    = \\frac1n \\sum_i \\mathrm{CE}(p_i, q_i) - \\frac1n \\sum_i H(p_i),

the divergence of its probabilities :math:`q_i` from the teacher's.
No scikit-learn classifier accepts such targets;
:class:`~skdiv.DivergenceClassifier` takes the probability matrix as ``y``.

The example compares, on held-out data, a student trained on the hard labels,
one trained on labels smoothed by ``label_smoothing``, and students trained
on the teacher's probabilities at several temperatures. It measures the
accuracy and the divergence :math:`\\mathrm{KL}(\\text{teacher} \\,\\|\\,
\\text{student})`, computed with :func:`skdiv.metrics.kl_divergence`.
"""

# %%
# Data and teacher
# ----------------
#
# Four classes, ten features, 15% of the labels replaced by random ones. The
# teacher is a :class:`~sklearn.ensemble.HistGradientBoostingClassifier`.
#
# The student's soft labels on the training set must not come from a teacher
# that has seen those very labels: a boosted model reproduces its training
# labels almost exactly, noise included. ``cross_val_predict`` with
# ``method="predict_proba"`` gives each training sample the probabilities of
# a teacher fitted on the other folds (*out-of-fold*). The teacher evaluated
# on the test set is refitted on the whole training set.
#
# On a few thousand samples, OpenMP threads cost the boosting more than they
# save (much more on a busy machine), so the teacher runs on one thread.
import matplotlib.pyplot as plt
import numpy as np
from scipy.special import softmax
from sklearn.datasets import make_classification
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import StratifiedKFold, cross_val_predict, train_test_split
from threadpoolctl import threadpool_limits

from skdiv import DivergenceClassifier
from skdiv.metrics import cross_entropy, entropy, kl_divergence

X, y = make_classification(
    n_samples=3000,
    n_features=10,
    n_informative=4,
    n_redundant=2,
    n_classes=4,
    n_clusters_per_class=1,
    flip_y=0.15,
    class_sep=1.5,
    random_state=1,
)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, train_size=600, stratify=y, random_state=0
)

teacher = HistGradientBoostingClassifier(
    max_iter=100, learning_rate=0.05, random_state=0
)
with threadpool_limits(limits=1, user_api="openmp"):
    P_train = cross_val_predict(
        teacher,
        X_train,
        y_train,
        cv=StratifiedKFold(5, shuffle=True, random_state=0),
        method="predict_proba",
    )
    teacher.fit(X_train, y_train)
    P_test = teacher.predict_proba(X_test)
teacher_accuracy = np.mean(teacher.classes_[P_test.argmax(axis=1)] == y_test)

print(f"teacher test accuracy:            {teacher_accuracy:.3f}")
print(f"teacher out-of-fold accuracy:     {np.mean(P_train.argmax(1) == y_train):.3f}")
print(f"mean entropy of the soft labels:  {entropy(P_train):.3f} nats")

# %%
# Temperature
# -----------
#
# Hinton et al. soften the teacher's logits :math:`t_i` with a temperature,
# :math:`p_i^{(T)} = \operatorname{softmax}(t_i / T)`. From probabilities,
# :math:`\log p_i` are the logits up to a constant per row, so
# :math:`p^{(T)}_{ik} \propto p_{ik}^{1/T}`, computed as a softmax of
# :math:`\log p_i / T`. Staying in logs keeps a row whose probabilities are
# all small from rounding to :math:`0 / 0`; ``softmax`` subtracts the row
# maximum before exponentiating. :math:`T > 1` flattens the targets,
# :math:`T < 1` sharpens them, :math:`T = 1` leaves them unchanged.


def soften(proba, temperature):
    """Teacher probabilities at a temperature, ``p ** (1 / T)`` renormalised."""
    with np.errstate(divide="ignore"):  # log(0) = -inf is the right logit
        log_proba = np.log(proba)
    return softmax(log_proba / temperature, axis=1)


example = P_train[:1]
for temperature in [0.5, 1, 2, 4]:
    print(f"T = {temperature:3}: {np.round(soften(example, temperature), 3)}")

# %%
# Students
# --------
#
# All students are the same linear softmax model with the same penalty,
# trained by KL divergence; only the targets differ. For the soft students,
# ``objective_`` is then the KL divergence from the teacher on the training
# set (plus the small penalty).


def fit_student(target, label_smoothing=0.0):
    student = DivergenceClassifier(
        "kl_divergence", alpha=1e-3, label_smoothing=label_smoothing
    )
    return student.fit(X_train, target)


def evaluate(student):
    proba = student.predict_proba(X_test)
    return {
        "accuracy": student.score(X_test, y_test),
        "KL to teacher": kl_divergence(P_test, proba),
        "agreement": np.mean(proba.argmax(1) == P_test.argmax(1)),
        "log-loss": cross_entropy(y_test, proba),
    }


students = {
    "hard labels": fit_student(y_train),
    "hard, smoothing 0.1": fit_student(y_train, label_smoothing=0.1),
    "teacher, T = 1": fit_student(soften(P_train, 1)),
    "teacher, T = 2": fit_student(soften(P_train, 2)),
}
results = {name: evaluate(student) for name, student in students.items()}
print(
    f"training KL to the teacher (T = 1): {students['teacher, T = 1'].objective_:.3f}"
)
print(f"{'student':22s} accuracy  KL to teacher  agreement  log-loss")
for name, row in results.items():
    print(
        f"{name:22s} {row['accuracy']:8.3f}  {row['KL to teacher']:13.3f}  "
        f"{row['agreement']:9.3f}  {row['log-loss']:8.3f}"
    )
print(
    f"{'teacher':22s} {teacher_accuracy:8.3f}  {'n/a':>13s}  {'n/a':>9s}  "
    f"{cross_entropy(y_test, P_test):8.3f}"
)

# %%
# On held-out data, the student trained on the teacher's probabilities is the
# closest to the teacher (smallest KL divergence, most frequent agreement on
# the predicted class), and it is as accurate as the student trained on the
# labels. A linear student cannot follow the teacher everywhere, so the
# divergence does not reach 0, and the gap between teacher and student
# accuracy is the price of the smaller model. Label smoothing also softens
# the targets, but towards the uniform distribution, not towards the
# teacher: the smoothed student is *further* from the teacher than the plain
# one. The same goes for :math:`T = 2`, which trains on flatter targets than
# the teacher's own.
#
# The last column shows what distillation does not fix: the student copies
# the teacher's probabilities, overconfidence included. The teacher's
# log-loss on the true labels is the worst of all, and the distilled student's
# is worse than that of the student trained on the labels.
names = list(results)
colors = ["C0", "C1", "C2", "C3"]
fig, (ax_acc, ax_kl) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
accuracies = [teacher_accuracy] + [results[name]["accuracy"] for name in names]
ax_acc.bar(["teacher"] + names, accuracies, color=["grey"] + colors)
ax_acc.bar_label(ax_acc.containers[0], fmt="%.3f")
ax_acc.set(
    ylim=(min(accuracies) - 0.05, max(accuracies) + 0.03),
    ylabel="test accuracy",
    title="Accuracy on held-out labels",
)
kls = [results[name]["KL to teacher"] for name in names]
ax_kl.bar(names, kls, color=colors)
ax_kl.bar_label(ax_kl.containers[0], fmt="%.3f")
ax_kl.set(
    ylabel="KL(teacher || student) (nats)",
    title="Divergence from the teacher (lower is closer)",
)
for ax in (ax_acc, ax_kl):
    plt.setp(ax.get_xticklabels(), rotation=25, ha="right")

# %%
# Sweeping the temperature and the smoothing
# ------------------------------------------
#
# Students trained on the teacher at temperatures from 1/4 to 8, and on hard
# labels with smoothing from 0 to 0.4. The divergence from the teacher is
# smallest near :math:`T = 1`, the targets that *are* the teacher's
# probabilities, and grows with smoothing. Accuracy moves by a few points
# at most: the predicted class is an argmax, which neither transformation
# changes much; very flat targets (large :math:`T`) cost the most.
temperatures = np.array([0.25, 0.5, 1, 2, 4, 8])
smoothings = np.array([0.0, 0.05, 0.1, 0.2, 0.3, 0.4])
by_temperature = [evaluate(fit_student(soften(P_train, T))) for T in temperatures]
by_smoothing = [evaluate(fit_student(y_train, label_smoothing=e)) for e in smoothings]
best_temperature = temperatures[np.argmin([r["KL to teacher"] for r in by_temperature])]
print(f"temperature with the smallest KL to the teacher: {best_temperature}")
print(" T     accuracy  KL to teacher")
for T, row in zip(temperatures, by_temperature, strict=True):
    print(f"{T:5.2f}  {row['accuracy']:8.3f}  {row['KL to teacher']:13.3f}")
print(" eps   accuracy  KL to teacher")
for eps, row in zip(smoothings, by_smoothing, strict=True):
    print(f"{eps:5.2f}  {row['accuracy']:8.3f}  {row['KL to teacher']:13.3f}")

fig, axes = plt.subplots(
    2, 2, figsize=(10, 6), sharex="col", sharey="row", layout="constrained"
)
hard = results["hard labels"]
for col, (x, rows, label, color) in enumerate(
    [
        (temperatures, by_temperature, "temperature T (soft labels)", "C2"),
        (smoothings, by_smoothing, "label_smoothing (hard labels)", "C1"),
    ]
):
    for row, metric in enumerate(["KL to teacher", "accuracy"]):
        ax = axes[row, col]
        ax.plot(x, [r[metric] for r in rows], "o-", color=color, label="student")
        ax.axhline(hard[metric], color="C0", ls="--", label="hard labels, no smoothing")
        if metric == "accuracy":
            ax.axhline(teacher_accuracy, color="grey", ls=":", label="teacher")
        ax.set_ylabel(
            "KL(teacher || student) (nats)"
            if metric == "KL to teacher"
            else "test accuracy"
        )
        ax.legend(fontsize="small")
    axes[1, col].set_xlabel(label)
axes[0, 0].set_xscale("log", base=2)
axes[1, 0].set_xticks(temperatures, [f"{T:g}" for T in temperatures])
axes[0, 0].set_title("Teacher probabilities at temperature T")
axes[0, 1].set_title("Hard labels with label smoothing")

plt.show()
