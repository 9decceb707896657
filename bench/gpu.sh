#!/usr/bin/env bash
# bench/gpu.sh — the GPU checks, in one run, on a machine with a GPU: which execution providers
# onnxruntime-node can start here, then for each one (and the CPU as reference) embedding with the
# 35M shape in fp32 and fp16 (tokens/s, and the smallest cosine similarity of mean embeddings
# against the CPU's fp32 ones, bar ≥ 0.999: bench/support/gpu-check.ts), then the LoRA training
# step on each provider that started (bench/train with BENCH_DEVICE). Prints figures for the
# README's GPU section; exits non-zero when a provider that started misses the bar.
#
#   bash bench/gpu.sh                 every provider this platform may have (cuda, webgpu)
#   bash bench/gpu.sh cuda            only the ones named
#
# Needs node_modules (npm ci) and, for CUDA, onnxruntime's CUDA provider
# (ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node, see README "GPU acceleration")
# with the CUDA 12 runtime and cuDNN 9 on the system. Takes a few minutes.
set -uo pipefail
cd "$(dirname "$0")/.."

devices=("$@")
[ ${#devices[@]} -eq 0 ] && devices=(cuda webgpu)

echo "## machine"
date -u +"%Y-%m-%d %H:%M UTC"
nproc | sed 's/^/CPU cores: /'
if command -v nvidia-smi >/dev/null; then
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | sed 's/^/GPU: /'
else
  echo "GPU: nvidia-smi not found"
fi
node --version | sed 's/^/node /'
node -e "console.log('onnxruntime-node ' + require('onnxruntime-node/package.json').version)" 2>/dev/null || { echo "node_modules is missing: run npm ci first"; exit 2; }
node -e "const ort=require('onnxruntime-node'); console.log('backends: ' + ort.listSupportedBackends().map(b=>b.name).join(', '))"
ls node_modules/onnxruntime-node/bin/napi-v*/linux/x64/ 2>/dev/null | tr '\n' ' ' | sed 's/^/provider libraries: /'; echo

status=0
echo "## embedding: CPU reference, then ${devices[*]} (fp32 and fp16)"
node --import tsx bench/support/gpu-check.ts "${devices[@]}" || status=1

for device in "${devices[@]}"; do
  echo "## training on ${device} (LoRA, 8 x 250 tokens)"
  BENCH_DEVICE="$device" node bench/run.mjs train --quick || status=1
done
exit $status
