#!/usr/bin/env python3
"""test/reference/make_collinear_reference.py — the scikit-learn reference numbers that
test/unit/learn-lasso-collinear.test.ts checks src-main/learn/linear.ts against on collinear,
embedding-shaped data (the case where cyclic coordinate descent crawls).

Writes, next to each other in test/fixtures/learn/:
  collinear_456x320.npz      X float32 [456, 320], y float64 [456], folds int64 [456]
  collinear_reference.json   per outer fold: LassoCV test R², chosen alpha and its index on the
                             grid, non-zeros, sweeps of the refit, the fold-averaged MSE path and how
                             many path solves scikit-learn left unconverged (max_iter reached); plus
                             one Lasso at the smallest grid alpha on the training rows of fold 0
                             (its objective, duality gap and sweeps), and the versions used

The problem has the shape and spectrum of mean embeddings of a mutation scan (456 variants of one
protein × 320 dimensions, ESM-2 8M's width): X = Z·diag(s)·Vᵀ + offsets, with Z Gaussian, V a
random orthogonal matrix and singular values s falling 300× over the first 300 dimensions
(log-linearly), then 10× per 4 dimensions for the last 20; standard scaling (per feature) turns
that into the ≈ 600× fall seen on real embeddings (the script prints σ₁/σ₃₀₀ of the scaled X). The target depends on the 20 leading
latent directions plus noise. Everything is deterministic (numpy default_rng(14)); X is rounded to
float32 before anything is fitted, so the fixture holds exactly what scikit-learn saw.

Per outer fold k (contiguous blocks of a fixed permutation): StandardScaler fitted on the training
rows, then LassoCV(cv=5, n_alphas=100, eps=1e-3, tol=1e-4, max_iter=1000) — scikit-learn's
defaults — scored by R² on the scaled test rows.

Run with Debian's Python (python3-sklearn):  /usr/bin/python3 test/reference/make_collinear_reference.py
(about a minute: scikit-learn reaches max_iter on most of the path).
"""
import json
import os
import platform
import warnings

import numpy as np
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso, LassoCV
from sklearn.metrics import r2_score
from sklearn.preprocessing import StandardScaler

N_ROWS, N_FEATURES, N_FOLDS, N_SIGNAL = 456, 320, 5, 20
FALL, FALL_DIMS = 300.0, 300
NOISE_SD = 1.0
LASSO = dict(cv=5, n_alphas=100, eps=1e-3, tol=1e-4, max_iter=1000)

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "fixtures", "learn")


def make_problem():
    rng = np.random.default_rng(14)
    k = np.arange(N_FEATURES)
    s = np.where(k < FALL_DIMS, FALL ** (-k / (FALL_DIMS - 1)), FALL ** -1 * 10.0 ** (-(k - FALL_DIMS + 1) / 4))
    z = rng.standard_normal((N_ROWS, N_FEATURES))
    v, _ = np.linalg.qr(rng.standard_normal((N_FEATURES, N_FEATURES)))
    offset = rng.normal(0.0, 1.0, N_FEATURES)
    X = ((z * s) @ v.T + offset).astype(np.float32)
    signal = z[:, :N_SIGNAL] @ rng.normal(0.0, 1.0, N_SIGNAL) / np.sqrt(N_SIGNAL)
    y = 2.0 + signal + NOISE_SD * rng.standard_normal(N_ROWS)
    folds = np.empty(N_ROWS, dtype=np.int64)
    folds[rng.permutation(N_ROWS)] = np.arange(N_ROWS) * N_FOLDS // N_ROWS
    return X, y, folds


def scaled_fold(X, y, folds, k):
    train, test = np.where(folds != k)[0], np.where(folds == k)[0]
    scaler = StandardScaler().fit(X[train])
    return scaler.transform(X[train]), y[train], scaler.transform(X[test]), y[test]


