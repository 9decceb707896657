#!/usr/bin/env python3
"""test/reference/make_sklearn_reference.py — the scikit-learn reference numbers that
test/unit/learn-regressors.test.ts checks src-main/learn/{linear,ridge}.ts against.

Writes, next to each other in test/fixtures/learn/:
  sparse_2000x320.npz      X float32 [2000, 320], y float64 [2000], folds int64 [2000]
  sklearn_reference.json   per outer fold: LassoCV and RidgeCV test R², chosen alphas, number of
                           non-zero coefficients, coefficients, intercepts, plus the versions used

The problem is deterministic (numpy default_rng(0)): correlated Gaussian features (AR(1) along
the feature axis, rho 0.5) with per-feature scales and offsets, a sparse true signal (10 non-zero
coefficients) and Gaussian noise. X is rounded to float32 *before* anything is fitted, so the
fixture stores exactly the values scikit-learn saw (as float64) and the file stays small.

Per outer fold k (the fold index of every row is written: contiguous blocks of a fixed
permutation): StandardScaler fitted on the training rows, then
  LassoCV(cv=5, n_alphas=100, eps=1e-3, tol=1e-4, max_iter=1000)   # cv=5 is KFold(5), unshuffled
  RidgeCV(alphas=[0.1, 1, 10, 100, 1000])                          # leave-one-out GCV
  ElasticNetCV(l1_ratio=[0.2, 0.7], same settings as the lasso)     # a list of l1 ratios
fitted on the scaled training rows and scored (R²) on the scaled test rows. A "wide" case repeats
LassoCV and RidgeCV on the first 200 training rows of fold 0 (n < p: scikit-learn then solves the
lasso on X rather than its Gram matrix, and RidgeCV eigendecomposes XXᵀ instead of XᵀX).

Run with Debian's Python (python3-sklearn):  /usr/bin/python3 test/reference/make_sklearn_reference.py
"""
import json
import os
import platform

import numpy as np
import sklearn
from sklearn.linear_model import ElasticNetCV, LassoCV, RidgeCV
from sklearn.metrics import r2_score
from sklearn.preprocessing import StandardScaler

N_ROWS, N_FEATURES, N_TRUE, N_FOLDS = 2000, 320, 10, 5
RHO, NOISE_SD = 0.5, 2.0
LASSO = dict(cv=5, n_alphas=100, eps=1e-3, tol=1e-4, max_iter=1000)
RIDGE_ALPHAS = [0.1, 1.0, 10.0, 100.0, 1000.0]
ENET_L1_RATIOS = [0.2, 0.7]

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "fixtures", "learn")


def make_problem():
    rng = np.random.default_rng(0)
    z = rng.standard_normal((N_ROWS, N_FEATURES))
    latent = np.empty_like(z)
    latent[:, 0] = z[:, 0]
    for j in range(1, N_FEATURES):  # AR(1): neighbouring features correlate with rho
        latent[:, j] = RHO * latent[:, j - 1] + np.sqrt(1 - RHO**2) * z[:, j]
    scale = rng.uniform(0.5, 3.0, N_FEATURES)
    offset = rng.normal(0.0, 2.0, N_FEATURES)
    X = (latent * scale + offset).astype(np.float32)
    support = rng.choice(N_FEATURES, N_TRUE, replace=False)
    coef = np.zeros(N_FEATURES)
    coef[support] = rng.choice([-1.0, 1.0], N_TRUE) * rng.uniform(0.5, 2.0, N_TRUE)
    y = 3.0 + latent @ coef + NOISE_SD * rng.standard_normal(N_ROWS)
    # Contiguous blocks of a fixed permutation: row perm[i] is in fold i // (N_ROWS / N_FOLDS).
    folds = np.empty(N_ROWS, dtype=np.int64)
    folds[rng.permutation(N_ROWS)] = np.arange(N_ROWS) // (N_ROWS // N_FOLDS)
    return X, y, folds, np.sort(support)


