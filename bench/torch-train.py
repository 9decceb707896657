#!/usr/bin/env python3
"""bench/torch-train.py — the PyTorch side of bench/train: the same LoRA fine-tuning step in
plain PyTorch, for comparison. fair-esm and Hugging Face transformers are not installed here, so
this is a minimal ESM-2 written out as theirs are: token embedding with ESM-2's token-dropout
scale, pre-LayerNorm layers with rotary self-attention (query scaled by head_dim^-0.5, "two
halves" rotation, explicit softmax attention with a key-padding mask) and an exact-GELU
feed-forward block, final LayerNorm; then mean pooling over residues, a linear head and MSE.

LoRA as PEFT does it (y = x Wᵀ + b + (alpha/r)·(x Aᵀ) Bᵀ, A Kaiming-uniform, B zero, dropout 0)
on the query and value projections of every layer, frozen base weights (requires_grad False),
AdamW on the adapters and the head: the app's default fine-tuning setup.

    /usr/bin/python3 bench/torch-train.py <checkpoint dir> <steps> <warmup> [threads]

reads config.json and model.safetensors (the bench's random checkpoint, so both sides run the
same weights), trains `steps` steps on batches of 8 random sequences × 250 tokens, and prints one
JSON line: wall ms of each counted step, CPU seconds over the counted steps, peak RSS (MB).
"""
import json
import math
import resource
import struct
import sys
import time

import torch
import torch.nn.functional as F

BATCH = 8
TOKENS = 250
CLS, PAD, EOS = 0, 1, 2
FIRST_AA, AA_COUNT = 4, 20
LORA_R, LORA_ALPHA = 8, 16
LR = 1e-3

DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}


def read_safetensors(path):
    """The tensors of a .safetensors file (8-byte header length, JSON header, raw data)."""
    with open(path, "rb") as f:
        (header_len,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(header_len))
        data = f.read()
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        start, end = entry["data_offsets"]
        t = torch.frombuffer(bytearray(data[start:end]), dtype=DTYPES[entry["dtype"]]) if end > start else torch.empty(0)
        tensors[name] = t.reshape(entry["shape"]).float()
    return tensors


class LoraLinear(torch.nn.Module):
    """A frozen linear layer with PEFT's low-rank adapter beside it."""

    def __init__(self, weight, bias, r, alpha):
        super().__init__()
        self.weight = torch.nn.Parameter(weight, requires_grad=False)
        self.bias = torch.nn.Parameter(bias, requires_grad=False)
        self.lora_A = torch.nn.Parameter(torch.empty(r, weight.shape[1]))
        self.lora_B = torch.nn.Parameter(torch.zeros(weight.shape[0], r))
        torch.nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
        self.scale = alpha / r

    def forward(self, x):
        return F.linear(x, self.weight, self.bias) + (x @ self.lora_A.t() @ self.lora_B.t()) * self.scale


def frozen_linear(w, b):
    layer = torch.nn.Linear(w.shape[1], w.shape[0])
    layer.weight = torch.nn.Parameter(w, requires_grad=False)
    layer.bias = torch.nn.Parameter(b, requires_grad=False)
    return layer


def frozen_norm(w, b, eps):
    norm = torch.nn.LayerNorm(w.shape[0], eps=eps)
    norm.weight = torch.nn.Parameter(w, requires_grad=False)
    norm.bias = torch.nn.Parameter(b, requires_grad=False)
    return norm


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


