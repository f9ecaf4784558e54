#!/usr/bin/env python3
"""Writes tests/augment/fixtures/torch_resnet20_step.safetensors: one RecursiveMix training step
of ResNet-20 computed by PyTorch, which tests/augment/torch_step_test.cpp reproduces with remix's
CPU backend. Regenerate (PyTorch and numpy only) from the repository root:

    ~/.cache/remix/torch-venv/bin/python tests/augment/make_torch_fixture.py

The step, in fp32, batch norm in training mode (batch statistics, running statistics updated):
    F           = features(images)                    ResNet-20, option-A shortcut
    logits      = fc(mean_hw(F))
    main        = CE_soft(logits, targets)
    roi         = fc_roi(roi_align_1x1(F, box))        aligned, adaptive sampling, scale 8/32
    consistency = CE_soft(roi, teacher_probs)
    loss        = main + omega * (1 - lam) * consistency
with CE_soft(z, t) = mean_i(-sum_k t_ik log_softmax(z_i)_k), as augment/loss.h defines it; then
backward and one torch.optim.SGD step (lr 0.1, momentum 0.9, weight decay 5e-4 on every
parameter, as remix-train's defaults and nn::SGD: g = grad + wd * p; buf = g on the first step;
p -= lr * buf). The batch is already mixed, so no random draw of remix's is needed: random
images, a box, targets lam * onehot(a) + (1 - lam) * onehot(b) with lam = 1 - box area / image
area, and teacher probabilities softmax(random logits).

Entries (PyTorch state_dict names; safetensors written with json + struct):
    model.<name>       the state before the step (conv weights O x I x H x W)
    after.<name>       the state after the step (running statistics and num_batches_tracked too)
    grad.<param>       the gradient of every parameter, in remix's layout (conv K x R x S x C)
    input.images       N x H x W x C;  input.targets, input.teacher_probs  N x K;
    input.roi_boxes    N x 4 (x1, y1, x2, y2) pixels
    expected.logits    N x K;  expected.main, expected.consistency, expected.loss  [1]
    metadata           consistency_weight, lr, momentum, weight_decay
"""
import json
import os
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "bench"))
from torch_cpu_step import Basic, roi_align_1x1, soft_ce  # noqa: E402

N, SIDE, K = 4, 32, 10
BOX = (6, 10, 22, 26)  # x1, y1, x2, y2 pixels: a 16 x 16 box, so lam = 0.75
OMEGA, LR, MOMENTUM, WD = 0.5, 0.1, 0.9, 5e-4


class ResNet20(nn.Module):
    """He et al.'s CIFAR ResNet-20 with remix's parameter names (nn/models/resnet.h)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        cin = 16
        for i, width in enumerate((16, 32, 64)):
            blocks = [Basic(cin if j == 0 else width, width, 2 if i > 0 and j == 0 else 1, False)
                      for j in range(3)]
            cin = width
            setattr(self, f"layer{i + 1}", nn.Sequential(*blocks))
        self.fc = nn.Linear(64, K)
        self.fc_roi = nn.Linear(64, K)

    def features(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        return self.layer3(self.layer2(self.layer1(x)))


def make_model():
    """PyTorch's default initialisation, then batch-norm affine parameters and running statistics
    moved away from 1 and 0 so that each of them matters to the result."""
    model = ResNet20()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
    return model


def make_batch():
    images = torch.randn(N, 3, SIDE, SIDE)
    a, b = torch.randint(0, K, (N,)), torch.randint(0, K, (N,))
    x1, y1, x2, y2 = BOX
    lam = 1.0 - (x2 - x1) * (y2 - y1) / float(SIDE * SIDE)
    targets = lam * F.one_hot(a, K).float() + (1 - lam) * F.one_hot(b, K).float()
    teacher = torch.softmax(2 * torch.randn(N, K), 1)
    return images, targets, teacher, lam


def state(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def remix_layout(t):
    """Conv weights O x I x H x W -> remix's K x R x S x C."""
    return t.permute(0, 2, 3, 1).contiguous() if t.dim() == 4 else t


def write_safetensors(path, tensors, metadata):
    dtypes = {torch.float32: "F32", torch.int64: "I64"}
    header, blobs, offset = {"__metadata__": {"format": "pt", **metadata}}, [], 0
    for name, t in tensors.items():
        data = t.detach().contiguous().cpu().numpy().tobytes()
        header[name] = {"dtype": dtypes[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # the header length is a multiple of 8
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def main():
    torch.manual_seed(2203)
    torch.use_deterministic_algorithms(True)
    model = make_model()
    images, targets, teacher, lam = make_batch()
    before = state(model)

    weight = OMEGA * (1 - lam)
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM, weight_decay=WD)
    feats = model.features(images)
    logits = model.fc(feats.mean((2, 3)))
    main_loss = soft_ce(logits, targets)
    roi = model.fc_roi(roi_align_1x1(feats, BOX, SIDE))
    consistency = soft_ce(roi, teacher)
    loss = main_loss + weight * consistency
    opt.zero_grad()
    loss.backward()
    grads = {k: remix_layout(p.grad) for k, p in model.named_parameters()}
    opt.step()

    out = {f"model.{k}": v for k, v in before.items()}
    out.update({f"after.{k}": v for k, v in state(model).items()})
    out.update({f"grad.{k}": v for k, v in grads.items()})
    out["input.images"] = images.permute(0, 2, 3, 1).contiguous()
    out["input.targets"], out["input.teacher_probs"] = targets, teacher
    out["input.roi_boxes"] = torch.tensor([BOX], dtype=torch.float32).repeat(N, 1)
    out["expected.logits"] = logits
    for name, v in (("main", main_loss), ("consistency", consistency), ("loss", loss)):
        out[f"expected.{name}"] = v.detach().reshape(1)
    metadata = {"consistency_weight": repr(weight), "lr": repr(LR), "momentum": repr(MOMENTUM),
                "weight_decay": repr(WD)}
    path = os.path.join(HERE, "fixtures", "torch_resnet20_step.safetensors")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    write_safetensors(path, out, metadata)
    print(f"{path}: loss {loss.item():.6f} (main {main_loss.item():.6f}, consistency "
          f"{consistency.item():.6f} x {weight}), {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