def fit_fold(X, y, folds, k):
    train, test = np.where(folds != k)[0], np.where(folds == k)[0]
    scaler = StandardScaler().fit(X[train])
    x_train, x_test = scaler.transform(X[train]), scaler.transform(X[test])
    lasso = LassoCV(**LASSO).fit(x_train, y[train])
    ridge = RidgeCV(alphas=RIDGE_ALPHAS).fit(x_train, y[train])
    enet = ElasticNetCV(l1_ratio=ENET_L1_RATIOS, **LASSO).fit(x_train, y[train])
    return {
        "fold": k,
        "n_train": int(train.size),
        "n_test": int(test.size),
        "lasso": {
            "r2": r2_score(y[test], lasso.predict(x_test)),
            "alpha": float(lasso.alpha_),
            "alpha_max": float(lasso.alphas_[0]),
            "alpha_min": float(lasso.alphas_[-1]),
            "n_nonzero": int(np.count_nonzero(lasso.coef_)),
            "dual_gap": float(lasso.dual_gap_),
            "n_iter": int(lasso.n_iter_),
            "intercept": float(lasso.intercept_),
            "coef": lasso.coef_.tolist(),
            "mse_path_mean": lasso.mse_path_.mean(axis=1).tolist(),
        },
        "ridge": {
            "r2": r2_score(y[test], ridge.predict(x_test)),
            "alpha": float(ridge.alpha_),
            "best_score": float(ridge.best_score_),
            "intercept": float(ridge.intercept_),
            "coef": ridge.coef_.tolist(),
        },
        "enet": {
            "r2": r2_score(y[test], enet.predict(x_test)),
            "alpha": float(enet.alpha_),
            "l1_ratio": float(enet.l1_ratio_),
            "n_nonzero": int(np.count_nonzero(enet.coef_)),
        },
    }


WIDE_ROWS = 200


def fit_wide(X, y, folds):
    train, test = np.where(folds != 0)[0][:WIDE_ROWS], np.where(folds == 0)[0]
    scaler = StandardScaler().fit(X[train])
    x_train, x_test = scaler.transform(X[train]), scaler.transform(X[test])
    lasso = LassoCV(**LASSO).fit(x_train, y[train])
    ridge = RidgeCV(alphas=RIDGE_ALPHAS).fit(x_train, y[train])
    return {
        "rows": WIDE_ROWS,
        "lasso": {
            "r2": r2_score(y[test], lasso.predict(x_test)),
            "alpha": float(lasso.alpha_),
            "n_nonzero": int(np.count_nonzero(lasso.coef_)),
            "coef": lasso.coef_.tolist(),
        },
        "ridge": {
            "r2": r2_score(y[test], ridge.predict(x_test)),
            "alpha": float(ridge.alpha_),
            "best_score": float(ridge.best_score_),
            "coef": ridge.coef_.tolist(),
        },
    }


def main():
    X, y, folds, support = make_problem()
    os.makedirs(OUT, exist_ok=True)
    np.savez_compressed(os.path.join(OUT, "sparse_2000x320.npz"), X=X, y=y, folds=folds)
    X64 = X.astype(np.float64)  # exactly the stored values
    reference = {
        "generated_by": "test/reference/make_sklearn_reference.py",
        "sklearn_version": sklearn.__version__,
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
        "problem": {
            "rows": N_ROWS, "features": N_FEATURES, "true_nonzero": N_TRUE, "rho": RHO,
            "noise_sd": NOISE_SD, "support": support.tolist(), "folds": N_FOLDS,
        },
        "lasso_params": LASSO,
        "ridge_alphas": RIDGE_ALPHAS,
        "enet_l1_ratios": ENET_L1_RATIOS,
        "folds": [fit_fold(X64, y, folds, k) for k in range(N_FOLDS)],
        "wide": fit_wide(X64, y, folds),
    }
    with open(os.path.join(OUT, "sklearn_reference.json"), "w") as f:
        json.dump(reference, f, indent=1)
        f.write("\n")
    for fold in reference["folds"]:
        l, r = fold["lasso"], fold["ridge"]
        print(f"fold {fold['fold']}: lasso R2 {l['r2']:.4f} alpha {l['alpha']:.4g} nnz {l['n_nonzero']}"
              f" | ridge R2 {r['r2']:.4f} alpha {r['alpha']:g}"
              f" | enet R2 {fold['enet']['r2']:.4f} l1_ratio {fold['enet']['l1_ratio']:g}")
    wide = reference["wide"]
    print(f"wide ({WIDE_ROWS} rows of fold 0): lasso R2 {wide['lasso']['r2']:.4f} alpha {wide['lasso']['alpha']:.4g}"
          f" nnz {wide['lasso']['n_nonzero']} | ridge R2 {wide['ridge']['r2']:.4f} alpha {wide['ridge']['alpha']:g}")


if __name__ == "__main__":
    main()
