#!/usr/bin/env python3
"""The yardstick for remix-bench on the CPU: the same training step in PyTorch, same machine.

It mirrors apps/remix_bench.cpp: one random batch reused every step, one-hot targets, the
augmentation (none, or RecursiveMix with its ROI consistency head), forward, soft-target cross
entropy, backward, SGD (lr 0.1, momentum 0.9, weight decay 5e-4). The models are remix's CIFAR
architectures: ResNet-20 with the parameter-free shortcut (sub-sampling and zero channels,
269,722 parameters without the ROI head) and the CIFAR ResNet-18 (3x3 stem, no max-pool,
11,173,962 parameters). PyTorch runs in channels_last, its faster CPU layout.

Not part of remix's build or tests: scripts/cpu-bench.sh runs it beside remix-bench.
Prints one JSON line: {"framework": "pytorch", "model": ..., "img_per_s": ...}.
"""
import argparse
import json
import math
import os
import random
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Basic(nn.Module):
    def __init__(self, cin, cout, stride, projection):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.stride, self.extra = stride, cout - cin
        self.downsample = None
        if projection and (stride != 1 or cin != cout):
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                            nn.BatchNorm2d(cout))

    def shortcut(self, x):
        if self.downsample is not None:
            return self.downsample(x)
        if self.stride != 1:
            x = x[:, :, ::self.stride, ::self.stride]
        if self.extra > 0:
            x = F.pad(x, (0, 0, 0, 0, 0, self.extra))
        return x

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(y)) + self.shortcut(x))


class ResNet(nn.Module):
    def __init__(self, blocks, widths, projection, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, widths[0], 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        cin, stages = widths[0], []
        for i, (n, w) in enumerate(zip(blocks, widths)):
            for j in range(n):
                stages.append(Basic(cin, w, 2 if i > 0 and j == 0 else 1, projection))
                cin = w
        self.blocks = nn.Sequential(*stages)
        self.fc = nn.Linear(cin, num_classes)
        self.fc_roi = nn.Linear(cin, num_classes)

    def features(self, x):
        return self.blocks(F.relu(self.bn1(self.conv1(x))))


def make_model(name):
    if name == "resnet20":
        return ResNet((3, 3, 3), (16, 32, 64), projection=False)
    if name == "resnet18":
        return ResNet((2, 2, 2, 2), (64, 128, 256, 512), projection=True)
    raise SystemExit(f"torch_cpu_step.py: unknown model {name}; expected resnet20 or resnet18")


def roi_align_1x1(f, box, image_size):
    """ROI-Align to one cell (aligned=True, sampling_ratio=-1) of one box shared by the batch:
    the mean of bilinear samples on an adaptive grid, as torchvision computes it."""
    scale = f.shape[-1] / image_size
    x1, y1, x2, y2 = (v * scale - 0.5 for v in box)

    def axis_weights(lo, hi, size):
        n = max(int(math.ceil(hi - lo)), 1)
        w = torch.zeros(size)
        for i in range(n):
            p = lo + (i + 0.5) * (hi - lo) / n
            if p < -1.0 or p > size:
                continue
            p = min(max(p, 0.0), size - 1)
            i0 = int(p)
            i1 = min(i0 + 1, size - 1)
            w[i0] += (1 - (p - i0)) / n
            w[i1] += (p - i0) / n
        return w

    wy = axis_weights(y1, y2, f.shape[2])
    wx = axis_weights(x1, x2, f.shape[3])
    return torch.einsum("nchw,h,w->nc", f, wy, wx)


class RecursiveMix:
    def __init__(self, alpha=0.5, omega=0.5):
        self.alpha, self.omega = alpha, omega
        self.old = None

    def __call__(self, x, y):
        if self.old is None:
            return x, y, None, 1.0
        old_x, old_y, _ = self.old
        size = x.shape[-1]
        r = math.sqrt(random.uniform(0.0, self.alpha))
        cut = int(size * r)
        cx, cy = random.randrange(size), random.randrange(size)
        x1, y1 = min(max(cx - cut // 2, 0), size), min(max(cy - cut // 2, 0), size)
        x2, y2 = min(max(cx + cut // 2, 0), size), min(max(cy + cut // 2, 0), size)
        if x2 <= x1 or y2 <= y1:
            return x, y, None, 1.0
        x = x.clone()
        x[:, :, y1:y2, x1:x2] = F.interpolate(old_x, size=(y2 - y1, x2 - x1), mode="nearest")
        lam = 1.0 - (x2 - x1) * (y2 - y1) / float(size * size)
        return x, lam * y + (1 - lam) * old_y, (x1, y1, x2, y2), lam


def soft_ce(logits, target):
    return -(F.log_softmax(logits, 1) * target).sum(1).mean()


def make_step(model, aug):
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    rm = RecursiveMix() if aug == "rm" else None

    def step(x, labels):
        y = F.one_hot(labels, 10).float()
        box, lam = None, 1.0
        if rm is not None:
            x, y, box, lam = rm(x, y)
        opt.zero_grad(set_to_none=True)
        f = model.features(x)
        out = model.fc(f.mean((2, 3)))
        loss = soft_ce(out, y)
        if box is not None:
            roi = model.fc_roi(roi_align_1x1(f, box, x.shape[-1]))
            loss = loss + rm.omega * (1 - lam) * soft_ce(roi, rm.old[2].softmax(-1))
        if rm is not None:
            rm.old = (x.detach(), y.detach(), out.detach())
        loss.backward()
        opt.step()

    return step


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="resnet20")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--aug", default="none", choices=["none", "rm"])
    p.add_argument("--iters", type=int, default=20)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    random.seed(0)
    model = make_model(args.model).to(memory_format=torch.channels_last)
    params = sum(t.numel() for n, t in model.named_parameters() if not n.startswith("fc_roi"))
    step = make_step(model, args.aug)
    x = torch.randn(args.batch, 3, 32, 32).contiguous(memory_format=torch.channels_last)
    labels = torch.randint(0, 10, (args.batch,))
    for _ in range(args.warmup):
        step(x, labels)
    start = time.perf_counter()
    for _ in range(args.iters):
        step(x, labels)
    seconds = time.perf_counter() - start
    print(json.dumps({"framework": "pytorch", "version": torch.__version__, "model": args.model,
                      "layout": "channels_last", "aug": args.aug, "batch": args.batch,
                      "parameters": params, "threads": torch.get_num_threads(),
                      "ms_per_step": round(1e3 * seconds / args.iters, 3),
                      "img_per_s": round(args.batch * args.iters / seconds, 1)}))


if __name__ == "__main__":
    main()
