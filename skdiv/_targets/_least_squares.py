"""The closed-form start of the regressor: penalised weighted least squares."""

import numpy as np
import scipy.linalg
import scipy.linalg.lapack
import scipy.sparse as sp

from .._model._kernels import row_blocks


def ridge_normal_equations(X, target, sample_weight, x_mean, alpha):
    r"""Penalised weighted least squares for dense, tall ``X``, without copying it.

    Solves :math:`(X_c^\top S X_c + \lambda I) w = X_c^\top S t` with
    :math:`X_c = X - \bar x`, :math:`\lambda = \alpha \sum_i s_i`, the Gram
    matrix accumulated over centred row blocks and factored by Cholesky when
    :math:`\lambda > 0`, by ``eigh`` otherwise (pseudo-inverse when
    :math:`X_c` is rank deficient, giving the minimum-norm solution as
    ``LinearRegression``, with the rank decided whatever the features'
    units: :func:`_minimum_norm_solver`). One
    step of iterative refinement on the true residual recovers the digits
    that forming the Gram matrix loses.
    """
    n_samples, n_features = X.shape
    sw_sum = sample_weight.sum()
    gram = np.zeros((n_features, n_features))
    for rows in row_blocks(n_samples, n_features):
        # Centred block by block: X^T S X - S mean mean^T cancelled every
        # digit for features of large mean (X + 1e8: coefficients off by 1).
        block = X[rows] - x_mean
        gram += block.T @ (block * sample_weight[rows, None])
    gram = (gram + gram.T) / 2
    solve = _normal_solver(gram, alpha * sw_sum, n_samples)

    def normal_residual(coef):
        residual = sample_weight * (target - (X @ coef - x_mean @ coef))
        return X.T @ residual - x_mean * residual.sum() - alpha * sw_sum * coef

    coef = solve(normal_residual(np.zeros(n_features)))
    return coef + solve(normal_residual(coef))


def _minimum_norm_solver(gram, n_samples):
    r"""``solve(rhs)``: the minimum-norm solution of ``gram @ w = rhs``.

    The rank is decided on the equilibrated matrix :math:`D G D`, :math:`D
    = \mathrm{diag}(G_{jj})^{-1/2}`, so that it does not depend on the
    features' units: on :math:`G` itself a feature 1e7 times smaller than
    the others has an eigenvalue 1e14 times smaller, below the cutoff of
    :math:`\epsilon\, n \lambda_{\max}`, and was dropped (the fitted mean
    ignored it). The directions below the cutoff on :math:`D G D`
    (collinear features), mapped back as :math:`N = D V_0`, are then
    projected out in the features' own units, which gives the minimum-norm
    solution that ``LinearRegression`` and ``scipy.linalg.lstsq`` give.
    """
    diagonal = np.diag(gram)
    scale = np.where(diagonal > 0, 1.0 / np.sqrt(np.where(diagonal > 0, diagonal, 1.0)),
                     0.0)
    eigval, eigvec = np.linalg.eigh(gram * np.outer(scale, scale))
    cutoff = np.finfo(np.float64).eps * n_samples * max(eigval.max(initial=0.0), 0.0)
    kept = eigval > cutoff
    inverse = 1.0 / eigval[kept]
    basis = scale[:, None] * eigvec[:, kept]
    # The null space in the features' units: the equilibrated null vectors
    # scaled back, and the zero columns (no variation at all). A null vector
    # lives on the collinear features; its rounding on the others (1e-16),
    # scaled back by a small feature's 1 / std and met by that feature's
    # large coefficient, would move the projection by far more than that.
    null_vectors = eigvec[:, ~kept]
    null_vectors[np.abs(null_vectors) < 1e-8 * np.abs(null_vectors).max(
        axis=0, initial=0.0)] = 0.0
    null = np.column_stack([scale[:, None] * null_vectors,
                            np.eye(gram.shape[0])[:, diagonal <= 0]])
    # A zero column's own null vector scales back to zero (its scale is 0;
    # the identity's column stands for it): QR would turn that zero column
    # into an arbitrary unit vector, and project a feature's coefficient out.
    null = null[:, np.abs(null).max(axis=0, initial=0.0) > 0]
    null = np.linalg.qr(null)[0] if null.shape[1] else null

    def solve(rhs):
        coef = basis @ (inverse * (basis.T @ rhs))
        return coef - null @ (null.T @ coef)

    return solve


