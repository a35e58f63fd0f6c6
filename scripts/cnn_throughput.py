#!/usr/bin/env python3
"""Training throughput of the sarrato2025 CNN in PyTorch against galmass on the same CPU, in one run.

The network is galmass's `sarrato2025` preset (galmass_models::arch::branched): per map branch (star_xy, star_rv,
1 x 64 x 64) conv 3x3 (16, valid) -> ReLU -> maxpool 2 -> conv 3x3 (32) -> ReLU -> maxpool 2 -> dropout 0.25 ->
flatten; the branches concatenated with the 3 scalars -> dense 64 -> ReLU -> dropout 0.25 -> dense 32 -> ReLU ->
dense 10 (815,082 parameters, checked against galmass's count). Both train by Adam (lr 1e-4) on MSE, batch 32, on
random maps, the same rows and epochs, the same number of threads; samples per second over the training epochs.

    eval "$(cargo xtask env)"
    cargo build --release -p galmass-models --example cnn_bench
    ~/.cache/galmass/torch-2.13.0/bin/python scripts/cnn_throughput.py --rows 2048 --epochs 3 --threads 1
"""

import argparse
import json
import os
import subprocess
import time

import torch
from torch import nn


class Branch(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 16, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(16, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Dropout(0.25), nn.Flatten())

    def forward(self, x):
        return self.body(x)


class Sarrato2025(nn.Module):
    def __init__(self):
        super().__init__()
        self.xy, self.rv = Branch(), Branch()
        n = 2 * 32 * 14 * 14 + 3
        self.head = nn.Sequential(nn.Linear(n, 64), nn.ReLU(), nn.Dropout(0.25), nn.Linear(64, 32), nn.ReLU(),
                                  nn.Linear(32, 10))

    def forward(self, xy, rv, s):
        return self.head(torch.cat([self.xy(xy), self.rv(rv), s], dim=1))


def pytorch(rows, epochs, threads):
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    xy, rv = torch.rand(rows, 1, 64, 64), torch.rand(rows, 1, 64, 64)
    s, y = torch.rand(rows, 3), torch.rand(rows, 10)
    net = Sarrato2025()
    n_params = sum(p.numel() for p in net.parameters())
    opt = torch.optim.Adam(net.parameters(), lr=1e-4)
    net.train()
    start = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(rows)
        for k in range(0, rows, 32):
            idx = order[k:k + 32]
            loss = nn.functional.mse_loss(net(xy[idx], rv[idx], s[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    seconds = time.perf_counter() - start
    return {"tool": "pytorch", "torch": torch.__version__, "parameters": n_params, "rows": rows, "epochs": epochs,
            "threads": threads, "seconds": round(seconds, 3), "samples_per_second": round(rows * epochs / seconds, 1)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=2048)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    target = os.environ.get("CARGO_TARGET_DIR", "target")
    ap.add_argument("--bin", default=os.path.join(target, "release", "examples", "cnn_bench"))
    args = ap.parse_args()
    py = pytorch(args.rows, args.epochs, args.threads)
    out = subprocess.run([args.bin, str(args.rows), str(args.epochs), str(args.threads)], capture_output=True,
                         text=True, check=True)
    rs = json.loads(out.stdout.strip().splitlines()[-1])
    assert rs["parameters"] == py["parameters"], (rs, py)
    print(json.dumps(py))
    print(json.dumps(rs))
    print(f"galmass / pytorch samples per second: {rs['samples_per_second'] / py['samples_per_second']:.3f}")


if __name__ == "__main__":
    main()
