#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_conv_torch.sh BUILD_DIR: cgrad's convolution ops (conv2d with
# "same" padding, even kernels, stride, dilation, groups; average pooling
# with padding counted; max pooling; batch_norm2d with its running
# statistics) and their gradients equal PyTorch's, in double precision
# (tests/conv_torch). Skipped (exit 0) when /usr/bin/python3 lacks torch.
set -u
build="${1:?usage: test_conv_torch.sh BUILD_DIR}"
py=/usr/bin/python3
if ! "$py" -c 'import torch, numpy' 2>/dev/null; then
    echo "skipped: $py cannot import torch and numpy"
    exit 0
fi
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
"$build/tests/conv_torch_ref" "$tmp/out.bin" || { echo "conv_torch_ref failed" >&2; exit 1; }
"$py" "$here/conv_torch/compare.py" "$tmp/out.bin"
