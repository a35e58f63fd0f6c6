#!/usr/bin/env python3
"""galmass's conditional MAF against zuko's on the same data and budget, in one run.

Data: a 2-D target given a 3-D context with a known density, x ~ U(-1, 1)^3,
    y1 = sin(2 x1) + 0.5 x2 + (0.1 + 0.2 |x3|) e1,
    y2 = 0.5 y1^2 + x1 x2 + (0.1 + 0.1 (x3 + 1)) e2,      e1, e2 ~ N(0, 1),
so that the held-out negative log-density of the truth is a floor both flows are judged against.

Both flows have sarrato2025's shape (5 affine autoregressive transforms, MADEs of three hidden layers of 50 units
with tanh, random permutations, the context into every MADE, targets and contexts z-scored with the training rows'
mean and standard deviation, standard normal base) and train the same way: Adam lr 1e-4, batch 32, gradient norm
clipped at 5, a fixed number of epochs over all training rows, the same threads. Reported: the mean negative
log-density of the held-out rows (nats, in the targets' units) and the training time.

zuko's affine transform is its own (`MonotonicAffineTransform`, a bounded log-scale) where galmass uses nflows'
softplus scale: the libraries' own defaults, compared as a user would meet them.

Set-up (zuko on top of galmass's torch 2.13, no second copy of torch):
    python3 -m venv /tmp/flowvenv
    echo ~/.cache/galmass/torch-2.13.0/lib/python3.11/site-packages > /tmp/flowvenv/lib/python3.11/site-packages/t.pth
    /tmp/flowvenv/bin/pip install -r scripts/requirements-flows.txt
    eval "$(cargo xtask env)"; cargo build --release -p galmass-models --example maf_bench
    /tmp/flowvenv/bin/python scripts/maf_compare.py --train 20000 --test 5000 --epochs 30 --threads 1
"""

import argparse
import json
import math
import os
import subprocess
import tempfile
import time

import torch
import zuko


def simulate(n, generator):
    x = torch.rand(n, 3, generator=generator, dtype=torch.float64) * 2 - 1
    e = torch.randn(n, 2, generator=generator, dtype=torch.float64)
    m1 = torch.sin(2 * x[:, 0]) + 0.5 * x[:, 1]
    s1 = 0.1 + 0.2 * x[:, 2].abs()
    y1 = m1 + s1 * e[:, 0]
    m2 = 0.5 * y1**2 + x[:, 0] * x[:, 1]
    s2 = 0.1 + 0.1 * (x[:, 2] + 1)
    y2 = m2 + s2 * e[:, 1]
    y = torch.stack([y1, y2], dim=1)
    log_p = -0.5 * (e**2).sum(1) - torch.log(s1) - torch.log(s2) - math.log(2 * math.pi)
    return x, y, log_p


def write_csv(path, x, y):
    with open(path, "w") as f:
        f.write("x1,x2,x3,y1,y2\n")
        for xi, yi in zip(x.tolist(), y.tolist()):
            f.write(",".join(repr(v) for v in xi + yi) + "\n")


def zuko_run(x, y, x_test, y_test, epochs, threads, lr, seed):
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    x, y, x_test, y_test = (t.float() for t in (x, y, x_test, y_test))
    xm, xs = x.mean(0), x.std(0, unbiased=False)
    ym, ys = y.mean(0), y.std(0, unbiased=False)
    flow = zuko.flows.MAF(2, 3, transforms=5, randperm=True, hidden_features=(50, 50, 50), activation=torch.nn.Tanh)
    n_params = sum(p.numel() for p in flow.parameters())
    opt = torch.optim.Adam(flow.parameters(), lr=lr)
    xz, yz = (x - xm) / xs, (y - ym) / ys
    n = x.shape[0]
    start = time.perf_counter()
    last = float("nan")
    for _ in range(epochs):
        order = torch.randperm(n)
        total = 0.0
        for k in range(0, n, 32):
            idx = order[k:k + 32]
            loss = -flow(xz[idx]).log_prob(yz[idx]).mean()
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(flow.parameters(), 5.0)
            opt.step()
            total += loss.item() * idx.shape[0]
        last = total / n
    seconds = time.perf_counter() - start
    with torch.no_grad():
        log_q = flow((x_test - xm) / xs).log_prob((y_test - ym) / ys) - torch.log(ys).sum()
    return {"tool": "zuko " + zuko.__version__, "parameters": n_params, "rows": n, "epochs": epochs,
            "threads": threads, "seconds": round(seconds, 3), "test_nll": round(-log_q.mean().item(), 5),
            "final_train_loss": round(last, 5)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--train", type=int, default=20000)
    parser.add_argument("--test", type=int, default=5000)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    g = torch.Generator().manual_seed(2025)
    x, y, _ = simulate(args.train, g)
    x_test, y_test, log_p_test = simulate(args.test, g)
    truth = -log_p_test.mean().item()
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(os.path.dirname(__file__), "..", "target"))
    binary = os.path.join(target, "release", "examples", "maf_bench")
    with tempfile.TemporaryDirectory() as tmp:
        train_csv, test_csv = os.path.join(tmp, "train.csv"), os.path.join(tmp, "test.csv")
        write_csv(train_csv, x, y)
        write_csv(test_csv, x_test, y_test)
        out = subprocess.run([binary, train_csv, test_csv, "y1,y2", "x1,x2,x3", str(args.epochs), str(args.threads),
                              str(args.lr), str(args.seed)], check=True, capture_output=True, text=True)
        ours = json.loads(out.stdout.strip().splitlines()[-1])
    theirs = zuko_run(x, y, x_test, y_test, args.epochs, args.threads, args.lr, args.seed)
    print(json.dumps({"truth_test_nll": round(truth, 5)}))
    print(json.dumps(ours))
    print(json.dumps(theirs))
    print(json.dumps({"nll_galmass_minus_zuko": round(ours["test_nll"] - theirs["test_nll"], 5),
                      "time_ratio_zuko_over_galmass": round(theirs["seconds"] / ours["seconds"], 3)}))


if __name__ == "__main__":
    main()