def _cholesky_solver(matrix):
    """``solve(rhs)`` by the Cholesky factor of ``matrix``, or None if it fails.

    For the penalised Gram matrix, positive definite (its least eigenvalue
    is at least the penalty): a factorisation and two triangular solves,
    cheaper than ``eigh``. None (not numerically positive definite) hands
    over to the eigendecomposition.
    """
    factor, info = scipy.linalg.lapack.dpotrf(matrix, lower=True, clean=True)
    if info != 0:
        return None

    def solve(rhs):
        return scipy.linalg.lapack.dpotrs(factor, rhs, lower=True)[0]

    return solve


def ridge_dual(X, target, sample_weight, x_mean, alpha):
    r"""Penalised weighted least squares for wide ``X`` (fewer rows than columns).

    The same solution as :func:`ridge_normal_equations`, from the ``n x n``
    kernel instead of the ``p x p`` Gram matrix: with :math:`Z = S^{1/2}
    X_c` and :math:`u = S^{1/2} t`,

    .. math::

        w = Z^\top a, \qquad (Z Z^\top + \lambda I)\, a = u ,

    :math:`\lambda = \alpha \sum_i s_i`. The kernel is factored by ``eigh``
    (pseudo-inverse when :math:`\lambda = 0`, giving the minimum-norm
    solution, as ``LinearRegression`` and ``scipy.linalg.lstsq``; centring
    makes :math:`S^{1/2} 1` a null vector of the kernel, which is lifted
    out of the way exactly). Dense ``X`` is
    centred and weighted once (a copy of its ``n x p`` size); sparse ``X``
    never is: the kernel is :math:`X X^\top` corrected for the centre,
    except for the features of large mean, centred as dense columns
    (:func:`_dense_centred_columns`). One
    step of iterative refinement, with products through ``X`` itself,
    recovers the digits that forming the kernel loses.
    """
    n_samples = X.shape[0]
    root_w = np.sqrt(sample_weight)
    penalty = alpha * sample_weight.sum()
    if sp.issparse(X):
        squares = np.asarray(X.multiply(X).T @ sample_weight).ravel()
        is_dense, columns = _dense_centred_columns(
            X, sample_weight, x_mean, squares - sample_weight.sum() * x_mean**2
        )
        # The features of large mean are taken out of the sparse kernel and
        # added back centred (see _dense_centred_columns).
        sparse_x = X @ sp.diags((~is_dense).astype(np.float64)) if columns.size else X
        sparse_mean = np.where(is_dense, 0.0, x_mean)
        x_centre = np.asarray(sparse_x @ sparse_mean).ravel()
        kernel = np.asarray((sparse_x @ sparse_x.T).toarray(), dtype=np.float64)
        kernel -= x_centre[:, None] + x_centre[None, :] - sparse_mean @ sparse_mean
        if columns.size:
            kernel += columns @ columns.T
        kernel *= root_w[:, None] * root_w[None, :]

        def to_coef(a):
            weighted_a = root_w * a
            coef = (np.asarray(X.T @ weighted_a).ravel()
                    - x_mean * weighted_a.sum())
            coef[is_dense] = columns.T @ weighted_a
            return coef

        def to_rows(coef):
            sparse_coef = np.where(is_dense, 0.0, coef)
            rows = np.asarray(X @ sparse_coef).ravel() - x_mean @ sparse_coef
            return root_w * (rows + columns @ coef[is_dense])
    else:
        design = (X - x_mean) * root_w[:, None]
        kernel = design @ design.T

        def to_coef(a):
            return design.T @ a

        def to_rows(coef):
            return design @ coef

    kernel[np.diag_indices_from(kernel)] += penalty
    if x_mean.any():
        # Centring's null vector S^(1/2) 1 is known exactly: lift it to the
        # top of the spectrum instead of leaving its rounded eigenvalue to
        # the cutoff. Z^T and u are orthogonal to it: the solution is the same.
        null = root_w / np.linalg.norm(root_w)
        kernel += np.trace(kernel) * np.outer(null, null)
    eigval, eigvec = np.linalg.eigh((kernel + kernel.T) / 2)
    cutoff = np.finfo(np.float64).eps * n_samples * max(eigval.max(), 0.0)
    inverse = np.where(eigval > cutoff, 1.0 / np.where(eigval > 0, eigval, 1.0), 0.0)

    def solve(rhs):
        return eigvec @ (inverse * (eigvec.T @ rhs))

    rhs = root_w * target
    dual = solve(rhs)
    dual = dual + solve(rhs - to_rows(to_coef(dual)) - penalty * dual)
    return to_coef(dual)