class Layer(torch.nn.Module):
    def __init__(self, w, prefix, heads, eps):
        super().__init__()
        p = lambda name: w[f"{prefix}.{name}"]
        self.heads = heads
        self.attn_norm = frozen_norm(p("attention.LayerNorm.weight"), p("attention.LayerNorm.bias"), eps)
        self.q = LoraLinear(p("attention.self.query.weight"), p("attention.self.query.bias"), LORA_R, LORA_ALPHA)
        self.k = frozen_linear(p("attention.self.key.weight"), p("attention.self.key.bias"))
        self.v = LoraLinear(p("attention.self.value.weight"), p("attention.self.value.bias"), LORA_R, LORA_ALPHA)
        self.o = frozen_linear(p("attention.output.dense.weight"), p("attention.output.dense.bias"))
        self.ffn_norm = frozen_norm(p("LayerNorm.weight"), p("LayerNorm.bias"), eps)
        self.fc1 = frozen_linear(p("intermediate.dense.weight"), p("intermediate.dense.bias"))
        self.fc2 = frozen_linear(p("output.dense.weight"), p("output.dense.bias"))
        self.register_buffer("inv_freq", p("attention.self.rotary_embeddings.inv_freq"))

    def split(self, x):
        b, t, d = x.shape
        return x.view(b, t, self.heads, d // self.heads).transpose(1, 2)

    def forward(self, x, key_bias):
        h = self.attn_norm(x)
        head_dim = x.shape[-1] // self.heads
        q = self.split(self.q(h) * head_dim**-0.5)
        k, v = self.split(self.k(h)), self.split(self.v(h))
        freqs = torch.outer(torch.arange(x.shape[1], dtype=torch.float32), self.inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos(), emb.sin()
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        probs = torch.softmax(q @ k.transpose(-1, -2) + key_bias, dim=-1)
        context = (probs @ v).transpose(1, 2).reshape(x.shape)
        x = x + self.o(context)
        return x + self.fc2(F.gelu(self.fc1(self.ffn_norm(x))))


class EsmLora(torch.nn.Module):
    def __init__(self, w, config):
        super().__init__()
        eps = config.get("layer_norm_eps", 1e-5)
        self.embed = torch.nn.Parameter(w["esm.embeddings.word_embeddings.weight"], requires_grad=False)
        self.layers = torch.nn.ModuleList(Layer(w, f"esm.encoder.layer.{i}", config["num_attention_heads"], eps) for i in range(config["num_hidden_layers"]))
        self.final_norm = frozen_norm(w["esm.encoder.emb_layer_norm_after.weight"], w["esm.encoder.emb_layer_norm_after.bias"], eps)
        self.head = torch.nn.Linear(config["hidden_size"], 1)

    def forward(self, tokens):
        not_pad = (tokens != PAD).float()
        x = F.embedding(tokens, self.embed) * (0.88 * not_pad).unsqueeze(-1)  # no <mask> tokens: ESM-2's flat 0.88
        key_bias = torch.zeros(tokens.shape, dtype=torch.float32).masked_fill(tokens == PAD, float("-inf"))[:, None, None, :]
        for layer in self.layers:
            x = layer(x, key_bias)
        x = self.final_norm(x)
        residues = ((tokens != CLS) & (tokens != EOS) & (tokens != PAD)).float().unsqueeze(-1)
        pooled = (x * residues).sum(1) / residues.sum(1)
        return self.head(pooled).squeeze(-1)


def main():
    checkpoint, steps, warmup = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    threads = int(sys.argv[4]) if len(sys.argv) > 4 else 2
    torch.set_num_threads(threads)
    torch.manual_seed(7)
    with open(f"{checkpoint}/config.json") as f:
        config = json.load(f)
    model = EsmLora(read_safetensors(f"{checkpoint}/model.safetensors"), config)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=LR, weight_decay=0.01)
    gen = torch.Generator().manual_seed(11)
    step_ms, cpu_start, loss = [], 0.0, float("nan")
    for step in range(steps):
        tokens = torch.randint(FIRST_AA, FIRST_AA + AA_COUNT, (BATCH, TOKENS), generator=gen)
        tokens[:, 0], tokens[:, -1] = CLS, EOS
        targets = torch.rand(BATCH, generator=gen) * 2 - 1
        if step == warmup:
            cpu_start = time.process_time()
        started = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        loss = F.mse_loss(model(tokens), targets)
        loss.backward()
        optimizer.step()
        if step >= warmup:
            step_ms.append((time.perf_counter() - started) * 1000)
    print(
        json.dumps(
            {
                "stepMs": step_ms,
                "cpuSeconds": time.process_time() - cpu_start,
                "peakRssMB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "threads": threads,
                "torch": torch.__version__,
                "trainableValues": sum(p.numel() for p in trainable),
                "loss": float(loss),
            }
        )
    )


if __name__ == "__main__":
    main()
