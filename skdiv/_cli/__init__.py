"""The ``skdiv`` command.

``skdiv compare`` cross-validates skdiv's estimators next to their
scikit-learn peers on the same folds, and says which is best and which are
within noise of it. The parts, in the order a run goes through them:

- :mod:`._parser`: the options;
- :mod:`._data`: the built-in sets, and CSV files typed column by column,
  with the columns that would leak the target dropped;
- :mod:`._scoring`: scorer names, checked against the task before any fit;
- :mod:`._features` and :mod:`._candidates`: the models, each behind the
  preprocessing fitted on its training fold;
- :mod:`._run`: the fold loop;
- :mod:`._verdict`: statistics, ranks and paired differences to the best;
- :mod:`._report` and :mod:`._plot`: what is printed and drawn;
- :mod:`._compare`: the command, from arguments to exit status.
"""

from ._compare import main

__all__ = ["main"]
