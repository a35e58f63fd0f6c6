#!/usr/bin/env python3
"""Expected values of LightGBM (4.7) for galmass_estimators::gbdt, read by crates/galmass-estimators/tests/gbdt_lightgbm.rs.

Writes, under crates/galmass-estimators/test_data/:
  gbdt_train.csv, gbdt_test.csv   a small chu2024-like table (scripts/gbdt_data.py, seeds 11 and 12)
  gbdt_lightgbm_expected.json     per case: LightGBM's parameters, test RMSE, every test-row prediction, gain and
                                  split importance, and the first trees (split features, thresholds, default
                                  directions, leaf values)

Cases: chu2024 (num_leaves 5, min_data_in_leaf 20, 100 rounds, regression), the same with L1 and with Huber, one with
l1/l2 regularisation and min_gain_to_split, one with max_depth 2 and 15 leaves, and one with max_bin 15.
Deterministic (no row or feature sampling, one thread).

Run:  scripts/setup_venv.sh && scripts/.venv/bin/python scripts/gbdt_lightgbm_reference.py
"""

import json
import pathlib
import sys

import lightgbm as lgb
import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import gbdt_data  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "crates" / "galmass-estimators" / "test_data"
N_TREES_DUMPED = 3

BASE = dict(objective="regression", num_leaves=5, min_data_in_leaf=20, num_threads=1, verbose=-1, seed=0,
            deterministic=True)
CASES = {
    "chu2024": dict(BASE),
    "l1": dict(BASE, objective="regression_l1"),
    "huber": dict(BASE, objective="huber", alpha=0.3),
    "regularised": dict(BASE, lambda_l1=0.5, lambda_l2=3.0, min_gain_to_split=0.01, min_sum_hessian_in_leaf=5.0),
    "depth_limited": dict(BASE, num_leaves=15, max_depth=2),
    "coarse_bins": dict(BASE, max_bin=15, min_data_in_bin=10),
}
ROUNDS = 100


def tree_arrays(node, out):
    """Walks LightGBM's JSON dump in the order nodes were created (split_index) and collects per-node arrays."""
    if "split_index" in node:
        out["nodes"].append(node)
        tree_arrays(node["left_child"], out)
        tree_arrays(node["right_child"], out)
    else:
        out["leaves"].append(node)


def dump_tree(tree):
    out = {"nodes": [], "leaves": []}
    tree_arrays(tree["tree_structure"], out)
    nodes = sorted(out["nodes"], key=lambda n: n["split_index"])
    leaves = sorted(out["leaves"], key=lambda n: n["leaf_index"])
    return {
        "num_leaves": tree["num_leaves"],
        "split_feature": [n["split_feature"] for n in nodes],
        "threshold": [float(n["threshold"]) for n in nodes],
        "default_left": [bool(n["default_left"]) for n in nodes],
        "missing_type": [n["missing_type"] for n in nodes],
        "split_gain": [float(n["split_gain"]) for n in nodes],
        "leaf_value": [float(n["leaf_value"]) for n in leaves],
        "leaf_count": [int(n["leaf_count"]) for n in leaves],
    }


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    train_path, test_path = OUT / "gbdt_train.csv", OUT / "gbdt_test.csv"
    gbdt_data.write_csv(train_path, gbdt_data.generate(2000, 11))
    gbdt_data.write_csv(test_path, gbdt_data.generate(1000, 12))
    train = gbdt_data.read_csv(train_path)
    test = gbdt_data.read_csv(test_path)
    x, y = train[:, :10], train[:, 10]
    xt, yt = test[:, :10], test[:, 10]
    expected = {"lightgbm_version": lgb.__version__, "features": gbdt_data.FEATURES, "target": gbdt_data.TARGET,
                "num_boost_round": ROUNDS, "cases": {}}
    for name, params in CASES.items():
        booster = lgb.train(params, lgb.Dataset(x, y, feature_name=gbdt_data.FEATURES), num_boost_round=ROUNDS)
        pred = booster.predict(xt)
        dump = booster.dump_model()
        galmass_params = {k: v for k, v in params.items() if k not in ("verbose", "deterministic")}
        galmass_params["num_boost_round"] = ROUNDS
        expected["cases"][name] = {
            "params": galmass_params,
            "test_rmse": float(np.sqrt(np.mean((pred - yt) ** 2))),
            "test_predictions": [float(p) for p in pred],
            "gain": [float(v) for v in booster.feature_importance("gain")],
            "split": [int(v) for v in booster.feature_importance("split")],
            "trees": [dump_tree(t) for t in dump["tree_info"][:N_TREES_DUMPED]],
        }
        print(f"{name}: test RMSE {expected['cases'][name]['test_rmse']:.6f}")
    with open(OUT / "gbdt_lightgbm_expected.json", "w", encoding="ascii") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