# Features whose mean exceeds their spread by more than this factor are
# centred as dense columns: below it the Gram matrix's - S mean mean^T loses
# at most four digits, which the step of refinement recovers.
_SPARSE_CENTRING_RATIO = 1e2


def _dense_centred_columns(X, sample_weight, x_mean, centred_squares):
    r"""The features of sparse ``X`` to centre as dense columns, and those columns.

    ``centred_squares`` are :math:`\sum_i s_i (x_{ij} - \bar x_j)^2`, from
    uncentred moments: accurate enough to tell a mean 1e2 times the spread
    (wrong only where the cancellation is far worse, which the test then
    also flags). For those features :math:`X^\top S X - S_\Sigma \bar x
    \bar x^\top` cancels the digits the centred moments hold (every one at
    a mean :math:`10^8` times the spread). Such a feature is nonzero in
    nearly every row (a fraction :math:`f` of nonzeros bounds :math:`\bar
    x^2 / \sigma^2` by :math:`f / (1 - f)`), so its dense column is no
    larger than its sparse storage. It is centred as the Dask closed form
    is, by one of its rows first (exact for values within a factor two of
    each other), then by the weighted mean of what is left, so that a
    constant feature is exactly zero.

    Returns ``(is_dense, columns)``: a boolean mask over the features and
    the ``n x k`` centred columns (``k`` may be zero).
    """
    is_dense = (sample_weight.sum() * x_mean**2
                > _SPARSE_CENTRING_RATIO**2 * centred_squares)
    columns = X[:, np.flatnonzero(is_dense)].toarray()
    if columns.size:
        columns -= columns[0]
        columns -= (sample_weight @ columns) / sample_weight.sum()
    return is_dense, columns


def sparse_normal_equations(X, target, sample_weight, x_mean, alpha):
    r"""Penalised weighted least squares for sparse, tall ``X``, never densified.

    Solves the system of :func:`ridge_normal_equations`. The Gram matrix is
    :math:`X^\top S X - S_\Sigma \bar x \bar x^\top`, from sparse products,
    except for the features whose mean exceeds their spread
    :math:`10^2` times, whose rows and columns are formed from the features
    centred as dense columns (:func:`_dense_centred_columns`). One step of
    iterative refinement on the true residual, with the same centring,
    recovers the digits that forming the Gram matrix loses.
    """
    n_features = X.shape[1]
    sw_sum = sample_weight.sum()
    weighted_x = X.multiply(sample_weight[:, None]).tocsr()
    gram = np.asarray((X.T @ weighted_x).toarray(), dtype=np.float64)
    gram -= sw_sum * np.outer(x_mean, x_mean)
    # The centred variances come from the same matrix: free.
    is_dense, columns = _dense_centred_columns(X, sample_weight, x_mean, np.diag(gram))
    dense = np.flatnonzero(is_dense)
    if dense.size:
        cross = np.asarray(X.T @ (columns * sample_weight[:, None]))
        cross -= np.outer(x_mean, sample_weight @ columns)
        cross[dense] = columns.T @ (columns * sample_weight[:, None])
        gram[:, dense] = cross
        gram[dense] = cross.T
    gram = (gram + gram.T) / 2
    solve = _normal_solver(gram, alpha * sw_sum, X.shape[0])

    def normal_residual(coef):
        sparse_coef = np.where(is_dense, 0.0, coef)
        fitted = np.asarray(X @ sparse_coef).ravel() - x_mean @ sparse_coef
        residual = sample_weight * (target - fitted - columns @ coef[dense])
        normal = np.asarray(X.T @ residual).ravel() - x_mean * residual.sum()
        normal[dense] = columns.T @ residual
        return normal - alpha * sw_sum * coef

    coef = solve(normal_residual(np.zeros(n_features)))
    return coef + solve(normal_residual(coef))


