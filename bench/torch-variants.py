#!/usr/bin/env python3
"""bench/torch-variants.py — the PyTorch side of bench/variants: masked-marginal scoring of one
protein in plain PyTorch, for comparison. It reuses bench/torch-train.py's minimal ESM-2 layers
(fair-esm and transformers are not installed here), without adapters, and adds what scoring
needs: ESM-2's token-dropout rescaling for <mask> tokens (mask embeddings zeroed, the rest scaled
by (1 − 0.15·0.8) / (1 − the row's mask ratio)) and the language-model head (dense, GELU,
LayerNorm, decoder tied to the embeddings unless stored, bias).

    /usr/bin/python3 bench/torch-variants.py <checkpoint dir> <protein> <positions> <copies per batch> [threads]

masks each of the first `positions` residues in its own copy of the protein, `copies per batch`
copies per forward pass (the app's batch size, so both sides do the same work), under
torch.inference_mode, after one warm-up batch; prints one JSON line: wall seconds, CPU seconds,
positions per second, peak RSS (MB), and the log-probabilities of the 20 amino acids at each
masked position (so bench/variants can check both sides score alike).
"""
import importlib.util
import json
import os
import resource
import sys
import time

import torch
import torch.nn.functional as F

sys.dont_write_bytecode = True  # no __pycache__ beside the benches
HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("torch_train", os.path.join(HERE, "torch-train.py"))
esm = importlib.util.module_from_spec(spec)
spec.loader.exec_module(esm)

ALPHABET = "LAGVSERTIDPKQNFYMHWC"  # ESM-2's residue tokens 4..23, in id order
MASK = 32
MASK_RATIO_TRAIN = 0.15 * 0.8


class EsmScorer(torch.nn.Module):
    def __init__(self, w, config):
        super().__init__()
        eps = config.get("layer_norm_eps", 1e-5)
        heads = config["num_attention_heads"]
        self.embed = w["esm.embeddings.word_embeddings.weight"]
        self.layers = torch.nn.ModuleList(esm.Layer(w, f"esm.encoder.layer.{i}", heads, eps) for i in range(config["num_hidden_layers"]))
        for layer in self.layers:  # plain projections: no adapters when scoring
            layer.q = esm.frozen_linear(layer.q.weight, layer.q.bias)
            layer.v = esm.frozen_linear(layer.v.weight, layer.v.bias)
        self.final_norm = esm.frozen_norm(w["esm.encoder.emb_layer_norm_after.weight"], w["esm.encoder.emb_layer_norm_after.bias"], eps)
        self.dense = esm.frozen_linear(w["lm_head.dense.weight"], w["lm_head.dense.bias"])
        self.head_norm = esm.frozen_norm(w["lm_head.layer_norm.weight"], w["lm_head.layer_norm.bias"], eps)
        self.decoder = w.get("lm_head.decoder.weight", self.embed)
        self.bias = w["lm_head.bias"]

    def forward(self, tokens):
        masked = tokens == MASK
        x = F.embedding(tokens, self.embed).masked_fill(masked.unsqueeze(-1), 0.0)
        ratio = masked.sum(-1).float() / tokens.shape[1]
        x = x * ((1 - MASK_RATIO_TRAIN) / (1 - ratio))[:, None, None]
        key_bias = torch.zeros(tokens.shape, dtype=torch.float32)[:, None, None, :]
        for layer in self.layers:
            x = layer(x, key_bias)
        x = self.head_norm(F.gelu(self.dense(self.final_norm(x))))
        return x @ self.decoder.t() + self.bias


def main():
    checkpoint, protein, positions, copies = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    threads = int(sys.argv[5]) if len(sys.argv) > 5 else 2
    torch.set_num_threads(threads)
    with open(f"{checkpoint}/config.json") as f:
        config = json.load(f)
    model = EsmScorer(esm.read_safetensors(f"{checkpoint}/model.safetensors"), config)
    base = torch.tensor([esm.CLS] + [4 + ALPHABET.index(a) for a in protein] + [esm.EOS])
    amino_ids = torch.tensor([4 + ALPHABET.index(a) for a in sorted(ALPHABET)])

    def batch(ps):
        rows = base.repeat(len(ps), 1)
        for row, p in enumerate(ps):
            rows[row, p + 1] = MASK
        logits = model(rows)
        return [torch.log_softmax(logits[row, p + 1], -1)[amino_ids].tolist() for row, p in enumerate(ps)]

    with torch.inference_mode():
        batch(list(range(min(copies, len(protein)))))  # warm-up
        cpu_start, started = time.process_time(), time.perf_counter()
        log_probs = []
        for first in range(0, positions, copies):
            log_probs += batch(list(range(first, min(first + copies, positions))))
        seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpuSeconds": time.process_time() - cpu_start,
                "positionsPerSecond": positions / seconds,
                "peakRssMB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "threads": threads,
                "torch": torch.__version__,
                "aminoAcids": "".join(sorted(ALPHABET)),
                "logProbs": log_probs,
            }
        )
    )


if __name__ == "__main__":
    main()
