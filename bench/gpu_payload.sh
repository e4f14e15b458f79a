#!/usr/bin/env bash
# Prepare what bench/gpu_check.sh needs on a lent GPU machine that reaches no network and has PyTorch but not
# framelens's other dependencies. Run here, in the repository root, with the venv built (make test does that):
#   bash bench/gpu_payload.sh ../shared/datasets
# It writes two ignored folders, .gpu/ (the packaged MiniLM encoder, weights rounded to fp16 to fit the 64 MiB a
# call may carry, plus copies of the datasets to read there) and .whl/ (Python 3.12 wheels of what the GPU image
# lacks). Neither is committed.
set -euo pipefail
datasets=${1:-../shared/datasets}
py=.venv/bin/python
grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo /.gpu/ >>.git/info/exclude
grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo /.whl/ >>.git/info/exclude
rm -rf .gpu .whl && mkdir -p .gpu/minilm .whl
encoder=$($py -c 'from model.encoders import resolve_encoder; print(resolve_encoder("all-MiniLM-L6-v2"))')
cp "$encoder"/{config.json,tokenizer.json,tokenizer_config.json,vocab.txt,special_tokens_map.json} .gpu/minilm/
$py - "$encoder/model.safetensors" .gpu/minilm.fp16.safetensors <<'PY'
import sys
from safetensors.torch import load_file, save_file
weights = load_file(sys.argv[1])
save_file({k: (v.half() if v.is_floating_point() else v).contiguous() for k, v in weights.items()}, sys.argv[2])
PY
cp "$datasets/narrative-frames-2023/articles.jsonl" .gpu/nf-articles.jsonl
cp "$datasets/claim-stance-2017/train.jsonl" .gpu/cs-train.jsonl
cp "$datasets/claim-stance-2017/test.jsonl" .gpu/cs-test.jsonl
$py -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d .whl \
  pydantic==2.14.4 pydantic_core==2.50.5 pydantic-settings==2.16.3 python-dotenv==1.2.4 annotated-types==0.8.0 \
  typing-inspection==0.4.5 datasets==5.2.0 dill==0.4.1 multiprocess==0.70.19
du -sh .gpu .whl
