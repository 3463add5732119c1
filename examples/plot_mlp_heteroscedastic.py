"""
==================================================================
Heteroscedastic regression with a network: intervals and beta-NLL
==================================================================

When both the mean and the noise of :math:`y` bend with :math:`x`, a linear
mean-and-variance model cannot follow either.
:class:`~skdiv.GaussianMLPRegressor` predicts a normal distribution
:math:`N(\\mu_\\theta(x), \\sigma^2_\\theta(x))` from one network with two
outputs, the mean and the log-variance, fitted by the Gaussian negative
log-likelihood

.. math::

    \\frac{1}{n} \\sum_i \\tfrac12 \\left(\\log 2\\pi\\sigma_i^2
        + \\frac{(y_i - \\mu_i)^2}{\\sigma_i^2}\\right).

The example compares, on held-out data, a constant-variance network, the
heteroscedastic network (``beta=0``) and beta-NLL (``beta=0.5``, Seitzer et
al., 2022): the 90% intervals, their coverage region by region, and the mean's
error where the noise is large.
"""

# %%
# Data
# ----
#
# :math:`y = \sin(3x) + x/2 + \varepsilon` with a standard deviation that is
# small in the middle and grows towards both ends.

import matplotlib.pyplot as plt
import numpy as np

from skdiv import GaussianMLPRegressor
from skdiv.metrics import gaussian_nll


def true_std(x):
    return 0.05 + 0.5 * np.abs(x) ** 2


rng = np.random.default_rng(0)
n = 3000
x = rng.uniform(-1.5, 1.5, size=n)
y = np.sin(3 * x) + x / 2 + rng.normal(size=n) * true_std(x)
X = x[:, None]
train, test = np.arange(n) < 2000, np.arange(n) >= 2000

# %%
# Three networks
# --------------
#
# The same architecture (two hidden layers of 16 tanh units), solver (L-BFGS)
# and starting point; ``variance="constant"`` fits the mean by least squares
# and one variance for all :math:`x`.

params = dict(hidden_layer_sizes=(16, 16), activation="tanh", solver="lbfgs",
              alpha=1e-4, tol=1e-3, max_iter=2000, random_state=0)
models = {
    "constant variance": GaussianMLPRegressor(variance="constant", **params),
    "heteroscedastic (beta=0)": GaussianMLPRegressor(**params),
    "beta-NLL (beta=0.5)": GaussianMLPRegressor(beta=0.5, **params),
}
for model in models.values():
    model.fit(X[train], y[train])

# %%
# Coverage by region and held-out NLL
# -----------------------------------
#
# A 90% interval should hold 90% of the held-out points in every region of
# :math:`x`, not only on average.

edges = np.linspace(-1.5, 1.5, 7)
region = np.digitize(x[test], edges[1:-1])
coverage_by_region, nll, noisy_rmse = {}, {}, {}
noisy = np.abs(x[test]) > 1.0
for name, model in models.items():
    low, high = model.predict_interval(X[test], coverage=0.9).T
    inside = (y[test] >= low) & (y[test] <= high)
    coverage_by_region[name] = np.array(
        [inside[region == r].mean() for r in range(len(edges) - 1)]
    )
    mean, std = model.predict(X[test], return_std=True)
    nll[name] = gaussian_nll(y[test], mean, std)
    truth = np.sin(3 * x[test]) + x[test] / 2
    noisy_rmse[name] = np.sqrt(np.mean((mean - truth)[noisy] ** 2))
    print(f"{name:>26}: held-out NLL {nll[name]:.3f}  coverage by region "
          f"{np.round(coverage_by_region[name], 2)}  mean RMSE where |x| > 1 "
          f"{noisy_rmse[name]:.3f}")

# %%
# The constant band is too wide in the middle and too narrow at the ends
# (coverage from 0.7 to 1.0); the heteroscedastic networks cover every region
# at 0.85 to 0.94, and their held-out NLL is far lower (0.13 against 0.76).
#
# beta-NLL weights each point's loss by its predicted variance to the power
# beta, which gives the noisy ends back weight in the mean's fit. It matters
# when the NLL lets the mean underfit there; this network has the capacity to
# fit the mean everywhere, and beta=0.5 does not improve it (its RMSE where
# :math:`|x| > 1` is higher in this run, 0.14 against 0.10) while its NLL and
# coverage are about those of beta=0. Try a smaller network, or ``solver=
# "adam"`` with few epochs, to see the regime where it helps.

grid = np.linspace(-1.5, 1.5, 300)[:, None]
fig, axes = plt.subplots(1, 3, figsize=(12, 3.8), sharey=True)
for ax, (name, model) in zip(axes, models.items(), strict=True):
    mean = model.predict(grid)
    low, high = model.predict_interval(grid, coverage=0.9).T
    ax.scatter(x[test], y[test], s=3, color="0.6")
    ax.fill_between(grid[:, 0], low, high, alpha=0.3, label="90% interval")
    ax.plot(grid[:, 0], mean, color="C3", label="mean")
    ax.set_title(name)
    ax.set_xlabel("x")
axes[0].set_ylabel("y")
axes[0].legend(loc="upper left")
fig.tight_layout()

fig, ax = plt.subplots(figsize=(6, 3.5))
centres = (edges[:-1] + edges[1:]) / 2
for k, (name, coverage) in enumerate(coverage_by_region.items()):
    ax.bar(centres + (k - 1) * 0.15, coverage, width=0.15, label=name)
ax.axhline(0.9, color="k", ls="--")
ax.set_xlabel("region of x")
ax.set_ylabel("held-out coverage of the 90% interval")
ax.set_ylim(0.5, 1.02)
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()
