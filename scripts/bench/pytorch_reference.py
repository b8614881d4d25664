#!/usr/bin/env python3
"""PyTorch eager reference for `coercive bench vae|regressor`.

The same networks (paper Tables 1 and 2, as built in src/learn/vae.rs and
src/learn/regressor.rs), the same losses, torch.optim.NAdam with the same
hyper-parameters (lr 1e-4, PyTorch's defaults otherwise), the same batch sizes and thread
count, timed the same way: one warm-up step, then `--steps` timed steps of forward,
backward, update and reading the loss. It prints the two lines `coercive bench` prints,
so the outputs can be read side by side:

    coercive --threads 1 bench vae
    python scripts/bench/pytorch_reference.py vae --threads 1

Needs only torch (any venv; coercive itself never imports Python). Input values are
random (seeded); the time of a step does not depend on them.
"""

import argparse
import sys
import time

try:
    import torch
    from torch import nn
except ImportError:
    sys.exit("pytorch_reference.py needs torch: run it with a Python that has torch installed")

FILTERS = [16, 32, 64, 128, 256]
DENSE = 2048
TRUNK = [512, 1024, 512, 256, 128, 64]
HEAD = [32, 16, 8, 4, 2]
TARGETS = 6
KL_WEIGHT = 1e-4
LR = 1e-4


class Vae(nn.Module):
    """Table 1: five stride-2 convolutions (the first 4x4 padding 1, the others 2x2), elu,
    dense 2048, mean and log-variance; the decoder mirrors it and ends in tanh."""

    def __init__(self, n, channels=1, latent=512):
        super().__init__()
        ins = [channels] + FILTERS[:4]
        self.convs = nn.ModuleList(
            nn.Conv2d(ins[k], FILTERS[k], 4 if k == 0 else 2, stride=2, padding=1 if k == 0 else 0)
            for k in range(5)
        )
        self.side = n // 32
        flat = FILTERS[4] * self.side * self.side
        self.dense1 = nn.Linear(flat, DENSE)
        self.mean = nn.Linear(DENSE, latent)
        self.logvar = nn.Linear(DENSE, latent)
        self.dense2 = nn.Linear(latent, DENSE)
        self.dense3 = nn.Linear(DENSE, flat)
        outs = [FILTERS[3], FILTERS[2], FILTERS[1], FILTERS[0], channels]
        self.convtr = nn.ModuleList(
            nn.ConvTranspose2d(FILTERS[4 - k], outs[k], 4 if k == 4 else 2, stride=2,
                               padding=1 if k == 4 else 0)
            for k in range(5)
        )

    def encoder_parameters(self):
        mods = [*self.convs, self.dense1, self.mean, self.logvar]
        return sum(p.numel() for m in mods for p in m.parameters())

    def loss(self, x):
        h = x
        for conv in self.convs:
            h = nn.functional.elu(conv(h))
        h = nn.functional.elu(self.dense1(h.flatten(1)))
        mu, logvar = self.mean(h), self.logvar(h)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        h = nn.functional.elu(self.dense3(nn.functional.elu(self.dense2(z))))
        h = h.view(-1, FILTERS[4], self.side, self.side)
        for k, ct in enumerate(self.convtr):
            h = ct(h)
            h = torch.tanh(h) if k == len(self.convtr) - 1 else nn.functional.elu(h)
        recon = nn.functional.mse_loss(h, x)
        kl = (-0.5 * (1 + logvar - mu.square() - logvar.exp()).sum(1)).mean()
        return recon + KL_WEIGHT * kl


class Regressor(nn.Module):
    """Table 2: dense trunk 512-1024-512-256-128-64 (elu), one head 32-16-8-4-2 (elu) plus
    a linear output per target."""

    def __init__(self, inputs=512, targets=TARGETS):
        super().__init__()
        widths = [inputs] + TRUNK
        self.trunk = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths, widths[1:]))
        hw = [TRUNK[-1]] + HEAD + [1]
        self.heads = nn.ModuleList(
            nn.ModuleList(nn.Linear(a, b) for a, b in zip(hw, hw[1:])) for _ in range(targets)
        )

    def loss(self, x, y, mask):
        h = x
        for layer in self.trunk:
            h = nn.functional.elu(layer(h))
        outs = []
        for head in self.heads:
            g = h
            for k, layer in enumerate(head):
                g = layer(g)
                if k < len(head) - 1:
                    g = nn.functional.elu(g)
            outs.append(g)
        pred = torch.cat(outs, 1)
        d = (pred - y) * mask
        return d.square().sum() / mask.sum().clamp_min(1.0)


def report(what, parameters, steps, batch, seconds, device, threads):
    """The two lines of `coercive bench` (src/bench/learn.rs), with impl=pytorch."""
    rate = steps * batch / seconds
    s = "" if threads == 1 else "s"
    print(f"{what}: {parameters} parameters, {steps} steps of batch {batch} in {seconds:.2f} s "
          f"on {device} with {threads} thread{s}: {rate:.1f} samples/s "
          f"({seconds / max(steps, 1):.3f} s/step)")
    print(f"bench-summary impl=pytorch net={what.split()[0]} device={device} threads={threads} "
          f"batch={batch} steps={steps} parameters={parameters} samples_per_s={rate:.2f}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("net", choices=["vae", "regressor"])
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument("--threads", type=int, default=None,
                   help="intra-op threads (torch.set_num_threads); default: torch's own")
    p.add_argument("--steps", type=int, default=None, help="timed steps (vae 10, regressor 200)")
    p.add_argument("--batch", type=int, default=None, help="batch (vae 64, regressor 16)")
    p.add_argument("--n", type=int, default=160, help="VAE grid side, a multiple of 32")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    if a.threads is not None:
        if a.threads < 1:
            p.error("--threads must be ≥ 1")
        torch.set_num_threads(a.threads)
    if a.n < 32 or a.n % 32:
        p.error("--n must be a multiple of 32")
    if a.device == "cuda" and not torch.cuda.is_available():
        sys.exit("--device cuda: torch sees no CUDA device")
    dev = torch.device(a.device)
    torch.manual_seed(a.seed)
    if a.net == "vae":
        steps, batch = a.steps or 10, a.batch or 64
        model = Vae(a.n).to(dev)
        data = (torch.rand(batch, 1, a.n, a.n, device=dev) * 2 - 1,)
        what = f"vae {a.n}²"
        enc = model.encoder_parameters()
        print(f"# parameters: encoder {enc}, decoder "
              f"{sum(q.numel() for q in model.parameters()) - enc}", file=sys.stderr)
    else:
        steps, batch = a.steps or 200, a.batch or 16
        model = Regressor().to(dev)
        data = (torch.randn(batch, 512, device=dev), torch.randn(batch, TARGETS, device=dev),
                torch.ones(batch, TARGETS, device=dev))
        what = "regressor"
    if steps < 1 or batch < 1:
        p.error("--steps and --batch must be ≥ 1")
    opt = torch.optim.NAdam(model.parameters(), lr=LR)

    def step():
        opt.zero_grad()
        loss = model.loss(*data)
        loss.backward()
        opt.step()
        return loss.item()  # as coercive reads the loss every step (also a CUDA sync)

    step()
    if a.device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    if a.device == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    parameters = sum(q.numel() for q in model.parameters())
    report(what, parameters, steps, batch, seconds, a.device, torch.get_num_threads())


if __name__ == "__main__":
    main()
