"""Child: times the PyTorch baseline, the training loop a PyTorch user would write.

One process, one thread (torch.set_num_threads(1)), Adam (lr 0.001, betas (0.9, 0.999), eps 1e-8),
softmax cross-entropy, real Fashion-MNIST read from the gzipped IDX files into one float tensor
(bytes / 255). Each step takes a batch of a per-epoch random permutation, so, as in the
TypeScript loops, gathering the batch is inside the timed step. Models mirror @dptrain/model:

  mlp: Linear(784, 256) → ReLU → Linear(256, 128) → ReLU → Linear(128, 10)
  cnn: per channels c of [16, 32]: Conv2d(3×3, padding 1, no bias) → BatchNorm2d(eps 1e-5,
       momentum 0.1) → ReLU → MaxPool2d(2); Flatten (32·7·7 = 1,568) → Linear(1568, 10)

Takes the same flags as the TypeScript children (--backend is accepted and ignored: CPU) and prints
the same result line: "@@bench-result " + JSON {ok, value: {paramCount, roundsMs, batchSize, notes}}, and
takes turns like them (bench/lib/turns.ts) with --take-turns.

  /usr/bin/python3 bench/train/torch_train.py --model cnn --steps 40 --warmup 5
"""
import argparse
import gzip
import json
import os
import struct
import sys
import time

RESULT_MARKER = "@@bench-result "
WAITING_MARKER = "@@bench-waiting"
DATA_DIRS = [os.environ.get("DPTRAIN_DATA", ""), "/usr/share/datasets/fashion-mnist"]


def report(outcome):
    sys.stdout.write("\n" + RESULT_MARKER + json.dumps(outcome) + "\n")
    sys.stdout.flush()


class RoundClock:
    """Turns and timestamps as in measurement.ts: turn 0 holds the warm-up, turn r >= 1 round r."""

    def __init__(self, args):
        self.warmup, self.steps, self.rounds, self.take_turns = args.warmup, args.steps, args.rounds, args.take_turns
        self.ticks = 0
        self.marks = []

    @property
    def total_steps(self):
        return self.warmup + self.steps * self.rounds

    def next_turn(self):
        if not self.take_turns:
            return
        sys.stdout.write("\n" + WAITING_MARKER + "\n")
        sys.stdout.flush()
        line = sys.stdin.readline()
        if line.strip() != "go":
            raise RuntimeError(f"expected the parent's turn line \"go\", got {line!r}")

    def open_round(self):
        self.next_turn()
        self.marks.append([time.perf_counter() * 1000])

    def tick(self):
        self.ticks += 1
        if self.ticks < self.warmup:
            return
        if self.ticks == self.warmup:
            self.open_round()
            return
        current = self.marks[-1]
        current.append(time.perf_counter() * 1000)
        if len(current) == self.steps + 1 and len(self.marks) < self.rounds:
            self.open_round()


def find_data_dir():
    for base in DATA_DIRS:
        for candidate in (os.path.join(base, "fashion-mnist"), base):
            if candidate and os.path.exists(os.path.join(candidate, "train-images-idx3-ubyte.gz")):
                return candidate
    raise FileNotFoundError(
        "Fashion-MNIST IDX files not found in $DPTRAIN_DATA or /usr/share/datasets/fashion-mnist; "
        "install them with `apt-get install dataset-fashion-mnist` or set DPTRAIN_DATA")


def read_idx(path, magic):
    with gzip.open(path, "rb") as f:
        data = f.read()
    found, = struct.unpack(">I", data[:4])
    if found != magic:
        raise ValueError(f"{path}: IDX magic {found:#010x}, expected {magic:#010x}; the file is damaged")
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return shape, data[4 + 4 * dims:]


def load_train(torch, numpy):
    directory = find_data_dir()
    shape, pixels = read_idx(os.path.join(directory, "train-images-idx3-ubyte.gz"), 0x803)
    _, labels = read_idx(os.path.join(directory, "train-labels-idx1-ubyte.gz"), 0x801)
    x = torch.from_numpy(numpy.frombuffer(pixels, dtype=numpy.uint8).copy()).float().div_(255).view(shape[0], 1, 28, 28)
    y = torch.from_numpy(numpy.frombuffer(labels, dtype=numpy.uint8).astype(numpy.int64))
    return x, y


def build(torch, name):
    nn = torch.nn
    if name == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
    layers, in_c = [], 1
    for out_c in (16, 32):
        layers += [nn.Conv2d(in_c, out_c, 3, padding=1, bias=False), nn.BatchNorm2d(out_c, eps=1e-5, momentum=0.1),
                   nn.ReLU(), nn.MaxPool2d(2)]
        in_c = out_c
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(32 * 7 * 7, 10))


def measure(args):
    import numpy
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    x_all, y_all = load_train(torch, numpy)
    model = build(torch, args.model)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001, betas=(0.9, 0.999), eps=1e-8)
    steps_per_epoch = x_all.shape[0] // args.batch_size
    clock = RoundClock(args)
    order = None
    clock.next_turn()
    for t in range(clock.total_steps):
        if t % steps_per_epoch == 0:
            order = torch.randperm(x_all.shape[0])
        idx = order[(t % steps_per_epoch) * args.batch_size:(t % steps_per_epoch + 1) * args.batch_size]
        xb, yb = x_all[idx], y_all[idx]
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        optimizer.step()
        value = loss.item()
        if value != value:
            raise ArithmeticError(f"PyTorch loss is NaN at step {t + 1}; the baseline diverged")
        clock.tick()
    return {
        "paramCount": sum(p.numel() for p in model.parameters()),
        "roundsMs": clock.marks,
        "batchSize": args.batch_size,
        "notes": [f"torch {torch.__version__}, {torch.get_num_threads()} thread"],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", choices=["mlp", "cnn"], required=True)
    parser.add_argument("--backend", default="cpu", help="ignored: PyTorch runs on the CPU")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--micro-batch-size", type=int, default=64, help="ignored: one batch per step")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--steps", type=int, default=20, help="timed steps per round")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--take-turns", action="store_true", help="wait for the parent's turns on stdin")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    for name in ("batch_size", "warmup", "steps", "rounds"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} {getattr(args, name)} is not a positive integer")
    try:
        report({"ok": True, "value": measure(args)})
    except Exception as error:  # every failure becomes the row's reason
        report({"ok": False, "reason": f"{type(error).__name__}: {error}".replace("\n", " ")})
        sys.exit(1)


if __name__ == "__main__":
    main()
