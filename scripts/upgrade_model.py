#!/usr/bin/env python3
"""Rewrites the variable-length strings of a vitrun model file (and its shard
files) as fixed-length ones, in place; the tensors are not touched.

vitrun reads variable-length strings (what converters before December 2026
wrote) in a child process, because a damaged global heap crashes libhdf5 1.10
(docs/MODEL_FORMAT.md, "Strings"). Upgraded files need no child process.

    /usr/bin/python3 scripts/upgrade_model.py MODEL.h5
"""
import argparse
import os
import sys

import h5py

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vitrun_model import fixed_str, fixed_strs  # noqa: E402


def as_text(v):
    return v.decode("utf-8") if isinstance(v, bytes) else str(v)


def upgrade_attrs(obj):
    n = 0
    for k in list(obj.attrs.keys()):
        t = obj.attrs.get_id(k).get_type()
        if isinstance(t, h5py.h5t.TypeStringID) and t.is_variable_str():
            v = obj.attrs[k]
            if isinstance(v, (str, bytes)):
                obj.attrs[k] = fixed_str(as_text(v))
            else:
                obj.attrs[k] = fixed_strs([as_text(x) for x in v.ravel()])
            n += 1
    return n


def upgrade_file(path):
    n = 0
    with h5py.File(path, "r+") as f:
        n += upgrade_attrs(f)
        for g in ("config", "preprocess"):
            if g in f:
                n += upgrade_attrs(f[g])
        if "labels" in f and h5py.check_string_dtype(f["labels"].dtype) and \
                f["labels"].dtype.kind == "O":
            labels = [as_text(x) for x in f["labels"][()]]
            del f["labels"]
            f.create_dataset("labels", data=fixed_strs(labels))
            n += 1
        shards = [as_text(x) for x in f.attrs.get("shard_files", [])]
    return n, shards


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model")
    a = ap.parse_args()
    try:
        n, shards = upgrade_file(a.model)
        for s in shards:
            m, _ = upgrade_file(os.path.join(os.path.dirname(a.model), s))
            n += m
    except (OSError, KeyError, ValueError) as e:
        sys.exit(f"upgrade_model.py: {a.model}: {e}")
    print(f"upgrade_model.py: {a.model}: {n} variable-length string(s) rewritten as fixed-length")


if __name__ == "__main__":
    main()
