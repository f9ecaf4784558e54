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

The state before the step is not stored: every entry of the state_dict is derived from its
name by derived_value() below, which the test computes the same way (derived_state in
torch_step_test.cpp), so the fixture holds one parameter-sized copy at full precision and stays
under 2 MB.

Entries (PyTorch state_dict names; safetensors written with json + struct):
    grad.<param>       the gradient of every parameter, f32, in remix's layout (conv K x R x S x C)
    step.<param>       (before - after) / lr of every parameter, f16, PyTorch's layout: the SGD step
                       direction g + wd * p, so that after = before - lr * step (f16 keeps it to
                       about 3e-4 of itself, 1e-7 of the weights)
    after.<buffer>     running statistics (f32) and num_batches_tracked after the step
    input.images       N x H x W x C;  input.targets, input.teacher_probs  N x K;
    input.roi_boxes    N x 4 (x1, y1, x2, y2) pixels
    expected.logits    N x K;  expected.main, expected.consistency, expected.loss  [1]
    metadata           consistency_weight, lr, momentum, weight_decay
"""
import copy
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


M64 = (1 << 64) - 1


def fnv1a64(text):
    h = 0xCBF29CE484222325
    for byte in text.encode():
        h = ((h ^ byte) * 0x100000001B3) & M64
    return h


def splitmix64(x):
    x = (x + 0x9E3779B97F4A7C15) & M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & M64
    return x ^ (x >> 31)


def value_range(name, shape):
    """(centre, half width) of entry `name`'s uniform values: PyTorch's default bound
    1/sqrt(fan_in) for convolutions and linear layers, and batch-norm affine parameters and
    running statistics away from 1 and 0 so that each of them matters to the result."""
    if name.startswith("fc"):
        return 0.0, 1.0 / 8.0  # fan_in 64
    if len(shape) == 4:
        return 0.0, 1.0 / (shape[1] * shape[2] * shape[3]) ** 0.5
    if name.endswith("running_var"):
        return 1.25, 0.75
    if name.endswith("running_mean"):
        return 0.0, 0.5
    return (1.0, 0.5) if name.endswith("weight") else (0.0, 0.2)


def derived_value(name, shape):
    """Element i (row-major, PyTorch's layout) is centre + half_width * (2u - 1), u the top 24
    bits of splitmix64(fnv1a64(name) + i) / 2^24, computed in double and rounded to f32."""
    centre, half = value_range(name, shape)
    seed, count = fnv1a64(name), 1
    for d in shape:
        count *= d
    values = [centre + half * (2.0 * (splitmix64((seed + i) & M64) >> 40) / 16777216.0 - 1.0)
              for i in range(count)]
    return torch.tensor(values, dtype=torch.float64).to(torch.float32).reshape(shape)


def make_model():
    model = ResNet20()
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if t.dtype == torch.float32:
                t.copy_(derived_value(name, list(t.shape)))
    return model


def make_batch():
    images = torch.randn(N, 3, SIDE, SIDE)
    a, b = torch.randint(0, K, (N,)), torch.randint(0, K, (N,))
    x1, y1, x2, y2 = BOX
    lam = 1.0 - (x2 - x1) * (y2 - y1) / float(SIDE * SIDE)
    targets = lam * F.one_hot(a, K).float() + (1 - lam) * F.one_hot(b, K).float()
    teacher = torch.softmax(2 * torch.randn(N, K), 1)
    return images, targets, teacher, lam


RELU_MARGIN = 1e-5


def smallest_relu_input(model, images):
    """The smallest |x| over every ReLU input of the forward pass. An input that close to the
    kink can change sides between two correct f32 summation orders, and with it the gradient
    of everything below (one such pixel moved early-layer gradients by 1%), so the fixture's
    batch keeps every ReLU input at least RELU_MARGIN away from 0."""
    smallest = [float("inf")]
    relu = F.relu

    def recording_relu(x, *args, **kwargs):
        smallest[0] = min(smallest[0], x.detach().abs().min().item())
        return relu(x, *args, **kwargs)

    F.relu = recording_relu
    try:
        with torch.no_grad():
            copy.deepcopy(model).features(images)  # a copy: the pass updates running statistics
    finally:
        F.relu = relu
    return smallest[0]


def state(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def remix_layout(t):
    """Conv weights O x I x H x W -> remix's K x R x S x C."""
    return t.permute(0, 2, 3, 1).contiguous() if t.dim() == 4 else t


def write_safetensors(path, tensors, metadata):
    dtypes = {torch.float32: "F32", torch.float16: "F16", torch.int64: "I64"}
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
    torch.use_deterministic_algorithms(True)
    model = make_model()
    for seed in range(2203, 2203 + 10000):  # the first batch clear of every ReLU kink
        torch.manual_seed(seed)
        images, targets, teacher, lam = make_batch()
        if smallest_relu_input(model, images) >= RELU_MARGIN:
            break
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

    after = state(model)
    params = dict(model.named_parameters())
    out = {f"grad.{k}": v for k, v in grads.items()}
    out.update({f"step.{k}": ((before[k].double() - after[k].double()) / LR).half()
                for k in params})
    out.update({f"after.{k}": v for k, v in after.items() if k not in params})
    out["input.images"] = images.permute(0, 2, 3, 1).contiguous()
    out["input.targets"], out["input.teacher_probs"] = targets, teacher
    out["input.roi_boxes"] = torch.tensor([BOX], dtype=torch.float32).repeat(N, 1)
    out["expected.logits"] = logits
    for name, v in (("main", main_loss), ("consistency", consistency), ("loss", loss)):
        out[f"expected.{name}"] = v.detach().reshape(1)
    metadata = {"seed": repr(seed), "consistency_weight": repr(weight), "lr": repr(LR), "momentum": repr(MOMENTUM),
                "weight_decay": repr(WD)}
    path = os.path.join(HERE, "fixtures", "torch_resnet20_step.safetensors")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    write_safetensors(path, out, metadata)
    print(f"{path}: batch seed {seed}, loss {loss.item():.6f} (main {main_loss.item():.6f}, consistency "
          f"{consistency.item():.6f} x {weight}), {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
