"""Child: PyTorch DistributedDataParallel over gloo, the anchor of bench:cluster.

--world-size N processes on this machine (torch.multiprocessing), each with one thread, train the
model of bench/train/torch_train.py (the same definitions, imported) with Adam (lr 0.001) on
Fashion-MNIST. The global batch stays --batch-size whatever N (each rank takes batch/N samples of
it, as dptrain's workers split a step's micro-batches), so N = 1 is the one-process baseline (a
plain model, no DDP wrapper) and the throughputs compare the same optimization. Rank 0 times
--steps steps after --warmup untimed ones; start-up and data loading are not timed.

Prints the result line of bench/lib/child.ts: "@@bench-result " + JSON
{ok, value: {samplesPerSecond, paramCount, notes}}.

  /usr/bin/python3 bench/cluster/torch_ddp.py --model cnn --world-size 2 --steps 60
"""
import argparse
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "train"))
import torch_train  # noqa: E402  (the models and the data loader of bench:train)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rank_main(rank, args, port, queue):
    import numpy
    import torch
    import torch.distributed as dist
    import torch.nn.functional as F

    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    world = args.world_size
    if world > 1:
        dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    x_all, y_all = torch_train.load_train(torch, numpy)
    model = torch_train.build(torch, args.model)
    model.train()
    if world > 1:
        model = torch.nn.parallel.DistributedDataParallel(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001, betas=(0.9, 0.999), eps=1e-8)
    per_rank = args.batch_size // world
    steps_per_epoch = x_all.shape[0] // args.batch_size
    generator = torch.Generator().manual_seed(args.seed)
    order = None
    started = None
    for t in range(args.warmup + args.steps):
        if t == args.warmup:
            if world > 1:
                dist.barrier()
            started = time.perf_counter()
        if t % steps_per_epoch == 0:
            order = torch.randperm(x_all.shape[0], generator=generator)
        base = (t % steps_per_epoch) * args.batch_size + rank * per_rank
        idx = order[base:base + per_rank]
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x_all[idx]), y_all[idx])
        loss.backward()
        optimizer.step()
        if loss.item() != loss.item():
            raise ArithmeticError(f"loss is NaN at step {t + 1} on rank {rank}")
    elapsed = time.perf_counter() - started
    if rank == 0:
        queue.put({
            "samplesPerSecond": args.steps * args.batch_size / elapsed,
            "paramCount": sum(p.numel() for p in model.parameters()),
            "notes": [f"torch {torch.__version__}, {world} process(es) x {torch.get_num_threads()} thread, gloo, {per_rank} samples per rank"],
        })
    if world > 1:
        dist.destroy_process_group()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", choices=["mlp", "cnn"], required=True)
    parser.add_argument("--world-size", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.world_size < 1 or args.batch_size % args.world_size != 0:
        parser.error(f"--world-size {args.world_size} must be >= 1 and divide --batch-size {args.batch_size}")
    try:
        import torch.multiprocessing as mp

        ctx = mp.get_context("spawn")
        queue = ctx.Queue()
        port = free_port()
        if args.world_size == 1:
            rank_main(0, args, port, queue)
        else:
            mp.spawn(rank_main, args=(args, port, queue), nprocs=args.world_size, join=True)
        torch_train.report({"ok": True, "value": queue.get(timeout=10)})
    except Exception as error:  # every failure becomes the row's reason
        torch_train.report({"ok": False, "reason": f"{type(error).__name__}: {error}".replace("\n", " ")})
        sys.exit(1)


if __name__ == "__main__":
    main()
