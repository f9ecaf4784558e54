#!/usr/bin/env python3
"""Prints the table of scripts/gpu-check.sh from the files it wrote into OUT.

Accuracy: the last epoch's test top-1 of each remix run (OUT/train-remix-<aug>/metrics.jsonl) and,
when present, of the PyTorch run with the same settings (OUT/train-torch-<aug>.jsonl).
Throughput: remix-bench (OUT/bench-remix.jsonl) against torch_reference.py throughput
(OUT/bench-torch.jsonl), matched on model, mode and augmentation; ratio = remix / PyTorch.
"""
import json
import os
import sys


def read_jsonl(path):
    if not os.path.exists(path):
        return []
    rows = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                rows.append(json.loads(line))
    return rows


def accuracy_table(out):
    print("test top-1 after the last epoch (ResNet-18, CIFAR-10 JPEG folder)")
    print(f"{'aug':8} {'remix':>8} {'pytorch':>8} {'diff':>7} {'remix img/s':>12}")
    for aug in ("none", "cutmix", "rm"):
        remix = read_jsonl(os.path.join(out, f"train-remix-{aug}", "metrics.jsonl"))
        torch = [r for r in read_jsonl(os.path.join(out, f"train-torch-{aug}.jsonl"))
                 if r.get("kind") == "epoch"]
        r = f"{100 * remix[-1]['test_top1']:.2f}" if remix else "-"
        t = f"{100 * torch[-1]['test_acc']:.2f}" if torch else "-"
        d = (f"{100 * (remix[-1]['test_top1'] - torch[-1]['test_acc']):+.2f}"
             if remix and torch else "-")
        speed = f"{sum(m['images_per_s'] for m in remix) / len(remix):.0f}" if remix else "-"
        print(f"{aug:8} {r:>8} {t:>8} {d:>7} {speed:>12}")


def throughput_table(out):
    remix = read_jsonl(os.path.join(out, "bench-remix.jsonl"))
    torch = {(r["model"], r["mode"], r["aug"]): r
             for r in read_jsonl(os.path.join(out, "bench-torch.jsonl"))}
    print("\ntraining throughput, batch 128 (ratio = remix / PyTorch; peak memory in MB; "
          "waits/step = remix uploads per step that waited for the GPU, 0 expected)")
    print(f"{'model':14} {'mode':12} {'aug':5} {'remix img/s':>11} {'torch img/s':>11} "
          f"{'ratio':>6} {'remix MB':>9} {'torch MB':>9} {'waits/step':>10}")
    for r in remix:
        t = torch.get((r["model"], r["mode"], r["aug"]))
        ratio = f"{r['img_per_s'] / t['img_per_s']:.2f}" if t else "-"
        print(f"{r['model']:14} {r['mode']:12} {r['aug']:5} {r['img_per_s']:11.0f} "
              f"{(t['img_per_s'] if t else float('nan')):11.0f} {ratio:>6} "
              f"{r['peak_mem_mb']:9.0f} {(t['peak_mem_mb'] if t else float('nan')):9.0f} "
              f"{r.get('host_waits_per_step', float('nan')):10.2f}")
    if remix:
        print(f"device: {remix[0].get('device', '?')}")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/remix-gpu-check"
    accuracy_table(out)
    throughput_table(out)


if __name__ == "__main__":
    main()