def solve_centred_normal_equations(gram, rhs, x_mean, y_mean, sw_sum, alpha,
                                   n_samples):
    r"""Penalised least squares from uncentred weighted moments.

    ``gram`` is :math:`X^\top S X` and ``rhs`` :math:`X^\top S y`; centring
    is applied to them (:math:`- S_\Sigma \bar x \bar x^\top` and
    :math:`- S_\Sigma \bar x \bar y`, :math:`S_\Sigma = \sum_i s_i`), so the
    data are never centred. ``alpha > 0`` solves the positive-definite
    system with :math:`\alpha S_\Sigma` added to the diagonal; ``alpha == 0``
    takes the least-squares (minimum-norm) solution (:func:`_normal_solver`,
    of ``n_samples`` rows). Used on reductions over row blocks, for Dask
    arrays.

    Returns ``(coef, intercept)``.
    """
    # Divided by S: the same solution, and a penalty alpha that cannot
    # overflow as alpha * S can (Dask reductions of large weights).
    gram = gram / sw_sum - np.outer(x_mean, x_mean)
    rhs = rhs / sw_sum - x_mean * y_mean
    coef = _normal_solver(gram, alpha, n_samples)(rhs)
    return coef, y_mean - float(x_mean @ coef)


def _normal_solver(gram, penalty, n_samples):
    """``solve(rhs)`` for the normal equations ``(gram + penalty I) w = rhs``.

    The one rule of the closed forms (dense, sparse, Dask): by Cholesky when
    ``penalty > 0`` and the factorisation succeeds, else the minimum-norm
    solution with the rank decided on the equilibrated matrix
    (:func:`_minimum_norm_solver`). ``scipy.linalg.lstsq`` decides it on the
    matrix itself, and without an intercept a feature of mean 1e8 hid the
    others (their coefficients came out 0). ``gram`` gets the penalty in
    place.
    """
    gram.flat[:: gram.shape[0] + 1] += penalty
    solve = _cholesky_solver(gram) if penalty > 0 else None
    return solve if solve is not None else _minimum_norm_solver(gram, n_samples)


def penalised_least_squares(X, y, sample_weight, alpha, fit_intercept):
    r"""Closed-form minimiser of the penalised weighted squared error.

    Minimises :math:`\frac{1}{2S}\sum_i s_i (y_i - x_i w - b)^2 +
    \frac{\alpha}{2}\lVert w \rVert^2` with :math:`S = \sum_i s_i`, i.e.
    ``Ridge(alpha=alpha * S)``. Wide ``X`` (fewer rows than columns, dense
    or sparse): the ``n x n`` kernel form, :func:`ridge_dual`, so that no
    ``p x p`` matrix is ever formed. Dense, tall ``X`` (at least four rows
    per feature): normal equations, see :func:`ridge_normal_equations`.
    Other dense ``X``: least squares on the augmented,
    weighted, centred system (minimum-norm solution when ``alpha == 0``, as
    ``LinearRegression``). Other sparse ``X``: normal equations built with
    sparse products, centring applied to the Gram matrix except for the
    features of large mean, so ``X`` is never densified
    (:func:`sparse_normal_equations`).

    Returns ``(coef, intercept)``.
    """
    n_features = X.shape[1]
    # Weights summing to one give the same minimiser, and keep the penalty
    # alpha * S finite: with sample weights of 1e300 and alpha=1e7 it
    # overflowed and the coefficients came out NaN.
    sample_weight = sample_weight / sample_weight.sum()
    sw_sum = sample_weight.sum()
    if fit_intercept:
        x_mean = np.asarray(X.T @ sample_weight).ravel() / sw_sum
        y_mean = float(sample_weight @ y) / sw_sum
    else:
        x_mean = np.zeros(n_features)
        y_mean = 0.0
    if n_features == 0:
        return np.zeros(0), y_mean
    if X.shape[0] < n_features:
        coef = ridge_dual(X, y - y_mean, sample_weight, x_mean, alpha)
        return coef, y_mean - float(x_mean @ coef)
    if sp.issparse(X):
        coef = sparse_normal_equations(X, y - y_mean, sample_weight, x_mean, alpha)
        return coef, y_mean - float(x_mean @ coef)
    if X.shape[0] >= 4 * n_features:
        coef = ridge_normal_equations(X, y - y_mean, sample_weight, x_mean, alpha)
    else:
        root_w = np.sqrt(sample_weight)
        design = (X - x_mean) * root_w[:, None]
        target = (y - y_mean) * root_w
        if alpha > 0:
            design = np.vstack([design, np.sqrt(alpha * sw_sum) * np.eye(n_features)])
            target = np.concatenate([target, np.zeros(n_features)])
        coef = scipy.linalg.lstsq(design, target)[0]
    return coef, y_mean - float(x_mean @ coef)
