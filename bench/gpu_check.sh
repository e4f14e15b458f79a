#!/usr/bin/env bash
# Everything framelens checks on a lent GPU, in one run (prepare with bench/gpu_payload.sh; carry .gpu and .whl):
#   1. the tests marked `gpu` (training on CUDA hands back a CPU network; GPU and CPU scoring agree)
#   2. passages/s of the inference path (bench/gpu_throughput.py; target >= 10,000 on an H100)
#   3. framelens cv, all 5 folds of the Narrative Frames corpus, fine-tuned on the GPU, beside TF-IDF + LR
#   4. framelens train on claim-stance-2017/train.jsonl and framelens evaluate on its 30 unseen test topics
# Each step's output goes to $OUT (or ./gpu-out); a failed step is reported and the next one still runs.
# STEPS="throughput" (any of: gpu-tests throughput cv claim-stance claim-stance-seeds) runs only those.
set -uo pipefail
out=${OUT:-gpu-out}
mkdir -p "$out"
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
  || exit 1
export PYTHONPATH=/tmp/site:$PWD
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c 'import torch, transformers, datasets, pyarrow, sklearn, tokenizers
print("torch", torch.__version__, "transformers", transformers.__version__, "datasets", datasets.__version__,
      "pyarrow", pyarrow.__version__, "sklearn", sklearn.__version__, "tokenizers", tokenizers.__version__)'
python3 - <<'PY' || exit 1
from safetensors.torch import load_file, save_file
weights = load_file(".gpu/minilm.fp16.safetensors")
save_file({k: (v.float() if v.is_floating_point() else v) for k, v in weights.items()}, ".gpu/minilm/model.safetensors")
PY
steps=" ${STEPS:-gpu-tests throughput cv claim-stance} "
step() {  # step GROUP NAME SECONDS COMMAND...: run with a time limit, keep its log, say how it ended
  [[ $steps == *" $1 "* ]] || return 0
  local name=$2 limit=$3
  shift 3
  local began=$SECONDS
  timeout "$limit" "$@" >"$out/$name.log" 2>&1
  local rc=$?
  tail -n 25 "$out/$name.log" | grep -v 'it/s\|step/s' | tail -n 18
  echo "== $name: exit $rc after $((SECONDS - began)) s"
}
step gpu-tests gpu-tests 150 python3 -m pytest -q -m gpu tests/training/test_fine_tune.py -p no:cacheprovider
step throughput throughput 150 python3 bench/gpu_throughput.py --encoder .gpu/minilm --articles .gpu/nf-articles.jsonl --count 20000
echo '{"init_from": ".gpu/minilm", "epochs": 5, "batch_size": 8, "max_length": 256, "patience": 2, "threads": 8,
       "device": "cuda"}' >/tmp/nf.json
step cv cv-narrative-frames 330 python3 -m framelens.serve.cli cv .gpu/nf-articles.jsonl --scheme narrative-frames \
  --config /tmp/nf.json --json "$out/cv-narrative-frames.json"
step claim-stance claim-stance-train 150 python3 -m framelens.serve.cli --home /tmp/cs-models train .gpu/cs-train.jsonl --scheme claim-stance \
  --init-from .gpu/minilm --max-length 128 --threads 8 --device cuda
step claim-stance claim-stance-evaluate 60 python3 -m framelens.serve.cli --home /tmp/cs-models evaluate .gpu/cs-test.jsonl \
  --baseline-train .gpu/cs-train.jsonl
# The spread of claim stance on unseen topics over training seeds (one run says little: it sits near chance).
for seed in 1 2 3; do
  step claim-stance-seeds "claim-stance-seed$seed" 90 python3 -m framelens.serve.cli --home "/tmp/cs-seed$seed" train \
    .gpu/cs-train.jsonl --scheme claim-stance --init-from .gpu/minilm --max-length 128 --threads 8 --seed "$seed"
  step claim-stance-seeds "claim-stance-seed$seed-evaluate" 60 python3 -m framelens.serve.cli --home "/tmp/cs-seed$seed" \
    evaluate .gpu/cs-test.jsonl
done
