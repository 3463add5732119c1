r"""The linear model's change of variables, and the feature moments it needs.

The solver works on :math:`\theta = (W', b')` with

.. math::

    W = W' M, \qquad b = b' - W \mu ,

where :math:`\mu` holds the (weighted) feature means when there is an
intercept and :math:`M` is either :math:`\operatorname{diag}(1 /
\mathrm{std}(x_j))` or the whitening :math:`(\Sigma + \alpha I)^{-1/2}`:
the model fitted on standardised (or whitened) features, written without
ever copying, centring or densifying ``X``. Any centre and any positive
definite :math:`M` leave the optimum where it is; only the conditioning of
the problem the solver sees changes.
"""

import numpy as np
import scipy.sparse as sp

from ._kernels import row_blocks


class ChangeOfVariables:
    r""":math:`W = W' M`, :math:`b = b' - W \mu`, with :math:`M` diagonal or full.

    Parameters
    ----------
    x_mean : ndarray of shape (n_features,)
        The centre :math:`\mu` (zeros without an intercept).
    x_scale : ndarray of shape (n_features,)
        The diagonal of :math:`M` (ones under whitening; 0 holds a feature's
        coefficient at zero, see :func:`choose_change_of_variables`).
    whitener, whitener_inv : ndarray of shape (n_features, n_features) or None
        The symmetric whitening :math:`M` and its inverse.
    mean_over_std : float
        :math:`\max_j |\mu_j| / \mathrm{std}_j`: how much centring amplifies
        the rounding of uncentred products (``inf`` when unknown).
    inverse_std : ndarray of shape (n_features,) or None
        :math:`1 / \mathrm{std}_j` (1 for a constant feature, 0 for one that
        ``M`` holds at zero): the units in which the stopping rule measures
        the coefficients' gradient
        (:meth:`skdiv._model.LinearModel.gradient_norm`). None is
        ``x_scale`` (the diagonal scaling is exactly that).
    """

    def __init__(self, x_mean, x_scale, whitener=None, whitener_inv=None,
                 mean_over_std=0.0, inverse_std=None):
        self.x_mean = np.asarray(x_mean, dtype=np.float64)
        self.x_scale = np.asarray(x_scale, dtype=np.float64)
        self.whitener = whitener
        self.whitener_inv = whitener_inv
        self.mean_over_std = mean_over_std
        self.inverse_std = self.x_scale if inverse_std is None else inverse_std

    @classmethod
    def identity(cls, n_features):
        return cls(np.zeros(n_features), np.ones(n_features))

    @classmethod
    def from_tuple(cls, fixed):
        """From :meth:`as_tuple` of another model: the same solver coordinates."""
        x_mean, x_scale, whitener, whitener_inv = fixed
        x_mean = np.array(x_mean, dtype=np.float64)
        # The std is not part of the tuple: rounding amplification unknown.
        mean_over_std = np.inf if x_mean.any() else 0.0
        return cls(x_mean, np.array(x_scale, dtype=np.float64), whitener,
                   whitener_inv, mean_over_std)

    def as_tuple(self):
        return self.x_mean, self.x_scale, self.whitener, self.whitener_inv

    @property
    def is_diagonal(self):
        return self.whitener is None

    def to_coef(self, coef_solver):
        """:math:`W = W' M`."""
        if self.whitener is not None:
            return coef_solver @ self.whitener
        return coef_solver * self.x_scale

    def to_solver(self, coef):
        """:math:`W' = W M^{-1}` (0 where ``M`` holds a feature at zero)."""
        if self.whitener is not None:
            return coef @ self.whitener_inv
        scale = self.x_scale
        return np.divide(coef, scale, out=np.zeros(np.shape(coef)), where=scale != 0)


# "auto" whitens only features whose standard deviations span less than this
# factor.
MAX_WHITEN_SPREAD = 1e4


