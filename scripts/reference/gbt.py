# Reference check, not part of the tool: scikit-learn gradient-boosted trees on the same
# split as scripts/accuracy.rhai (test = id % 5 == 0), on 11 simple raster statistics and on
# the descriptors; then a Gaussian process on the descriptors (Matérn 5/2, a length scale
# per descriptor, ~6 min) and its mean with the trees; where the export holds the
# descriptors with the coarse-mesh anchors (desc_coarse2.npy; desc_coarse2_A4.npy with the
# coarse cells' exchange scaled; desc_coarse2_avg_A4.npy with their anisotropy averaged too;
# desc_coarse4_A16.npy and the like for other factors), the GP and trees on those too, and
# the coarse anchors themselves shifted by their mean offset on the training rows. Beyond GP_ROWS
# (environment, default 1000) training rows the GP's kernel is searched on that many, as
# coercive's `gp_rows` does. Input: the folder written by scripts/reference/export.rhai.
import glob, os
import numpy as np, sys, warnings
from sklearn.ensemble import HistGradientBoostingRegressor, GradientBoostingRegressor
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel
from sklearn.preprocessing import StandardScaler
d = sys.argv[1]
GP_ROWS = int(os.environ.get("GP_ROWS", "1000"))
X = np.load(f"{d}/desc.npy"); ids = np.load(f"{d}/id.npy").astype(int); Y = np.load(f"{d}/anchors.npy")
kx = np.load(f"{d}/kx.npy")[:, 0]
names = open(f"{d}/names.txt").read().split("\n")
ix = {n: i for i, n in enumerate(names)}
mean_abs_kx = np.abs(kx).reshape(len(kx), -1).mean(1)
simple = np.column_stack([mean_abs_kx, 1 - X[:, ix["cos2_mean"]], X[:, ix["grains"]], X[:, ix["ecd_mean_nm"]],
    X[:, ix["boundary_fraction"]], X[:, ix["cos2_min_grain"]], X[:, ix["cos2_q10"]], X[:, ix["sw_Mr"]],
    X[:, ix["frac_beyond_45deg"]], X[:, ix["misorientation_mean"]], X[:, ix["largest_grain_fraction"]]])
te = ids % 5 == 0; tr = ~te
A = ["M1", "Mr", "Hk90", "Hk80", "Hk70", "Hc"]
print("train", tr.sum(), "test", te.sum(), "missing", np.isnan(Y).sum(0))
def gbt(F, m, t, k, s):
    g = GradientBoostingRegressor(random_state=s, n_estimators=300, max_depth=3, learning_rate=0.05, subsample=0.8)
    return g.fit(F[m], Y[m, k]).predict(F[t])
gp_fitted = {}
def gp(F, m, t, k, s):
    # Deterministic (no restarts): the seed does not enter, so each anchor is fitted once.
    if (id(F), k) not in gp_fitted:
        gp_fitted[(id(F), k)] = gp_fit(F, m, t, k)
    return gp_fitted[(id(F), k)]
def gp_fit(F, m, t, k):
    sc = StandardScaler().fit(F[m])
    kernel = ConstantKernel(1.0) * Matern(np.full(F.shape[1], 3.0), nu=2.5, length_scale_bounds=(1e-2, 1e5)) \
        + WhiteKernel(0.05, (1e-6, 1.0))
    # Like coercive's `gp_rows`: beyond GP_ROWS training rows the kernel is searched on
    # that many spread evenly, then the GP is refitted on all rows with that kernel.
    rows = np.where(m)[0]
    seen = rows[(np.arange(min(GP_ROWS, len(rows))) * len(rows)) // min(GP_ROWS, len(rows))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = GaussianProcessRegressor(kernel, normalize_y=True).fit(sc.transform(F[seen]), Y[seen, k])
        if len(seen) < len(rows):
            g = GaussianProcessRegressor(g.kernel_, normalize_y=True, optimizer=None) \
                .fit(sc.transform(F[rows]), Y[rows, k])
    return g.predict(sc.transform(F[t]))
def run(label, F, seeds=(0, 1, 2), fit=gbt):
    res = []
    for s in seeds:
        row = []
        for k in range(6):
            m = tr & np.isfinite(Y[:, k]); t = te & np.isfinite(Y[:, k])
            row.append(np.abs(fit(F, m, t, k, s) - Y[t, k]).mean())
        res.append(row)
    res = np.array(res)
    sd = res.std(0, ddof=1) if len(seeds) > 1 else np.zeros(6)
    print(f"{label:28s}", "  ".join(f"{a}={m:.4f}±{s:.4f}" for a, m, s in zip(A, res.mean(0), sd)), flush=True)
print("mean                        ", "  ".join(f"{a}={np.nanmean(np.abs(Y[te,k]-np.nanmean(Y[tr,k]))):.4f}" for k, a in enumerate(A)))
run("GBT 11 simple stats", simple)
run("GBT descriptors", X)
run("GBT descriptors + 11", np.column_stack([X, simple]))
run("GP descriptors", X, seeds=(0,), fit=gp)
run("mean of GP and GBT", X, fit=lambda F, m, t, k, s: 0.5 * (gp(F, m, t, k, s) + gbt(F, m, t, k, s)))
for path in sorted(glob.glob(f"{d}/desc_coarse*.npy")):
    coarse = os.path.basename(path)[len("desc_"):-len(".npy")]
    XC = np.load(path)
    # What one would try first: the coarse curve's own anchor (the last six columns),
    # shifted by its mean offset from the label on the training rows.
    def offset(F, m, t, k, s):
        c = F[:, F.shape[1] - 6 + k]
        return c[t] + np.nanmean(Y[m, k] - c[m])
    run(f"{coarse} anchors + mean offset", XC, seeds=(0,), fit=offset)
    run(f"GBT descriptors + {coarse}", XC)
    run(f"GP descriptors + {coarse}", XC, seeds=(0,), fit=gp)
