"""What every part of the ``skdiv`` command shares: its errors and constants."""

# The default penalty of LogisticRegression, which DivergenceClassifier is
# given through alpha = 1 / (C * n_train) so the two fit the same model.
LOGISTIC_C = 1.0
# The extra score of --soft-labels: minus the KL divergence from the teacher's
# test-fold probabilities to the model's.
KL_TO_TEACHER = "neg_kl_to_teacher"
EXTRA = 'pip install "skdiv[examples]"'
# Tables, notes and wrapped help stay within this many columns.
WIDTH = 100


class UsageError(Exception):
    """Bad arguments or unusable input data: exit status 2, before any fit."""


class RunError(Exception):
    """A failure while running: reported on stderr with exit status 1."""


class ScorerFailed(UserWarning):
    """One score of one fold could not be computed; it is NaN."""