def choose_change_of_variables(precondition, n_features, fit_intercept, alpha,
                               moments, constant_columns=None):
    """The change of variables for ``precondition``.

    ``M`` is ``diag(1 / std)`` (``"diagonal"``), or the symmetric
    ``(Cov + alpha I)^(-1/2)`` (``"whiten"``), computed from one
    eigendecomposition of the ``d x d`` covariance; the floor ``alpha``
    (plus a tiny relative one) keeps ``M`` bounded when features are
    redundant and ``Cov`` is singular. ``"auto"`` whitens when the
    covariance is cheap next to the fit (``n_features <= 1000``) and the
    features' standard deviations span less than :data:`MAX_WHITEN_SPREAD`
    (the floor, relative to the largest eigenvalue, would leave features
    many orders of magnitude smaller unscaled; the diagonal scaling has no
    such floor). A tuple
    is a fixed change of variables (:meth:`ChangeOfVariables.as_tuple`).
    The data enter only through ``moments(matrix) -> (mean, second)``
    (see :func:`feature_moments`) and, for in-memory data,
    ``constant_columns(candidates) -> (constant, values)``
    (:func:`constant_columns`).

    With an intercept and no penalty, a feature that holds one nonzero value
    in every row is the intercept's column times that value. Centred by its
    mean, it is rounding noise, which the whitening's floor (or ``1 /
    std``) amplifies, and with nothing else to give its coordinate
    curvature the solver chased that noise (coefficients of 1e8 that the
    intercept cancelled, the fit's signal lost). Such a feature gets a zero
    row and column in ``M`` instead: its coefficient is held at zero and
    the intercept takes its part, which is an optimum. (With ``alpha > 0``
    the penalty gives the coordinate a curvature of about 1, through the
    floor, and its optimum is zero anyway.) Candidates are features whose
    spread on the moments' rows is within ``1e-6`` of their mean; each is
    checked on every row.
    """
    if precondition is True:
        precondition = "auto"
    if isinstance(precondition, tuple):
        return ChangeOfVariables.from_tuple(precondition)
    if precondition in (False, None, "none"):
        return ChangeOfVariables.identity(n_features)
    auto = precondition == "auto"
    if auto:
        precondition = "whiten" if n_features <= 1000 else "diagonal"
    mean, second = moments(precondition == "whiten")
    centre = mean if fit_intercept else np.zeros(n_features)
    variance = np.diag(second) - mean**2 if precondition == "whiten" else second
    constant = np.zeros(n_features, dtype=bool)
    if fit_intercept and not alpha and constant_columns is not None:
        suspect = (np.sqrt(np.maximum(variance, 0.0)) <= 1e-6 * np.abs(mean)) & (
            mean != 0
        )
        if suspect.any():
            constant, values = constant_columns(suspect)
            centre = np.where(constant, values, centre)
    if precondition == "whiten":
        cov = second - np.outer(centre, mean) - np.outer(mean, centre)
        cov += np.outer(centre, centre)
        std = np.sqrt(np.maximum(np.diag(cov), 0.0))
        varying = std[~(_constant(std, mean) | constant)]
        if auto and varying.size and varying.max() > MAX_WHITEN_SPREAD * varying.min():
            precondition, second = "diagonal", std**2
    if precondition == "whiten":
        whitener, whitener_inv = _whitener(cov, alpha, ~constant)
        inverse_std = _inverse_std(np.sqrt(np.maximum(np.diag(cov), 0.0)), mean)
        return ChangeOfVariables(
            centre, np.ones(n_features), whitener, whitener_inv,
            inverse_std=np.where(constant, 0.0, inverse_std),
        )
    std = np.sqrt(second)
    inverse_std = _inverse_std(std, mean)
    # 1 / sqrt(var + alpha): the penalty's curvature on a solver coefficient,
    # alpha / (var + alpha), stays at most 1 however small the feature (the
    # whitening's floor does the same), so that first-order solvers are not
    # held up by features many orders of magnitude below the others.
    x_scale = inverse_std if not alpha else _inverse_std(np.sqrt(second + alpha), mean)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where((centre != 0) & ~constant, np.abs(centre) / std, 0.0)
    return ChangeOfVariables(
        centre, np.where(constant, 0.0, x_scale),
        mean_over_std=float(np.max(ratio, initial=0.0)),
        inverse_std=np.where(constant, 0.0, inverse_std),
    )


