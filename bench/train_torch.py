"""Same-run PyTorch CPU peer of `npm run bench -- train` (bench/train_step.ts): the same LLaMA-style model
(pre-norm RMSNorm, RoPE, multi-head attention, ReLU^2-GLU FFN, tied embeddings, no SubLN) trained with AdamW
on random tokens, full precision and BitNet b1.58 (absmean ternary weights, per-token absmax int8
activations, straight-through estimator). Prints one JSON line: tokens/s per mode (median step time).

  /usr/bin/python3 bench/train_torch.py '{"dim":256,"layers":6,"heads":8,"ffn":688,"vocab":4096,"seq":256,"batch":8,"threads":2,"steps":6}'

Needs Debian's python3-torch and libopenblas0-pthread (without the latter torch runs the reference BLAS,
several times slower: a handicapped peer)."""
import json
import math
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class BitLinear(nn.Linear):
    """b1.58: W~ = clip(round(W / mean|W|), -1, 1) * mean|W|; x~ = absmax int8 per token; STE for both."""

    def forward(self, x):
        w = self.weight
        s = 1.0 / w.abs().mean().clamp(min=1e-5)
        wq = (w * s).round().clamp(-1, 1) / s
        w = w + (wq - w).detach()
        xs = 127.0 / x.abs().amax(dim=-1, keepdim=True).clamp(min=1e-5)
        xq = (x * xs).round().clamp(-128, 127) / xs
        x = x + (xq - x).detach()
        return F.linear(x, w)


class RMSNorm(nn.Module):
    def __init__(self, d, eps=1e-5):
        super().__init__()
        self.w = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.w


def rope(x, cos, sin):
    x1, x2 = x[..., ::2], x[..., 1::2]
    return torch.stack((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1).flatten(-2)


class Block(nn.Module):
    def __init__(self, d, h, f, lin):
        super().__init__()
        self.h = h
        self.n1, self.n2 = RMSNorm(d), RMSNorm(d)
        self.q, self.k, self.v, self.o = lin(d, d), lin(d, d), lin(d, d), lin(d, d)
        self.g, self.u, self.dn = lin(d, f), lin(d, f), lin(f, d)

    mask: torch.Tensor

    def forward(self, x, cos, sin):
        B, T, C = x.shape
        a = self.n1(x)
        q = self.q(a).view(B, T, self.h, -1).transpose(1, 2)
        k = self.k(a).view(B, T, self.h, -1).transpose(1, 2)
        v = self.v(a).view(B, T, self.h, -1).transpose(1, 2)
        q, k = rope(q, cos, sin), rope(k, cos, sin)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(q.size(-1))  # torch 1.13 (Debian) has no fused SDPA
        att = att.masked_fill(self.mask[:T, :T], float("-inf")).softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, C)
        x = x + self.o(y)
        a = self.n2(x)
        return x + self.dn(F.relu(self.g(a)).square() * self.u(a))


class LM(nn.Module):
    def __init__(self, c, lin):
        super().__init__()
        self.emb = nn.Embedding(c["vocab"], c["dim"])
        self.blocks = nn.ModuleList(Block(c["dim"], c["heads"], c["ffn"], lin) for _ in range(c["layers"]))
        mask = torch.triu(torch.ones(c["seq"], c["seq"], dtype=torch.bool), 1)
        for b in self.blocks:
            b.mask = mask
        self.norm = RMSNorm(c["dim"])
        hs = c["dim"] // c["heads"]
        inv = 1.0 / (10000 ** (torch.arange(0, hs, 2).float() / hs))
        ang = torch.outer(torch.arange(c["seq"]).float(), inv)
        self.register_buffer("cos", ang.cos(), persistent=False)
        self.register_buffer("sin", ang.sin(), persistent=False)

    def forward(self, idx, tgt):
        x = self.emb(idx)
        for b in self.blocks:
            x = b(x, self.cos, self.sin)
        logits = self.norm(x) @ self.emb.weight.t()
        return F.cross_entropy(logits.view(-1, logits.size(-1)), tgt.view(-1))


def blas():
    """The BLAS Debian's generic-BLAS torch links at run time (the libblas.so.3 alternative)."""
    import os
    try:
        return os.path.realpath("/etc/alternatives/libblas.so.3-x86_64-linux-gnu").split("/")[-2]
    except OSError:
        return "unknown"


def main():
    c = json.loads(sys.argv[1])
    torch.set_num_threads(c["threads"])
    torch.manual_seed(1)
    out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "blas": blas()}
    for mode, lin in (("fp", lambda i, o: nn.Linear(i, o, bias=False)), ("b158", lambda i, o: BitLinear(i, o, bias=False))):
        m = LM(c, lin)
        opt = torch.optim.AdamW(m.parameters(), lr=1e-3, weight_decay=0.1)
        idx = torch.randint(0, c["vocab"], (c["batch"], c["seq"]))
        tgt = torch.randint(0, c["vocab"], (c["batch"], c["seq"]))
        times = []
        for s in range(c["steps"] + 2):
            t0 = time.perf_counter()
            opt.zero_grad(set_to_none=True)
            loss = m(idx, tgt)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
            opt.step()
            if s >= 2:
                times.append(time.perf_counter() - t0)
            if not math.isfinite(loss.item()):
                raise SystemExit(f"{mode}: loss is not finite")
        out[mode] = c["batch"] * c["seq"] / statistics.median(times)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