def fit_fold(X, y, folds, k):
    x_train, y_train, x_test, y_test = scaled_fold(X, y, folds, k)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        lasso = LassoCV(**LASSO).fit(x_train, y_train)
    unconverged = sum(issubclass(w.category, ConvergenceWarning) for w in caught)
    index = int(np.flatnonzero(lasso.alphas_ == lasso.alpha_)[0])
    return {
        "fold": k,
        "n_train": int(y_train.size),
        "n_test": int(y_test.size),
        "r2": r2_score(y_test, lasso.predict(x_test)),
        "alpha": float(lasso.alpha_),
        "alpha_index": index,
        "alpha_max": float(lasso.alphas_[0]),
        "n_nonzero": int(np.count_nonzero(lasso.coef_)),
        "n_iter": int(lasso.n_iter_),
        "unconverged_solves": unconverged,
        "mse_path_mean": lasso.mse_path_.mean(axis=1).tolist(),
    }


def smallest_alpha_lasso(X, y, folds, alpha_max):
    """One Lasso at the bottom of fold 0's grid, from zero: scikit-learn stops at max_iter."""
    x_train, y_train, _, _ = scaled_fold(X, y, folds, 0)
    alpha = alpha_max * LASSO["eps"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        lasso = Lasso(alpha=alpha, tol=LASSO["tol"], max_iter=LASSO["max_iter"]).fit(x_train, y_train)
    residual = y_train - lasso.predict(x_train)
    objective = residual @ residual / (2 * y_train.size) + alpha * np.abs(lasso.coef_).sum()
    return {
        "alpha": alpha,
        "objective": float(objective),
        "dual_gap": float(lasso.dual_gap_),
        "gap_tolerance": float(LASSO["tol"] * ((y_train - y_train.mean()) ** 2).sum() / y_train.size),
        "n_iter": int(lasso.n_iter_),
    }


def main():
    X, y, folds = make_problem()
    os.makedirs(OUT, exist_ok=True)
    np.savez_compressed(os.path.join(OUT, "collinear_456x320.npz"), X=X, y=y, folds=folds)
    X64 = X.astype(np.float64)
    sv = np.linalg.svd(StandardScaler().fit_transform(X64), compute_uv=False)
    fold_results = [fit_fold(X64, y, folds, k) for k in range(N_FOLDS)]
    reference = {
        "generated_by": "test/reference/make_collinear_reference.py",
        "sklearn_version": sklearn.__version__,
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
        "problem": {
            "rows": N_ROWS, "features": N_FEATURES, "folds": N_FOLDS, "fall": FALL, "fall_dims": FALL_DIMS,
            "signal_dims": N_SIGNAL, "noise_sd": NOISE_SD, "scaled_sv_ratio_300": float(sv[0] / sv[FALL_DIMS - 1]),
        },
        "lasso_params": LASSO,
        "folds": fold_results,
        "smallest_alpha": smallest_alpha_lasso(X64, y, folds, fold_results[0]["alpha_max"]),
    }
    with open(os.path.join(OUT, "collinear_reference.json"), "w") as f:
        json.dump(reference, f, indent=1)
        f.write("\n")
    print(f"scaled X: sigma_1 / sigma_300 = {sv[0] / sv[FALL_DIMS - 1]:.0f}")
    for fold in fold_results:
        print(f"fold {fold['fold']}: R2 {fold['r2']:.4f} alpha {fold['alpha']:.4g} (index {fold['alpha_index']})"
              f" nnz {fold['n_nonzero']}, {fold['unconverged_solves']} of {5 * LASSO['n_alphas']} path solves unconverged")
    small = reference["smallest_alpha"]
    print(f"smallest alpha {small['alpha']:.4g}: objective {small['objective']:.6g}, gap {small['dual_gap']:.3g}"
          f" (tolerance {small['gap_tolerance']:.3g}), {small['n_iter']} sweeps")


if __name__ == "__main__":
    main()