def _whitener(cov, alpha, varying):
    """``(Cov + floor)^(-1/2)`` and its inverse on the ``varying`` features.

    Zero rows and columns for the others. The floor is ``alpha`` plus 1e-10
    of the largest eigenvalue.
    """
    if not varying.all():
        whitener, whitener_inv = (np.zeros_like(cov) for _ in range(2))
        block = np.ix_(varying, varying)
        if varying.any():
            whitener[block], whitener_inv[block] = _whitener(
                cov[block], alpha, np.ones(int(varying.sum()), dtype=bool)
            )
        return whitener, whitener_inv
    eigval, eigvec = np.linalg.eigh((cov + cov.T) / 2)
    floor = alpha + 1e-10 * max(eigval.max(), 1e-300)
    eigval = np.maximum(eigval, 0.0) + floor
    return (eigvec / np.sqrt(eigval)) @ eigvec.T, (eigvec * np.sqrt(eigval)) @ eigvec.T


def constant_columns(X, candidates):
    """Which ``candidates`` columns of in-memory ``X`` hold one value in every row.

    Returns ``(constant, values)``, both of shape ``(n_features,)``: a
    boolean mask and each constant column's value (0 elsewhere). Only the
    candidates are read (usually none).
    """
    constant = np.zeros(X.shape[1], dtype=bool)
    values = np.zeros(X.shape[1])
    index = np.flatnonzero(candidates)
    if index.size and X.shape[0]:
        columns = X[:, index]
        columns = columns.toarray() if sp.issparse(columns) else np.asarray(columns)
        first = columns[0]
        same = (columns == first).all(axis=0)
        constant[index[same]] = True
        values[index[same]] = first[same]
    return constant, values


def _constant(std, mean):
    """Which features are constant: a spread within rounding of their own size.

    Each feature against its own mean, not against a fixed floor or the
    other features': features in small units (all of ``X`` times 1e-13, say)
    vary as much as any, and a floor of 1e-12 once took them all for
    constants, which left an intercept-only model.
    """
    return std <= 1e-12 * np.abs(mean)


def _inverse_std(std, mean):
    """``1 / std``, with 1 for a constant column: nothing to gain, nothing to break."""
    return np.where(_constant(std, mean), 1.0, 1.0 / np.where(std > 0, std, 1.0))


def feature_moments(X, sample_weight, weight_sum, matrix, stride=1):
    """Weighted feature means and second moments of in-memory ``X``.

    Returns ``(mean, second)``: ``second`` is the uncentred
    :math:`\\sum_i s_i x_i x_i^\\top / \\sum_i s_i` (``d x d``) when
    ``matrix``, else the weighted variance of each feature. Dense ``X``
    takes them from the rows ``X[::stride]`` (any centre and any positive
    definite ``M`` give the same optimum, and a tall problem's subsampled
    Hessian uses those rows anyway).
    """
    weights = None if sample_weight is None else sample_weight / weight_sum
    if sp.issparse(X):
        # Products with a weight vector: one pass over the nonzeros each.
        X = X.tocsr()
        if weights is None:
            weights = np.full(X.shape[0], 1.0 / X.shape[0])
        mean = np.asarray(X.T @ weights, dtype=np.float64)
        if matrix:
            Xw = X.multiply(weights[:, None]).tocsr()
            return mean, np.asarray((X.T @ Xw).toarray(), dtype=np.float64)
        if not X.has_canonical_format:
            X = X.copy()
            X.sum_duplicates()
        square = sp.csr_matrix((X.data**2, X.indices, X.indptr), shape=X.shape)
        second = np.asarray(square.T @ weights, dtype=np.float64)
        return mean, np.maximum(second - mean**2, 0.0)
    if stride > 1:
        X = X[::stride]
        if weights is not None:
            weights = weights[::stride]
            weights = weights / weights.sum()
    n_samples, n_features = X.shape
    unweighted = weights is None
    if unweighted:
        weights = np.full(n_samples, 1.0 / n_samples)
    mean = np.asarray(X.T @ weights.astype(X.dtype), dtype=np.float64)
    # Row blocks bound the temporaries whatever n_samples: a weighted copy of
    # all of X would double the fit's memory.
    second = np.zeros((n_features, n_features) if matrix else n_features)
    for rows in row_blocks(n_samples, n_features):
        block = X[rows]
        w = weights[rows, None]
        if matrix and unweighted:
            second += block.T @ block
        elif matrix:
            second += block.T @ (block * w.astype(X.dtype))
        else:
            second += ((block - mean) ** 2 * w).sum(axis=0)
    if matrix and unweighted:
        second /= n_samples
    return mean, second
